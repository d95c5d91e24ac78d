package io.vqrae.operators.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Decodes in one JVM hold at most the decode memory together; an image that could never fit is refused. */
class DecodeMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void aDecodeWaitsWhileOthersHoldTheMemoryItNeeds() throws Exception {
        DecodeMemory memory = new DecodeMemory(100 * MIB);
        DecodeMemory.Reservation large = memory.reserve(10 * MIB); // 70 MiB

        CompletableFuture<DecodeMemory.Reservation> second = CompletableFuture.supplyAsync(() -> memory.reserve(5 * MIB)); // 35 MiB
        while (memory.waiting() == 0 && !second.isDone()) {
            Thread.sleep(10);
        }
        assertThat(second).as("waits for the 70 MiB held").isNotDone();
        try (DecodeMemory.Reservation small = memory.reserve(0)) {
            assertThat(small).as("a header that declares nothing reserves nothing").isNotNull();
        }

        large.close();
        second.get(1, TimeUnit.MINUTES).close();
        memory.reserve(14 * MIB).close(); // 98 MiB: everything was released
    }

    @Test
    void heldBytesAndWaitTimeAreWhatTheMetricsServe() throws Exception {
        DecodeMemory memory = new DecodeMemory(100 * MIB);
        assertThat(memory.heldBytes()).isZero();
        DecodeMemory.Reservation large = memory.reserve(10 * MIB); // 70 MiB
        assertThat(memory.heldBytes()).isEqualTo(70 * MIB);
        double waitedBefore = memory.waitedSeconds();

        CompletableFuture<DecodeMemory.Reservation> second = CompletableFuture.supplyAsync(() -> memory.reserve(5 * MIB)); // 35 MiB
        while (memory.waiting() == 0) {
            Thread.sleep(10);
        }
        assertThat(memory.waiting()).isEqualTo(1);
        Thread.sleep(50);
        large.close();
        second.get(1, TimeUnit.MINUTES).close();

        assertThat(memory.waiting()).isZero();
        assertThat(memory.heldBytes()).isZero();
        assertThat(memory.waitedSeconds() - waitedBefore).as("the second decode waited at least the 50 ms slept").isGreaterThanOrEqualTo(0.05);
    }

    @Test
    void anImageThatCouldNeverFitIsRefusedInsteadOfWaitedFor() {
        DecodeMemory memory = new DecodeMemory(70 * MIB);

        assertThat(memory.fits(10 * MIB)).isTrue();
        assertThat(memory.fits(10 * MIB + 1)).isFalse();
        assertThatThrownBy(() -> memory.reserve(10 * MIB + 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void thePreparerRejectsAnImageTheDecodeMemoryCannotHoldAsTooManyPixels() {
        // 2268 x 1512 pixels take 23 MiB at 7 bytes a pixel; the budget holds 10 MiB.
        ImagePreparer preparer = new ImagePreparer(TestPaths.tinyManifest(), InputLimits.DEFAULT, new DecodeMemory(10 * MIB));

        ImagePreparer.Outcome photo = preparer.prepare(
                InputImage.of("photo", TestPaths.testImageBytes("flower.png.im_q85_420_progr.jpg"), Origin.of("t", 0, 0)));
        ImagePreparer.Outcome small = preparer.prepare(
                InputImage.of("small", TestPaths.testImageBytes("flower_small.q85_420_non_interleaved.jpg"), Origin.of("t", 0, 1)));

        assertThat(photo).isInstanceOfSatisfying(ImagePreparer.Rejected.class, rejected -> {
            assertThat(rejected.rejection().reason().code()).isEqualTo("too_many_pixels");
            assertThat(rejected.rejection().message()).contains("3429216 pixels need about 22 MiB", "limits.max-pixels");
        });
        assertThat(small).isInstanceOf(ImagePreparer.Prepared.class);
    }
}
