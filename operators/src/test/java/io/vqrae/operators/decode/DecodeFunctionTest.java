package io.vqrae.operators.decode;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.MetricsConfig;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.operators.report.ReportConfig;
import io.vqrae.schemas.FailureStage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Every input leaves the decode stage as a model input or as one rejection; none fails the task. */
class DecodeFunctionTest {

    @Test
    void aRealPhotoBecomesTheModelsInput() throws Exception {
        int imageBytes = TestPaths.tinyManifest().imageBytes();
        try (var harness = harness()) {
            harness.processElement(input("flower", TestPaths.testImageBytes("flower_small.q85_420_non_interleaved.jpg")), 0);
            assertThat(harness.extractOutputValues()).singleElement().satisfies(image -> {
                assertThat(image.id()).isEqualTo("flower");
                assertThat(image.chw()).hasSize(imageBytes);
                assertThat(image.sha256()).hasSize(64);
            });
            assertThat(harness.getSideOutput(DecodeFunction.REJECTED)).isNullOrEmpty();
        }
    }

    @Test
    void anExtremelyElongatedImageWithinThePixelLimitIsPreprocessed() throws Exception {
        // 1 x 3,000,000 pixels is within the pixel limit; a whole-image resize pass would need a 2.3 GB
        // intermediate (and overflowed an int before the resampler went row by row).
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(1, 3_000_000, BufferedImage.TYPE_INT_RGB), "png", png);
        int imageBytes = TestPaths.tinyManifest().imageBytes();
        try (var harness = harness()) {
            harness.processElement(input("needle", png.toByteArray()), 0);
            assertThat(harness.extractOutputValues()).singleElement().satisfies(image -> {
                assertThat(image.id()).isEqualTo("needle");
                assertThat(image.chw()).hasSize(imageBytes).containsOnly(0);
            });
            assertThat(harness.getSideOutput(DecodeFunction.REJECTED)).isNullOrEmpty();
        }
    }

    @Test
    void undecodableBytesAreRejectedWithTheDecodersReason() throws Exception {
        byte[] html = "<!doctype html><title>not an image</title>".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var harness = harness()) {
            harness.processElement(input("page", html), 0);
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(DecodeFunction.REJECTED)).singleElement()
                    .extracting(StreamRecord::getValue)
                    .satisfies(rejection -> {
                        assertThat(rejection.id()).isEqualTo("page");
                        assertThat(rejection.stage()).isEqualTo(FailureStage.decode);
                        assertThat(rejection.reason().code()).isEqualTo("unsupported_format");
                        assertThat(rejection.original()).isEqualTo(html);
                        assertThat(rejection.origin().offset()).isEqualTo(7L);
                    });
        }
    }

    private static OneInputStreamOperatorTestHarness<InputImage, PreprocessedImage> harness() throws Exception {
        DecodeSpec spec = new DecodeSpec(TestPaths.tinyManifest(), InputLimits.DEFAULT,
                new MetricsSpec(MetricsConfig.OFF, MetricLabels.of("test", TestPaths.tinyManifest()), ReportConfig.OFF));
        var harness = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new DecodeFunction(spec)));
        harness.open();
        return harness;
    }

    private static InputImage input(String id, byte[] bytes) {
        return InputImage.of(id, bytes, Origin.of("in", 0, 7));
    }
}
