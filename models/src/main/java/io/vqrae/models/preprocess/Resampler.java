package io.vqrae.models.preprocess;

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
 * (the centre crop) gives exactly the pixels Pillow would produce before cropping.
 */
final class Resampler {

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private Resampler() {}

    /**
     * Returns the window {@code [x0, x0 + w) x [y0, y0 + h)} of {@code rgb} ({@code inW x inH})
     * resized to {@code fullW x fullH}, as interleaved RGB.
     */
    static byte[] resize(byte[] rgb, int inW, int inH, int fullW, int fullH, int x0, int y0, int w, int h,
            ResizeFilter filter) {
        Taps vertical = fullH != inH ? Taps.compute(inH, fullH, y0, h, filter) : null;
        // Source rows the vertical pass reads; the horizontal pass only needs to produce those.
        int firstRow = vertical != null ? vertical.firstSource() : y0;
        int endRow = vertical != null ? vertical.endSource() : y0 + h;
        byte[] rows;
        if (fullW != inW) {
            rows = horizontal(rgb, inW, firstRow, endRow, Taps.compute(inW, fullW, x0, w, filter));
        } else {
            rows = copyWindow(rgb, inW, x0, firstRow, w, endRow - firstRow);
        }
        if (vertical == null) {
            return rows;
        }
        return vertical(rows, w, firstRow, vertical);
    }

    private static byte[] horizontal(byte[] in, int inW, int firstRow, int endRow, Taps taps) {
        int outW = taps.count.length;
        byte[] out = new byte[(endRow - firstRow) * outW * 3];
        int dst = 0;
        for (int y = firstRow; y < endRow; y++) {
            int row = y * inW * 3;
            for (int i = 0; i < outW; i++) {
                int kBase = i * taps.ksize;
                int src = row + taps.start[i] * 3;
                int r = HALF;
                int g = HALF;
                int b = HALF;
                for (int j = 0, n = taps.count[i]; j < n; j++, src += 3) {
                    int k = taps.k[kBase + j];
                    r += (in[src] & 0xff) * k;
                    g += (in[src + 1] & 0xff) * k;
                    b += (in[src + 2] & 0xff) * k;
                }
                out[dst++] = clip8(r);
                out[dst++] = clip8(g);
                out[dst++] = clip8(b);
            }
        }
        return out;
    }

    /** {@code in} holds source rows {@code firstRow...}; sums are exact integers, so row-major order is safe. */
    private static byte[] vertical(byte[] in, int w, int firstRow, Taps taps) {
        int outH = taps.count.length;
        int stride = w * 3;
        byte[] out = new byte[outH * stride];
        int[] acc = new int[stride];
        for (int i = 0; i < outH; i++) {
            java.util.Arrays.fill(acc, HALF);
            int kBase = i * taps.ksize;
            for (int j = 0, n = taps.count[i]; j < n; j++) {
                int k = taps.k[kBase + j];
                int src = (taps.start[i] + j - firstRow) * stride;
                for (int c = 0; c < stride; c++) {
                    acc[c] += (in[src + c] & 0xff) * k;
                }
            }
            int dst = i * stride;
            for (int c = 0; c < stride; c++) {
                out[dst + c] = clip8(acc[c]);
            }
        }
        return out;
    }

    private static byte[] copyWindow(byte[] in, int inW, int x0, int y0, int w, int h) {
        if (x0 == 0 && w == inW && y0 == 0 && in.length == w * h * 3) {
            return in;
        }
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(in, ((y0 + y) * inW + x0) * 3, out, y * w * 3, w * 3);
        }
        return out;
    }

    private static byte clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
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

        int firstSource() {
            return start[0];
        }

        int endSource() {
            int end = 0;
            for (int i = 0; i < start.length; i++) {
                end = Math.max(end, start[i] + count[i]);
            }
            return end;
        }
    }
}
