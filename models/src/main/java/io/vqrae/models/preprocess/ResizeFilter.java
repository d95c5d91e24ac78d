package io.vqrae.models.preprocess;

import java.util.Locale;

/** Resampling filters, with the kernels and supports of Pillow's libImaging/Resample.c. */
public enum ResizeFilter {
    /** Triangle kernel, support 1 (Pillow {@code Image.BILINEAR}). */
    BILINEAR(1.0) {
        @Override
        double kernel(double x) {
            double ax = Math.abs(x);
            return ax < 1.0 ? 1.0 - ax : 0.0;
        }
    },
    /** Keys cubic convolution with a = -0.5, support 2 (Pillow {@code Image.BICUBIC}). */
    BICUBIC(2.0) {
        @Override
        double kernel(double x) {
            // Same operation order as Pillow so the doubles, and hence the fixed-point taps, are identical.
            final double a = -0.5;
            double ax = Math.abs(x);
            if (ax < 1.0) {
                return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
            }
            if (ax < 2.0) {
                return (((ax - 5) * ax + 8) * ax - 4) * a;
            }
            return 0.0;
        }
    };

    private final double support;

    ResizeFilter(double support) {
        this.support = support;
    }

    /** Kernel radius at scale 1, in source pixels. */
    double support() {
        return support;
    }

    abstract double kernel(double x);


    /** The lower-case name used in configs and by the Python reference. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
