package io.vqrae.models.preprocess;

import java.util.Arrays;

/**
 * Pillow's convolution resize (libImaging/Resample.c, {@code Image.resize} with
 * {@code reducing_gap=None}) for interleaved 8-bit RGB, reproduced bit for bit.
 *
 * <p>No Java imaging library matches Pillow exactly (java.awt, imgscalr, Thumbnailator and
 * OpenCV all differ in kernel support, centre alignment or rounding), and the models were trained
 * on Pillow output, so the algorithm is re-implemented here:
 * <ul>
 *   <li>separable: a horizontal pass into an 8-bit intermediate (clipped), then a vertical pass;
 *       a pass is skipped when its dimension does not change;</li>
 *   <li>antialiased: when downscaling by {@code scale > 1} the kernel is stretched by
 *       {@code scale}, so its support becomes {@code support * scale};</li>
 *   <li>output pixel {@code i} is centred on source coordinate {@code (i + 0.5) * scale}; it
 *       reads source pixels {@code [(int)(center - support + 0.5), (int)(center + support + 0.5))}
 *       clamped to the image, weighted by {@code kernel((j - center + 0.5) / filterscale)};</li>
 *   <li>weights are normalised in double precision, then converted to fixed point with
 *       {@code PRECISION_BITS = 32 - 8 - 2} (rounded half away from zero); sums start at half an
 *       output unit and are clipped to 0..255 after the shift.</li>
 * </ul>
 * Every output pixel depends only on its own taps, so computing a window of the full-size result
 * (the centre crop), and computing it row by row, gives exactly the pixels Pillow would produce.
 */
final class Resampler {

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private Resampler() {}

    /**
     * Returns the window {@code [x0, x0 + w) x [y0, y0 + h)} of {@code rgb} ({@code inW x inH}, interleaved)
     * resized to {@code fullW x fullH}, as R, G and B planes of {@code w x h} (CHW).
     *
     * <p>The horizontal pass runs one source row at a time, on demand of the vertical pass, into a ring
     * of as many rows as one output row reads: memory stays at a few rows however tall the source is
     * (a 1 x 3,000,000 strip needs no 2 GB intermediate), and the integer sums are the same as Pillow's
     * whole-image passes. Ring rows are planar already, so the vertical pass reads and writes each plane
     * contiguously and no separate interleaved-to-planar copy is made.
     */
    static byte[] resizeToChw(byte[] rgb, int inW, int inH, int fullW, int fullH, int x0, int y0, int w, int h,
            ResizeFilter filter) {
        SourceRows rows = new SourceRows(rgb, inW, x0, w, fullW != inW ? Taps.compute(inW, fullW, x0, w, filter) : null);
        int plane = Math.multiplyExact(w, h);
        byte[] out = new byte[Math.multiplyExact(plane, 3)];
        if (fullH == inH) {
            int[] row = new int[w * 3];
            for (int y = 0; y < h; y++) {
                rows.write(y0 + y, row, 0);
                for (int c = 0; c < 3; c++) {
                    int dst = c * plane + y * w;
                    for (int x = 0; x < w; x++) {
                        out[dst + x] = (byte) row[c * w + x];
                    }
                }
            }
            return out;
        }
        Taps taps = Taps.compute(inH, fullH, y0, h, filter);
        int capacity = taps.maxCount();
        int stride = w * 3;
        // Source row y at (y % capacity) * stride, widened to int so that the loop below vectorizes (C2 does
        // not vectorize byte-to-int widening in a multiply-add).
        int[] ring = new int[Math.multiplyExact(capacity, stride)];
        int[] acc = new int[stride];
        int loadedEnd = 0; // source rows [loadedEnd - capacity, loadedEnd) are in the ring
        for (int i = 0; i < h; i++) {
            int first = taps.start[i];
            int end = first + taps.count[i];
            // Windows only move forward; a row no window reads is never computed.
            for (int y = Math.max(loadedEnd, first); y < end; y++) {
                rows.write(y, ring, (y % capacity) * stride);
            }
            loadedEnd = Math.max(loadedEnd, end);
            Arrays.fill(acc, HALF);
            int kBase = i * taps.ksize;
            for (int y = first; y < end; y++) {
                int k = taps.k[kBase + y - first];
                int src = (y % capacity) * stride;
                for (int x = 0; x < stride; x++) {
                    acc[x] += ring[src + x] * k;
                }
            }
            for (int c = 0; c < 3; c++) {
                int dst = c * plane + i * w;
                int channel = c * w;
                for (int x = 0; x < w; x++) {
                    out[dst + x] = (byte) clip(acc[channel + x]);
                }
            }
        }
        return out;
    }

