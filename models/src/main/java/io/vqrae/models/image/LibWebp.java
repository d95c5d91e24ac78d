package io.vqrae.models.image;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * WebP decoding with libwebp, the library Pillow decodes WebP with, and the way Pillow drives it: every file
 * (still or animated, lossy or lossless, with or without alpha) goes through libwebpdemux's
 * {@code WebPAnimDecoder} in non-premultiplied RGBA, and the first frame's canvas is the image.
 *
 * <p>Why a binding of our own: the Java WebP decoders differ from libwebp on lossy files (TwelveMonkeys'
 * VP8 decoder changed 64 % of the samples of q80 photos, by up to 158 levels, and a fifth of their tokens),
 * and the bindings on Maven Central that bundle libwebp load a private copy of the library per class loader.
 * The few functions needed are bound with JNA direct mapping to the host's libwebp and libwebpdemux, see
 * {@link NativeCodecs}. Structs are passed as int arrays of their exact layout (all their fields are 32-bit)
 * or as {@link Memory}.
 *
 * <p>Stateless and safe to use from any number of threads: each decode owns its decoder and buffers.
 */
final class LibWebp {

    // decode.h / demux.h ABI versions of libwebp 1.x; the libraries accept any minor version of these majors.
    private static final int DECODER_ABI_VERSION = 0x0209;
    private static final int DEMUX_ABI_VERSION = 0x0107;
    private static final int MODE_RGBA = 1;
    private static final int STATUS_NOT_ENOUGH_DATA = 7;
    // WebPBitstreamFeatures: width, height, has_alpha, has_animation, format, pad[5].
    private static final int FEATURES_INTS = 10;
    // WebPAnimDecoderOptions: color_mode, use_threads, padding[7].
    private static final int OPTIONS_INTS = 9;
    // WebPAnimInfo: canvas_width, canvas_height, loop_count, bgcolor, frame_count, pad[4].
    private static final int ANIM_INFO_INTS = 9;

    static {
        NativeCodecs.register(LibWebp.class, NativeCodecs.WEBP);
    }

    private LibWebp() {}

    /**
     * The first frame on its canvas as non-premultiplied RGBA ({@code width * height * 4} bytes), and whether
     * the file declares transparency (Pillow's mode RGBA rather than RGB).
     */
    record Canvas(int width, int height, boolean alpha, byte[] rgba) {}

    /** Decodes, checking the header's canvas size against {@code maxPixels} before anything is allocated for pixels. */
    /** Width x height (an animation's canvas) as the header declares it; 0 when libwebp cannot read the header. */
    static long declaredPixels(byte[] webp) {
        int[] features = new int[FEATURES_INTS];
        return WebPGetFeaturesInternal(webp, webp.length, features, DECODER_ABI_VERSION) == 0 ? (long) features[0] * features[1] : 0;
    }

    static Canvas decode(byte[] webp, long maxPixels) throws ImageDecodeException {
        int[] features = new int[FEATURES_INTS];
        int status = WebPGetFeaturesInternal(webp, webp.length, features, DECODER_ABI_VERSION);
        if (status != 0) {
            throw new ImageDecodeException(status == STATUS_NOT_ENOUGH_DATA ? DecodeFailure.TRUNCATED : DecodeFailure.CORRUPT,
                    "WebP header: libwebp status " + status);
        }
        int width = features[0];
        int height = features[1];
        Containers.checkDimensions(width, height, maxPixels);
        byte[] rgba = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 4)];
        try (Memory data = new Memory(webp.length); Memory webpData = new Memory(2L * Native.POINTER_SIZE);
                Memory frame = new Memory(Native.POINTER_SIZE)) {
            data.write(0, webp, 0, webp.length);
            // WebPData {const uint8_t* bytes; size_t size;}
            webpData.setPointer(0, data);
            webpData.setLong(Native.POINTER_SIZE, webp.length);
            int[] options = new int[OPTIONS_INTS];
            if (Demux.WebPAnimDecoderOptionsInitInternal(options, DEMUX_ABI_VERSION) == 0) {
                throw new IllegalStateException("libwebpdemux refused ABI version " + Integer.toHexString(DEMUX_ABI_VERSION));
            }
            options[0] = MODE_RGBA;
            Pointer decoder = Demux.WebPAnimDecoderNewInternal(webpData, options, DEMUX_ABI_VERSION);
            if (decoder == null) {
                throw new ImageDecodeException(DecodeFailure.CORRUPT, "WebP: libwebpdemux cannot parse the container");
            }
            try {
                // The canvas the decoder will hand back must be the size checked and allocated for: reading a
                // different one would run past its native buffer.
                int[] info = new int[ANIM_INFO_INTS];
                if (Demux.WebPAnimDecoderGetInfo(decoder, info) == 0
                        || info[0] != width || info[1] != height) {
                    throw new ImageDecodeException(DecodeFailure.CORRUPT, "WebP: the container's canvas "
                            + info[0] + "x" + info[1] + " differs from its header's " + width + "x" + height);
                }
                if (Demux.WebPAnimDecoderGetNext(decoder, frame, new int[1]) == 0) {
                    throw new ImageDecodeException(DecodeFailure.CORRUPT, "WebP: libwebp cannot decode the first frame");
                }
                frame.getPointer(0).read(0, rgba, 0, rgba.length);
            } finally {
                Demux.WebPAnimDecoderDelete(decoder);
            }
        }
        return new Canvas(width, height, features[2] != 0, rgba);
    }

    private static native int WebPGetFeaturesInternal(byte[] data, long size, int[] features, int version);

    /** The functions of libwebpdemux (a library of its own). */
    private static final class Demux {
        static {
            NativeCodecs.register(Demux.class, NativeCodecs.WEBP_DEMUX);
        }

        static native int WebPAnimDecoderOptionsInitInternal(int[] options, int version);

        static native Pointer WebPAnimDecoderNewInternal(Pointer webpData, int[] options, int version);

        static native int WebPAnimDecoderGetInfo(Pointer decoder, int[] info);

        static native int WebPAnimDecoderGetNext(Pointer decoder, Pointer buffer, int[] timestamp);

        static native void WebPAnimDecoderDelete(Pointer decoder);
    }
}
