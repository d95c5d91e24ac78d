package io.vqrae.models.preprocess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vqrae.models.image.DecodedImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.Arguments;
import java.util.stream.Stream;

/**
 * The resampler on a tiny 5x4 image with high-contrast values (so bicubic overshoot is clipped),
 * against outputs generated once with Pillow 9.4 {@code vqrae.preprocess.preprocess} and pasted here.
 */
class ResamplerTest {

    /** 5x4 interleaved RGB: (x*53 + y*91 + c*37 + (x+y odd ? 255 : 0)) mod 256. */
    private static final int[] INPUT = {
        0, 37, 74, 52, 89, 126, 106, 143, 180, 158, 195, 232, 212, 249, 30, 90, 127, 164, 144, 181, 218, 196, 233, 14,
        250, 31, 68, 46, 83, 120, 182, 219, 0, 234, 15, 52, 32, 69, 106, 84, 121, 158, 138, 175, 212, 16, 53, 90, 70,
        107, 144, 122, 159, 196, 176, 213, 250, 228, 9, 46
    };

    static Stream<Arguments> pillowOutputs() {
        return Stream.of(
                Arguments.of(new PreprocessSpec(2, 3, ResizeFilter.BILINEAR, CropMode.NONE), new int[] {
                    87, 142, 154, 120, 118, 157, 108, 147, 145, 111, 123, 115, 124, 123, 119, 85, 140, 152}),
                Arguments.of(new PreprocessSpec(2, 3, ResizeFilter.BICUBIC, CropMode.NONE), new int[] {
                    82, 149, 155, 124, 116, 156, 109, 149, 147, 110, 121, 114, 128, 123, 115, 78, 144, 157}),
                Arguments.of(new PreprocessSpec(7, 9, ResizeFilter.BICUBIC, CropMode.NONE), new int[] {
                    0, 5, 39, 69, 99, 126, 158, 207, 231, 22, 36, 70, 104, 139, 175, 191, 170, 155, 79, 96, 131, 163,
                    197, 245, 237, 108, 34, 148, 170, 205, 167, 114, 146, 162, 103, 68, 173, 198, 234, 145, 31, 46,
                    90, 130, 150, 66, 85, 121, 109, 89, 113, 149, 189, 209, 0, 15, 50, 89, 129, 160, 189, 223, 239,
                    26, 42, 76, 105, 136, 176, 215, 250, 255, 56, 76, 116, 152, 176, 156, 144, 180, 199, 115, 135,
                    175, 219, 234, 120, 31, 67, 92, 197, 162, 103, 119, 151, 97, 61, 107, 134, 231, 157, 28, 20, 68,
                    102, 133, 161, 174, 110, 95, 74, 90, 126, 173, 181, 100, 58, 34, 58, 107, 139, 166, 216, 205, 59,
                    0, 63, 78, 112, 152, 193, 242, 231, 86, 5, 103, 123, 158, 146, 126, 163, 172, 91, 44, 161, 187,
                    224, 134, 19, 36, 78, 104, 116, 80, 100, 135, 97, 44, 63, 105, 161, 189, 0, 11, 45, 78, 113, 143,
                    170, 197, 210, 54, 69, 103, 137, 172, 215, 218, 136, 89, 93, 110, 145, 174, 203, 253, 242, 96, 14}),
                // Height unchanged: only the horizontal pass runs.
                Arguments.of(new PreprocessSpec(4, 3, ResizeFilter.BILINEAR, CropMode.NONE), new int[] {
                    22, 106, 189, 113, 196, 133, 204, 88, 115, 39, 122, 206, 59, 143, 226, 150, 177, 61, 132, 69,
                    152, 76, 159, 96, 96, 180, 117, 187, 71, 98, 22, 106, 189, 113, 196, 133}),
                // Resize to 4x3 (torchvision rule), then a 3x3 crop at left = round(0.5) = 0.
                Arguments.of(new PreprocessSpec(3, 3, ResizeFilter.BICUBIC, CropMode.CENTER), new int[] {
                    35, 138, 180, 168, 148, 117, 83, 106, 184, 81, 159, 182, 148, 117, 102, 85, 135, 117, 126, 157,
                    106, 105, 79, 145, 77, 183, 154}),
                // Resize to 2x2 after 5x4 -> int(2 * 5 / 4) = 2: no crop offset.
                Arguments.of(new PreprocessSpec(2, 2, ResizeFilter.BILINEAR, CropMode.CENTER), new int[] {
                    108, 154, 121, 140, 125, 144, 111, 123, 125, 121, 105, 151}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pillowOutputs")
    void matchesPillowExactly(PreprocessSpec spec, int[] expectedChw) {
        byte[] actual = new Preprocessor(spec).toChw(input());
        assertArrayEquals(expectedChw, unsigned(actual));
    }

    @Test
    void sameSizeIsAPlanarCopy() {
        byte[] chw = Resampler.resizeToChw(input().rgb(), 5, 4, 5, 4, 0, 0, 5, 4, ResizeFilter.BICUBIC);
        for (int p = 0; p < 20; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(INPUT[p * 3 + c], chw[c * 20 + p] & 0xff, "pixel " + p + " channel " + c);
            }
        }
    }

    @Test
    void windowEqualsCropOfFullResize() {
        byte[] full = Resampler.resizeToChw(input().rgb(), 5, 4, 9, 7, 0, 0, 9, 7, ResizeFilter.BICUBIC);
        byte[] window = Resampler.resizeToChw(input().rgb(), 5, 4, 9, 7, 2, 3, 4, 2, ResizeFilter.BICUBIC);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(full[c * 63 + (3 + y) * 9 + 2 + x], window[c * 8 + y * 4 + x],
                            "at " + x + "," + y + " channel " + c);
                }
            }
        }
    }

    @Test
    void specRejectsInvalidValues() {
        assertThrows(IllegalArgumentException.class, () -> new PreprocessSpec(0, 256, ResizeFilter.BILINEAR, CropMode.NONE));
        assertThrows(IllegalArgumentException.class, () -> new PreprocessSpec(256, -1, ResizeFilter.BILINEAR, CropMode.NONE));
        assertThrows(IllegalArgumentException.class,
                () -> new PreprocessSpec(50_000, 50_000, ResizeFilter.BILINEAR, CropMode.NONE));
        assertThrows(NullPointerException.class, () -> new PreprocessSpec(256, 256, null, CropMode.NONE));
        assertThrows(NullPointerException.class, () -> new PreprocessSpec(256, 256, ResizeFilter.BICUBIC, null));
    }

    private static DecodedImage input() {
        byte[] rgb = new byte[INPUT.length];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) INPUT[i];
        }
        return new DecodedImage(5, 4, rgb, "png");
    }

    private static int[] unsigned(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xff;
        }
        return out;
    }

    @Test
    void elongatedStripsNeedNoFullHeightIntermediate() {
        // 1 x 3,000,000 is 9 MB decoded; a whole-image horizontal pass to 256 columns would need 2.3 GB.
        int height = 3_000_000;
        byte[] strip = new byte[height * 3];
        for (int y = 0; y < height; y++) {
            strip[y * 3] = 0x33;
            strip[y * 3 + 1] = 0x66;
            strip[y * 3 + 2] = (byte) 0x99;
        }
        for (CropMode crop : CropMode.values()) {
            byte[] chw = new Preprocessor(new PreprocessSpec(256, 256, ResizeFilter.BICUBIC, crop))
                    .toChw(new DecodedImage(1, height, strip, "png"));
            int plane = 256 * 256;
            for (int p = 0; p < plane; p += 997) {
                assertEquals(0x33, chw[p] & 0xff, 1.0, crop + " red");
                assertEquals(0x66, chw[plane + p] & 0xff, 1.0, crop + " green");
                assertEquals(0x99, chw[2 * plane + p] & 0xff, 1.0, crop + " blue");
            }
        }
    }
}
