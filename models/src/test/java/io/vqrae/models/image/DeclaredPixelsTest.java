package io.vqrae.models.image;

import static io.vqrae.models.testing.ImageMutations.bmpHeader;
import static io.vqrae.models.testing.ImageMutations.gifWithScreen;
import static io.vqrae.models.testing.ImageMutations.jpegWithSize;
import static io.vqrae.models.testing.ImageMutations.pngHeaderOnly;
import static io.vqrae.models.testing.ImageMutations.webpWithCanvas;
import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The size a header declares, read without decoding: what a caller budgets memory by before a decode. */
class DeclaredPixelsTest {

    @Test
    void realFilesDeclareTheSizeTheyDecodeTo() throws Exception {
        for (String name : new String[] {"flower.png.im_q85_420_progr.jpg", "flower_small.q85_420_non_interleaved.jpg", "exif2c08.png",
                "derived_lossless.webp", "derived_animated.webp", "derived.bmp"}) {
            byte[] file = TestPaths.testImageBytes(name);
            DecodedImage image = ImageDecoder.withDefaults().decode(file);
            assertThat(ImageDecoder.declaredPixels(file)).as(name).isEqualTo((long) image.width() * image.height());
        }
    }

    @Test
    void bombsDeclareTheirFullSize() {
        byte[] jpeg = TestPaths.testImageBytes("flower_small.q85_420_non_interleaved.jpg");
        assertThat(ImageDecoder.declaredPixels(pngHeaderOnly(100_000, 100_000, 8, 6))).isEqualTo(10_000_000_000L);
        assertThat(ImageDecoder.declaredPixels(jpegWithSize(jpeg, 60_000, 60_000))).isEqualTo(3_600_000_000L);
        assertThat(ImageDecoder.declaredPixels(gifWithScreen(TestPaths.testImageBytes("traffic_light.gif"), 65_535, 65_535)))
                .isEqualTo(65_535L * 65_535);
        assertThat(ImageDecoder.declaredPixels(bmpHeader(65_000, -65_000, 24, 0, 0))).isEqualTo(65_000L * 65_000);
        assertThat(ImageDecoder.declaredPixels(webpWithCanvas(TestPaths.testImageBytes("derived_animated.webp"), 16_384, 16_384)))
                .isEqualTo(16_384L * 16_384);
    }

    @Test
    void whatHasNoReadableHeaderDeclaresNothing() {
        byte[] jpeg = TestPaths.testImageBytes("flower_small.q85_420_non_interleaved.jpg");
        assertThat(ImageDecoder.declaredPixels(new byte[0])).isZero();
        assertThat(ImageDecoder.declaredPixels("<html>404</html>".getBytes(StandardCharsets.US_ASCII))).isZero();
        assertThat(ImageDecoder.declaredPixels(Arrays.copyOf(jpeg, 20))).isZero();
        assertThat(ImageDecoder.declaredPixels(Arrays.copyOf(TestPaths.testImageBytes("exif2c08.png"), 20))).isZero();
    }
}
