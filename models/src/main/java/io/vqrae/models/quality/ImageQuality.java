package io.vqrae.models.quality;

/**
 * How close a reconstruction is to its original: both uint8 images of the same layout and size. The
 * definitions are the training recipe's ({@code models/python/vqrae/metrics.py}), so Java and Python report
 * the same figures.
 */
public final class ImageQuality {
    /** What {@link #psnr} reports for identical images, whose PSNR is infinite. */
    public static final double IDENTICAL_PSNR_DB = 100;

    private static final int WINDOW = 11;
    private static final double SIGMA = 1.5;
    private static final double C1 = Math.pow(0.01 * 255, 2);
    private static final double C2 = Math.pow(0.03 * 255, 2);

    private ImageQuality() {}

    /** Peak signal-to-noise ratio in dB over all values, with 255 as the peak. */
    public static double psnr(byte[] original, byte[] reconstruction) {
        if (original.length != reconstruction.length || original.length == 0) {
            throw new IllegalArgumentException("Images of " + original.length + " and " + reconstruction.length + " values");
        }
        double squared = 0;
        for (int i = 0; i < original.length; i++) {
            int d = (original[i] & 0xff) - (reconstruction[i] & 0xff);
            squared += d * d;
        }
        double mse = squared / original.length;
        return mse == 0 ? IDENTICAL_PSNR_DB : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    /**
     * Mean SSIM (Wang et al. 2004) of two uint8 [3, H, W] images: an 11-tap Gaussian window with sigma 1.5,
     * 'valid' filtering (no padding), constants (0.01 L)^2 and (0.03 L)^2 with L = 255, the SSIM map averaged
     * over each RGB channel and the three channels averaged.
     */
    public static double ssim(byte[] original, byte[] reconstruction, int height, int width) {
        if (original.length != 3 * height * width || reconstruction.length != original.length) {
            throw new IllegalArgumentException("Expected two [3, " + height + ", " + width + "] images");
        }
        if (height < WINDOW || width < WINDOW) {
            throw new IllegalArgumentException("SSIM needs images of at least " + WINDOW + " x " + WINDOW);
        }
        double[] window = gaussianWindow();
        int plane = height * width;
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            double[] x = new double[plane];
            double[] y = new double[plane];
            for (int i = 0; i < plane; i++) {
                x[i] = original[c * plane + i] & 0xff;
                y[i] = reconstruction[c * plane + i] & 0xff;
            }
            double[] xx = new double[plane];
            double[] yy = new double[plane];
            double[] xy = new double[plane];
            for (int i = 0; i < plane; i++) {
                xx[i] = x[i] * x[i];
                yy[i] = y[i] * y[i];
                xy[i] = x[i] * y[i];
            }
            double[] muX = blur(x, height, width, window);
            double[] muY = blur(y, height, width, window);
            double[] eXX = blur(xx, height, width, window);
            double[] eYY = blur(yy, height, width, window);
            double[] eXY = blur(xy, height, width, window);
            double channel = 0;
            for (int i = 0; i < muX.length; i++) {
                double sxx = eXX[i] - muX[i] * muX[i];
                double syy = eYY[i] - muY[i] * muY[i];
                double sxy = eXY[i] - muX[i] * muY[i];
                channel += ((2 * muX[i] * muY[i] + C1) * (2 * sxy + C2))
                        / ((muX[i] * muX[i] + muY[i] * muY[i] + C1) * (sxx + syy + C2));
            }
            sum += channel / muX.length;
        }
        return sum / 3;
    }

    private static double[] gaussianWindow() {
        double[] g = new double[WINDOW];
        double total = 0;
        for (int i = 0; i < WINDOW; i++) {
            double d = i - (WINDOW - 1) / 2.0;
            g[i] = Math.exp(-(d * d) / (2 * SIGMA * SIGMA));
            total += g[i];
        }
        for (int i = 0; i < WINDOW; i++) {
            g[i] /= total;
        }
        return g;
    }

    /** Separable 'valid' filter: rows then columns; the result is (H - 10) x (W - 10). */
    private static double[] blur(double[] plane, int height, int width, double[] window) {
        int outW = width - WINDOW + 1;
        int outH = height - WINDOW + 1;
        double[] rows = new double[height * outW];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < outW; x++) {
                double v = 0;
                for (int k = 0; k < WINDOW; k++) {
                    v += plane[y * width + x + k] * window[k];
                }
                rows[y * outW + x] = v;
            }
        }
        double[] out = new double[outH * outW];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                double v = 0;
                for (int k = 0; k < WINDOW; k++) {
                    v += rows[(y + k) * outW + x] * window[k];
                }
                out[y * outW + x] = v;
            }
        }
        return out;
    }
}
