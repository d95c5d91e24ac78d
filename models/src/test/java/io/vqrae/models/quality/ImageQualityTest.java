package io.vqrae.models.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ImageQualityTest {
    private static final int SIZE = 32;

    @Test
    void psnrAndSsimMatchThePythonRecipesDefinitions() {
        // Values from models/python/vqrae/metrics.py (psnr, ssim with data_range 255) on the same arrays.
        byte[] x = new byte[3 * SIZE * SIZE];
        byte[] y = new byte[x.length];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < SIZE; i++) {
                for (int j = 0; j < SIZE; j++) {
                    int v = (i * 7 + j * 13 + c * 29) % 256;
                    x[(c * SIZE + i) * SIZE + j] = (byte) v;
                    y[(c * SIZE + i) * SIZE + j] = (byte) Math.min(255, Math.max(0, v + (i * j) % 17 - 8));
                }
            }
        }
        assertThat(ImageQuality.psnr(x, y)).isCloseTo(33.9591043795591, within(1e-9));
        assertThat(ImageQuality.ssim(x, y, SIZE, SIZE)).isCloseTo(0.9853653311729431, within(1e-5));
    }

    @Test
    void identicalImagesAreTheBestCase() {
        byte[] x = new byte[3 * SIZE * SIZE];
        for (int i = 0; i < x.length; i++) {
            x[i] = (byte) (i * 31);
        }
        assertThat(ImageQuality.psnr(x, x.clone())).isEqualTo(ImageQuality.IDENTICAL_PSNR_DB);
        assertThat(ImageQuality.ssim(x, x.clone(), SIZE, SIZE)).isCloseTo(1.0, within(1e-12));
    }
}
