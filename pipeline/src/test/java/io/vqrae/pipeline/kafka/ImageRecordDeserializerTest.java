package io.vqrae.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.InputMetadata;
import io.vqrae.schemas.ImageRecord;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Whatever bytes are on the input topic, the source emits one input per record and never throws. */
class ImageRecordDeserializerTest {
    private static final byte[] VALID = encode(ImageRecord.newBuilder()
            .setId("img")
            .setImage(ByteBuffer.wrap(new byte[] {1, 2, 3}))
            .setMetadata(Map.of("license", "cc-by"))
            .build());

    private static byte[] encode(ImageRecord record) {
        try {
            ByteBuffer buffer = record.toByteBuffer();
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anImageRecordBecomesAReadableInputWithItsPosition() {
        InputImage input = deserialize(VALID);
        assertThat(input.readable()).isTrue();
        assertThat(input.id()).isEqualTo("img");
        assertThat(input.payload()).containsExactly(1, 2, 3);
        assertThat(input.origin().offset()).isEqualTo(9L);
    }

    @Test
    void whatTheRecordBringsBesidesTheImageTravelsWithTheInput() throws Exception {
        InputImage input = deserialize(encode(ImageRecord.newBuilder()
                .setId("bus").setImage(ByteBuffer.wrap(new byte[] {1})).setSourceUri("https://example.org/bus.jpg")
                .setMetadata(Map.of("license", "cc-by", "caption", "a red bus", "dataset", "laion"))
                .build()));
        assertThat(input.origin().metadata()).isEqualTo(new InputMetadata(
                "{\"caption\":\"a red bus\",\"dataset\":\"laion\",\"license\":\"cc-by\"}", "a red bus", "https://example.org/bus.jpg"));
        assertThat(deserialize(encode(ImageRecord.newBuilder().setId("bare").setImage(ByteBuffer.wrap(new byte[] {1})).build()))
                .origin().metadata()).isEqualTo(InputMetadata.NONE);

        // An ImageRecord written by the v1 code (schemas/fixtures/v1).
        InputImage v1 = deserialize(Files.readAllBytes(TestPaths.root().resolve("schemas/fixtures/v1/single-object/ImageRecord-v1-image.bin")));
        assertThat(v1.id()).isEqualTo("v1-image");
        assertThat(v1.payload()).hasSize(1554);
        assertThat(v1.origin().metadata()).isEqualTo(new InputMetadata("{\"caption\":\"a v1 image record\"}", "a v1 image record", "file:///fixtures/v1-a.png"));
    }

    @Test
    void garbageBecomesAnUnreadableInputKeepingTheKeyAndBytes() {
        byte[] header = Arrays.copyOf(VALID, 10);
        List<byte[]> garbage = new ArrayList<>(List.of(
                new byte[0],
                "plain text, not an ImageRecord".getBytes(StandardCharsets.UTF_8),
                Arrays.copyOf(VALID, VALID.length - 4),
                concat(header, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}),
                concat(header, new byte[] {0x01}),
                concat(header, new byte[] {0x06, 'i', 'm', 'g', 0x01})));
        Random random = new Random(17);
        for (int i = 0; i < 200; i++) {
            byte[] body = new byte[1 + random.nextInt(40)];
            random.nextBytes(body);
            garbage.add(concat(header, body));
        }
        for (byte[] value : garbage) {
            InputImage input = deserialize(value);
            if (input.readable()) {
                // Random bytes can happen to be a well-formed record; what matters is that nothing threw.
                continue;
            }
            assertThat(input.id()).isEqualTo("key");
            assertThat(input.payload()).isEqualTo(value);
            assertThat(input.unreadable().message()).startsWith("not an ImageRecord");
        }
    }

    @Test
    void aRecordDeclaringAnImageLargerThanItselfIsUnreadableWithoutAllocatingTheDeclaredSize() {
        // The header and id of VALID, then the image's length as a zig-zag varint: 2,146,435,072 bytes in a 20-byte record.
        byte[] bomb = concat(Arrays.copyOf(VALID, 14), new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0xff, 0x0f, 1, 2, 3});
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        InputImage input = deserialize(bomb);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(input.readable()).isFalse();
        assertThat(input.unreadable().message()).startsWith("not an ImageRecord");
        assertThat(allocated).as("bytes allocated").isLessThan(1 << 20);
    }

    private static InputImage deserialize(byte[] value) {
        List<InputImage> out = new ArrayList<>();
        new ImageRecordDeserializer().deserialize(
                new ConsumerRecord<>("in", 0, 9, "key".getBytes(StandardCharsets.UTF_8), value), new ListCollector<>(out));
        assertThat(out).hasSize(1);
        return out.get(0);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
