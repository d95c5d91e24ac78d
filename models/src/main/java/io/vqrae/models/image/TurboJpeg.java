package io.vqrae.models.image;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.util.Locale;

/**
 * JPEG decoding with libjpeg-turbo's TurboJPEG API, the library Pillow decodes JPEG with.
 *
 * <p>Why a binding of our own: no maintained Java library on Maven Central wraps libjpeg-turbo (its own
 * Java wrapper is not published there), and the JDK's built-in libjpeg 6b decodes the same pixels at a
 * third of the speed, without SIMD. TurboJPEG's defaults are the accurate integer IDCT and "fancy"
 * (triangular) chroma upsampling, which is what Pillow asks libjpeg for, so the pixels are Pillow's.
 * The six functions are bound with JNA direct mapping from the host's {@code libturbojpeg}
 * (Debian/Ubuntu package {@code libturbojpeg0}, Homebrew {@code jpeg-turbo}), see {@link NativeCodecs}.
 *
 * <p>Each decode creates and destroys its own TurboJPEG handle, so this class holds no state and is
 * safe to use from any number of threads.
 */
final class TurboJpeg {

    // turbojpeg.h: TJPF_RGB, TJCS_CMYK, TJCS_YCCK, TJERR_WARNING.
    private static final int PIXEL_FORMAT_RGB = 0;
    private static final int COLORSPACE_CMYK = 3;
    private static final int COLORSPACE_YCCK = 4;
    private static final int ERROR_WARNING = 0;

    static {
        NativeCodecs.register(TurboJpeg.class, NativeCodecs.TURBOJPEG);
    }

    private TurboJpeg() {}

    /** Decoded interleaved RGB, {@code width * height * 3} bytes. */
    record Pixels(int width, int height, byte[] rgb) {}

    /**
     * The reduction a draft decode of a {@code width x height} JPEG takes for a {@code minWidth x minHeight} target:
     * the largest of 8, 4, 2 and 1 that leaves both sides at least the target's, Pillow's {@code draft} rule
     * (libjpeg scales the DCT by 1/8, 1/4, 1/2; a decoded side is the ceiling of side / reduction).
     */
    static int draftReduction(int width, int height, int minWidth, int minHeight) {
        int fits = Math.min(width / minWidth, height / minHeight);
        for (int reduction : new int[] {8, 4, 2}) {
            if (fits >= reduction) {
                return reduction;
            }
        }
        return 1;
    }

    /** A side of a JPEG decoded at {@code 1 / reduction} of its size: libjpeg's rounding up. */
    static int reduced(int side, int reduction) {
        return (side + reduction - 1) / reduction;
    }

    /**
     * Decodes to interleaved RGB, checking the header's size against {@code maxPixels} before anything is
     * allocated for pixels ({@code segments}, read by {@link Containers#jpegHeader}, tells a header cut short
     * from a broken one); returns {@code null} for a CMYK or YCCK stream, which libjpeg does not convert
     * to RGB. libjpeg only warns about a stream that ends early and pads the rest with gray; Pillow refuses
     * such a file, and so does this method. Other warnings (extraneous bytes before a marker, say) keep the
     * pixels, as in Pillow.
     *
     * @param draftWidth with {@code draftHeight}, decode at the smallest DCT scale that still gives at least
     *     this size ({@link #draftReduction}); 0 decodes at full size
     */
    static Pixels decode(byte[] jpeg, Containers.JpegHeader segments, long maxPixels, int draftWidth, int draftHeight)
            throws ImageDecodeException {
        Pointer handle = tjInitDecompress();
        if (handle == null) {
            throw new OutOfMemoryError("tjInitDecompress: " + tjGetErrorStr2(null));
        }
        try {
            NativeLong size = new NativeLong(jpeg.length);
            int[] width = new int[1];
            int[] height = new int[1];
            int[] colorspace = new int[1];
            int status = tjDecompressHeader3(handle, jpeg, size, width, height, new int[1], colorspace);
            // libjpeg meets the end of a stream cut inside its header as a fake EOI: "missing SOS marker", or no
            // error and a size of 0 when the cut comes before the frame header. Pillow calls both truncated.
            if ((status != 0 || width[0] <= 0 || height[0] <= 0) && segments.cutBeforeScan()) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED, "JPEG ends before its first scan");
            }
            if (status != 0) {
                throw failure(handle, "JPEG header");
            }
            Containers.checkDimensions(width[0], height[0], maxPixels);
            if (colorspace[0] == COLORSPACE_CMYK || colorspace[0] == COLORSPACE_YCCK) {
                return null;
            }
            int reduction = draftWidth > 0 ? draftReduction(width[0], height[0], draftWidth, draftHeight) : 1;
            int w = reduced(width[0], reduction);
            int h = reduced(height[0], reduction);
            byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
            // Asked for exactly a scaled size, TurboJPEG picks that scaling factor.
            if (tjDecompress2(handle, jpeg, size, rgb, w, 0, h, PIXEL_FORMAT_RGB, 0) != 0
                    && (tjGetErrorCode(handle) != ERROR_WARNING || isTruncation(tjGetErrorStr2(handle)))) {
                throw failure(handle, "JPEG");
            }
            return new Pixels(w, h, rgb);
        } finally {
            tjDestroy(handle);
        }
    }

    private static ImageDecodeException failure(Pointer handle, String what) {
        String message = tjGetErrorStr2(handle);
        DecodeFailure reason = isTruncation(message) ? DecodeFailure.TRUNCATED : DecodeFailure.CORRUPT;
        return new ImageDecodeException(reason, what + ": " + message);
    }

    /**
     * libjpeg's JWRN_JPEG_EOF ("Premature end of JPEG file"): the data ended. Not JWRN_HIT_MARKER ("Corrupt JPEG
     * data: premature end of data segment"), damage inside a complete file, which Pillow decodes anyway.
     */
    private static boolean isTruncation(String message) {
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        return m.contains("premature end of jpeg file") || m.contains("empty input") || m.contains("insufficient data");
    }

    private static native Pointer tjInitDecompress();

    private static native int tjDecompressHeader3(Pointer handle, byte[] jpeg, NativeLong size, int[] width,
            int[] height, int[] subsampling, int[] colorspace);

    private static native int tjDecompress2(Pointer handle, byte[] jpeg, NativeLong size, byte[] dst, int width,
            int pitch, int height, int pixelFormat, int flags);

    private static native String tjGetErrorStr2(Pointer handle);

    private static native int tjGetErrorCode(Pointer handle);

    private static native int tjDestroy(Pointer handle);
}