    /**
     * Source rows after the horizontal pass (or cut to the window when the width does not change),
     * written planar: {@code w} reds, then {@code w} greens, then {@code w} blues.
     */
    private static final class SourceRows {
        private final byte[] in;
        private final int inW;
        private final int x0;
        private final int w;
        private final Taps taps;
        private final int[] sourceOffsets;

        SourceRows(byte[] in, int inW, int x0, int w, Taps taps) {
            this.in = in;
            this.inW = inW;
            this.x0 = x0;
            this.w = w;
            this.taps = taps;
            this.sourceOffsets = new int[w];
            for (int i = 0; i < w; i++) {
                sourceOffsets[i] = (taps == null ? x0 + i : taps.start[i]) * 3;
            }
        }

        /** Writes source row {@code y}, {@code w} pixels as three planes, to {@code out} at {@code offset}. */
        void write(int y, int[] out, int offset) {
            int row = Math.multiplyExact(Math.multiplyExact(y, inW), 3);
            int green = offset + w;
            int blue = green + w;
            if (taps == null) {
                for (int i = 0; i < w; i++) {
                    int src = row + sourceOffsets[i];
                    out[offset + i] = in[src] & 0xff;
                    out[green + i] = in[src + 1] & 0xff;
                    out[blue + i] = in[src + 2] & 0xff;
                }
                return;
            }
            int[] k = taps.k;
            int[] count = taps.count;
            int ksize = taps.ksize;
            byte[] in = this.in;
            for (int i = 0; i < w; i++) {
                int kBase = i * ksize;
                int src = row + sourceOffsets[i];
                int n = count[i];
                int r = HALF;
                int g = HALF;
                int b = HALF;
                // Two taps per step: the two products of a channel are independent, so they overlap.
                int j = 0;
                for (; j + 1 < n; j += 2) {
                    int w0 = k[kBase + j];
                    int w1 = k[kBase + j + 1];
                    int p = src + 3 * j;
                    r += (in[p] & 0xff) * w0 + (in[p + 3] & 0xff) * w1;
                    g += (in[p + 1] & 0xff) * w0 + (in[p + 4] & 0xff) * w1;
                    b += (in[p + 2] & 0xff) * w0 + (in[p + 5] & 0xff) * w1;
                }
                if (j < n) {
                    int weight = k[kBase + j];
                    int p = src + 3 * j;
                    r += (in[p] & 0xff) * weight;
                    g += (in[p + 1] & 0xff) * weight;
                    b += (in[p + 2] & 0xff) * weight;
                }
                out[offset + i] = clip(r);
                out[green + i] = clip(g);
                out[blue + i] = clip(b);
            }
        }
    }

    /** The 8-bit value of a fixed-point sum: shifted, then clipped to 0..255. */
    private static int clip(int sum) {
        int v = sum >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** Fixed-point taps of output indices {@code [first, first + n)} along one axis. */
    static final class Taps {
        final int[] start;
        final int[] count;
        final int[] k;
        final int ksize;

        private Taps(int[] start, int[] count, int[] k, int ksize) {
            this.start = start;
            this.count = count;
            this.k = k;
            this.ksize = ksize;
        }

        static Taps compute(int inSize, int outSize, int first, int n, ResizeFilter filter) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = filter.support() * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] start = new int[n];
            int[] count = new int[n];
            int[] k = new int[n * ksize];
            double[] weights = new double[ksize];
            double inverseScale = 1.0 / filterScale;
            for (int i = 0; i < n; i++) {
                double center = (first + i + 0.5) * scale;
                // (int) truncates toward zero like Pillow's C casts; negatives are clamped anyway.
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize) - min;
                double total = 0.0;
                for (int j = 0; j < max; j++) {
                    double weight = filter.kernel((j + min - center + 0.5) * inverseScale);
                    weights[j] = weight;
                    total += weight;
                }
                for (int j = 0; j < max; j++) {
                    double normalised = total != 0.0 ? weights[j] / total : weights[j];
                    double scaled = normalised * (1 << PRECISION_BITS);
                    k[i * ksize + j] = (int) (normalised < 0 ? scaled - 0.5 : scaled + 0.5);
                }
                start[i] = min;
                count[i] = max;
            }
            return new Taps(start, count, k, ksize);
        }

        /** The most source pixels one output pixel reads. */
        int maxCount() {
            int max = 1;
            for (int c : count) {
                max = Math.max(max, c);
            }
            return max;
        }
    }
}
