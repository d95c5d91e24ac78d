package io.vqrae.models.quality;

/** How close a reconstruction is to its original: both uint8 images of the same layout and size. */
public final class ImageQuality {
    /** What {@link #psnr} reports for identical images, whose PSNR is infinite. */
    public static final double IDENTICAL_PSNR_DB = 100;

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
}
