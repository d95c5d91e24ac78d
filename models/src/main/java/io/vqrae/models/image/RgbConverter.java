package io.vqrae.models.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.PackedColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;

/**
 * Turns a decoded {@link BufferedImage} into opaque interleaved 8-bit RGB the way Pillow's
 * {@code convert("RGB")} would, by reading raster samples directly.
 *
 * <p>{@code BufferedImage.getRGB} is deliberately not used: for gray images the JDK's gray colour
 * space is linear, so getRGB applies a gamma curve Pillow never does. Sample policies:
 * <ul>
 *   <li>indexed: the palette entry from the {@link IndexColorModel} (including its alpha);</li>
 *   <li>gray: replicated to R, G and B;</li>
 *   <li>16-bit samples: the high byte (what Pillow's "RGB;16B"-style unpackers keep);</li>
 *   <li>other depths (1-4-bit gray, 5/6-bit packed BMP): {@code round(v * 255 / (2^bits - 1))};</li>
 *   <li>embedded ICC profiles are ignored, as Pillow ignores them on conversion.</li>
 * </ul>
 * Pixels with alpha are composited over the background with Pillow's integer
 * {@code Image.alpha_composite} arithmetic, see {@link #over(int, int, int)}.
 */
final class RgbConverter {

    private RgbConverter() {}

    /**
     * Writes {@code image} into {@code out} (a {@code canvasWidth}-wide RGB buffer) at
     * ({@code left}, {@code top}), which must lie inside the canvas.
     */
    static void convert(BufferedImage image, byte[] out, int canvasWidth, int left, int top, int[] background)
            throws ImageDecodeException {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int w = raster.getWidth();
        int h = raster.getHeight();
        if (cm instanceof IndexColorModel icm) {
            convertIndexed(icm, raster, out, canvasWidth, left, top, background);
            return;
        }
        if (!(cm instanceof ComponentColorModel || cm instanceof PackedColorModel)
                || cm.isAlphaPremultiplied()
                || raster.getTransferType() == DataBuffer.TYPE_FLOAT
                || raster.getTransferType() == DataBuffer.TYPE_DOUBLE) {
            throw unsupported(cm);
        }
        int colorType = cm.getColorSpace().getType();
        int colors = cm.getNumColorComponents();
        boolean gray = colorType == ColorSpace.TYPE_GRAY && colors == 1;
        if (!gray && !(colorType == ColorSpace.TYPE_RGB && colors == 3)) {
            throw unsupported(cm);
        }
        boolean alpha = cm.hasAlpha();
        int bands = raster.getNumBands();
        if (bands != colors + (alpha ? 1 : 0)) {
            throw unsupported(cm);
        }
        SampleModel sm = raster.getSampleModel();
        int[] bits = sm.getSampleSize();
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, row);
            int dst = ((top + y) * canvasWidth + left) * 3;
            for (int x = 0, s = 0; x < w; x++, s += bands) {
                int r = to8(row[s], bits[0]);
                int g = gray ? r : to8(row[s + 1], bits[1]);
                int b = gray ? r : to8(row[s + 2], bits[2]);
                if (alpha) {
                    int a = to8(row[s + colors], bits[colors]);
                    r = over(r, background[0], a);
                    g = over(g, background[1], a);
                    b = over(b, background[2], a);
                }
                out[dst++] = (byte) r;
                out[dst++] = (byte) g;
                out[dst++] = (byte) b;
            }
        }
    }

    /**
     * Interleaved RGB from non-premultiplied RGBA: with {@code alpha} the pixels are composited over
     * {@code background}, without it the alpha samples are dropped (Pillow's mode RGB for a file that
     * declares no transparency).
     */
    static byte[] fromRgba(byte[] rgba, boolean alpha, int[] background) {
        byte[] rgb = new byte[rgba.length / 4 * 3];
        for (int s = 0, d = 0; s < rgba.length; s += 4, d += 3) {
            int r = rgba[s] & 0xff;
            int g = rgba[s + 1] & 0xff;
            int b = rgba[s + 2] & 0xff;
            if (alpha) {
                int a = rgba[s + 3] & 0xff;
                r = over(r, background[0], a);
                g = over(g, background[1], a);
                b = over(b, background[2], a);
            }
            rgb[d] = (byte) r;
            rgb[d + 1] = (byte) g;
            rgb[d + 2] = (byte) b;
        }
        return rgb;
    }

    private static void convertIndexed(IndexColorModel icm, Raster raster, byte[] out, int canvasWidth,
            int left, int top, int[] background) {
        int size = icm.getMapSize();
        int[] argb = new int[size];
        icm.getRGBs(argb);
        boolean alpha = icm.hasAlpha();
        // Out-of-palette indices (possible in damaged GIFs) render black, as Pillow's zero-padded palettes do.
        int[] lut = new int[Math.max(size, 1 << Math.min(icm.getPixelSize(), 16))];
        for (int i = 0; i < size; i++) {
            int a = argb[i] >>> 24;
            int r = (argb[i] >> 16) & 0xff;
            int g = (argb[i] >> 8) & 0xff;
            int b = argb[i] & 0xff;
            if (alpha) {
                r = over(r, background[0], a);
                g = over(g, background[1], a);
                b = over(b, background[2], a);
            }
            lut[i] = (r << 16) | (g << 8) | b;
        }
        int w = raster.getWidth();
        int[] row = new int[w];
        for (int y = 0; y < raster.getHeight(); y++) {
            raster.getSamples(0, y, w, 1, 0, row);
            int dst = ((top + y) * canvasWidth + left) * 3;
            for (int x = 0; x < w; x++) {
                int c = row[x] < lut.length ? lut[row[x]] : 0;
                out[dst++] = (byte) (c >> 16);
                out[dst++] = (byte) (c >> 8);
                out[dst++] = (byte) c;
            }
        }
    }

    private static int to8(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        if (bits == 16) {
            return sample >>> 8;
        }
        int max = (1 << bits) - 1;
        return (sample * 255 + max / 2) / max;
    }

    /**
     * One channel of Pillow's {@code alpha_composite(opaque background, pixel)}, in its exact
     * integer form (AlphaComposite.c, 7 extra precision bits, rounded division by 255). With an
     * opaque destination its {@code coef1 = a * 255 * 255 * 128 / (255 * 255)} is exactly
     * {@code a * 128}, which is what is used here.
     */
    static int over(int src, int dst, int alpha) {
        if (alpha == 0) {
            return dst;
        }
        int coef1 = alpha << 7;
        int coef2 = (255 << 7) - coef1;
        int tmp = src * coef1 + dst * coef2 + (0x80 << 7);
        return ((((tmp >>> 8) + tmp) >>> 8) >>> 7);
    }

    private static ImageDecodeException unsupported(ColorModel cm) {
        return new ImageDecodeException(DecodeFailure.UNSUPPORTED_COLOR_MODEL,
                cm.getClass().getSimpleName() + " with colour space type " + cm.getColorSpace().getType()
                        + ", " + cm.getNumComponents() + " components");
    }
}
