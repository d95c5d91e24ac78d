package io.vqrae.models.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageReader;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes untrusted JPEG, PNG, WebP, GIF and BMP payloads into upright, opaque 8-bit RGB.
 *
 * <p>Every failure surfaces as an {@link ImageDecodeException} with a typed {@link DecodeFailure};
 * ImageIO plugins are known to throw arbitrary runtime exceptions on malformed input, so those are
 * caught and classified here rather than left to kill a streaming task. Declared dimensions are
 * checked against {@link Builder#maxPixels(long)} from the header alone, before pixel memory is
 * allocated.
 *
 * <p>The output matches Pillow's {@code Image.open} + {@code ImageOps.exif_transpose} +
 * {@code convert("RGB")} (with transparency composited over the background, see
 * {@link RgbConverter}); the Python reference is {@code models/python/vqrae/preprocess.py}. JPEG and
 * WebP are decoded by the libraries Pillow uses, libjpeg-turbo and libwebp, from the host (see
 * {@link NativeCodecs}); PNG, GIF, BMP and CMYK JPEG by ImageIO readers reproducing Pillow's pixels. Only
 * the first frame of a GIF or an animated WebP is decoded, placed on its canvas like Pillow does; areas the
 * first frame does not cover are treated as transparent.
 *
 * <p>Instances are immutable and thread-safe: each call uses its own ImageIO reader or native decoder.
 */
public final class ImageDecoder {

    /**
     * The largest {@link Builder#maxPixels(long)} possible: a decoded image is one Java array, and the widest one
     * a decoder fills is RGBA (libwebp's output, 4 bytes a pixel), so {@code width * height * 4} stays an int.
     */
    public static final long MAX_PIXELS_LIMIT = Integer.MAX_VALUE / 4;

    /**
     * Default {@link Builder#maxPixels(long)}, 64 Mi pixels (8192 x 8192): the one default of the
     * project, which the job's {@code limits.max-pixels} and {@code vqrae tokenize} take as well.
     */
    public static final long DEFAULT_MAX_PIXELS = 64L << 20;

    /** Default {@link Builder#maxInputBytes(int)}, 32 MiB; the job's {@code limits.max-image-bytes} default. */
    public static final int DEFAULT_MAX_INPUT_BYTES = 32 << 20;

    private final long maxPixels;
    private final int maxInputBytes;
    private final int draftWidth;
    private final int draftHeight;
    private final int[] background;
    private final Map<ImageFormat, ImageReaderSpi> readers;

    private ImageDecoder(Builder builder) {
        this.maxPixels = builder.maxPixels;
        this.maxInputBytes = builder.maxInputBytes;
        this.draftWidth = builder.draftWidth;
        this.draftHeight = builder.draftHeight;
        this.background = builder.background.clone();
        this.readers = ReaderProviders.create();
        NativeCodecs.requireAvailable();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A decoder with the default limits and a white background. */
    public static ImageDecoder withDefaults() {
        return builder().build();
    }

    /**
     * Width x height as {@code data}'s header declares it, read without decoding (a GIF's logical screen, a WebP
     * animation's canvas): what a decode of it will allocate for, so a caller can budget memory before it
     * decodes. 0 when the format is not supported or the header cannot say; {@link #decode} then reports why.
     */
    public static long declaredPixels(byte[] data) {
        ImageFormat format = ImageFormat.sniff(data);
        if (format == null) {
            return 0;
        }
        return format == ImageFormat.WEBP ? LibWebp.declaredPixels(data) : Containers.declaredPixels(format, data);
    }

    /**
     * Width x height this decoder allocates for {@code data}: {@link #declaredPixels}, or for a JPEG decoded as a
     * draft ({@link Builder#draft}) the reduced size.
     */
    public long decodedPixels(byte[] data) {
        if (draftWidth == 0 || ImageFormat.sniff(data) != ImageFormat.JPEG) {
            return declaredPixels(data);
        }
        Containers.JpegHeader header = Containers.jpegHeader(data);
        if (header.frameWidth() == 0) {
            return declaredPixels(data);
        }
        int[] target = draftTarget(header.exif());
        int reduction = TurboJpeg.draftReduction(header.frameWidth(), header.frameHeight(), target[0], target[1]);
        return (long) TurboJpeg.reduced(header.frameWidth(), reduction) * TurboJpeg.reduced(header.frameHeight(), reduction);
    }

    /** The draft size in the stored image's orientation: EXIF rotations by 90 degrees swap its sides. */
    private int[] draftTarget(byte[] exif) {
        return Containers.orientation(exif) >= 5 ? new int[] {draftHeight, draftWidth} : new int[] {draftWidth, draftHeight};
    }

    /**
     * Decodes one payload.
     *
     * @throws ImageDecodeException for any input that is not a decodable image within the limits
     * @throws NullPointerException if {@code data} is null (a caller bug, not bad input)
     */
    public DecodedImage decode(byte[] data) throws ImageDecodeException {
        Objects.requireNonNull(data, "data");
        if (data.length == 0) {
            throw new ImageDecodeException(DecodeFailure.EMPTY_INPUT, "no bytes");
        }
        if (data.length > maxInputBytes) {
            throw new ImageDecodeException(DecodeFailure.INPUT_TOO_LARGE,
                    data.length + " bytes exceed maxInputBytes " + maxInputBytes);
        }
        ImageFormat format = ImageFormat.sniff(data);
        if (format == null) {
            String known = ImageFormat.unsupportedName(data);
            throw new ImageDecodeException(DecodeFailure.UNSUPPORTED_FORMAT, known != null
                    ? known + " is not supported (JPEG, PNG, WebP, GIF and BMP are)"
                    : "unrecognised signature " + hexPrefix(data));
        }
        try {
            return switch (format) {
                case JPEG -> decodeJpeg(data);
                case WEBP -> decodeWebp(data);
                case PNG -> decodeWithImageIo(format, data, Containers.checkPng(data, maxPixels), null);
                case GIF -> {
                    Containers.GifFrame first = Containers.gifFirstFrame(data);
                    yield decodeWithImageIo(format, first.gif(), null, first);
                }
                case BMP -> {
                    Containers.checkBmp(data, maxPixels);
                    yield decodeWithImageIo(format, data, null, null);
                }
            };
        } catch (OutOfMemoryError e) {
            // Only a single large allocation can fail here and it holds nothing else, so the JVM
            // is fine; a record must not take down the task because it was within maxPixels.
            throw new ImageDecodeException(DecodeFailure.OUT_OF_MEMORY, format.formatName() + ": " + e, e);
        }
    }

    /** libjpeg-turbo like Pillow; CMYK and YCCK files go to TwelveMonkeys, which converts them with their ICC profile. */
    private DecodedImage decodeJpeg(byte[] data) throws ImageDecodeException {
        Containers.JpegHeader segments = Containers.jpegHeader(data);
        int[] draft = draftWidth == 0 ? new int[2] : draftTarget(segments.exif());
        TurboJpeg.Pixels pixels = TurboJpeg.decode(data, segments, maxPixels, draft[0], draft[1]);
        if (pixels == null) {
            return decodeWithImageIo(ImageFormat.JPEG, data, segments.exif(), null);
        }
        return upright(pixels.rgb(), pixels.width(), pixels.height(), segments.exif(), ImageFormat.JPEG);
    }

    /** libwebp like Pillow: the first frame on its canvas, composited over the background if the file has alpha. */
    private DecodedImage decodeWebp(byte[] data) throws ImageDecodeException {
        byte[] exif = Containers.checkWebp(data);
        LibWebp.Canvas canvas = LibWebp.decode(data, maxPixels);
        byte[] rgb = RgbConverter.fromRgba(canvas.rgba(), canvas.alpha(), background);
        return upright(rgb, canvas.width(), canvas.height(), exif, ImageFormat.WEBP);
    }

    /** Decodes with ImageIO; {@code gif} (for GIF only) is the first frame alone with its place on the logical screen. */
    private DecodedImage decodeWithImageIo(ImageFormat format, byte[] data, byte[] exif, Containers.GifFrame gif)
            throws ImageDecodeException {
        ImageReader reader;
        try {
            reader = readers.get(format).createReaderInstance();
        } catch (IOException e) {
            throw new IllegalStateException("cannot instantiate the " + format.formatName() + " reader", e);
        }
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            Containers.checkDimensions(width, height, maxPixels);
            int canvasWidth = width;
            int canvasHeight = height;
            int left = 0;
            int top = 0;
            if (gif != null) {
                left = gif.left();
                top = gif.top();
                // Pillow grows the canvas when the first frame sticks out of the logical screen.
                canvasWidth = (int) Math.max(gif.screenWidth(), (long) left + width);
                canvasHeight = (int) Math.max(gif.screenHeight(), (long) top + height);
                Containers.checkDimensions(canvasWidth, canvasHeight, maxPixels);
            }
            BufferedImage image = reader.read(0, null);
            failOnTruncationWarning(warnings);
            byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(canvasWidth, canvasHeight), 3)];
            if (canvasWidth != width || canvasHeight != height) {
                fill(rgb, background);
            }
            RgbConverter.convert(image, rgb, canvasWidth, left, top, background);
            return upright(rgb, canvasWidth, canvasHeight, exif, format);
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException e) {
            failOnTruncationWarning(warnings);
            throw new ImageDecodeException(isTruncation(e) ? DecodeFailure.TRUNCATED : DecodeFailure.CORRUPT,
                    format.formatName() + ": " + e, e);
        } catch (RuntimeException e) {
            // Plugins signal malformed data with IndexOutOfBounds, IllegalArgument, NegativeArraySize...
            failOnTruncationWarning(warnings);
            throw new ImageDecodeException(DecodeFailure.CORRUPT, format.formatName() + ": " + e, e);
        } finally {
            reader.dispose();
        }
    }

    /** Applies the EXIF orientation, as {@code ImageOps.exif_transpose} does. */
    private static DecodedImage upright(byte[] rgb, int width, int height, byte[] exif, ImageFormat format) {
        int orientation = Containers.orientation(exif);
        boolean swap = orientation >= 5;
        return new DecodedImage(swap ? height : width, swap ? width : height,
                Containers.applyOrientation(rgb, width, height, orientation), format.formatName());
    }

    /** libjpeg reports a short file only as a warning and pads with gray; Pillow refuses it. */
    private static void failOnTruncationWarning(List<String> warnings) throws ImageDecodeException {
        for (String warning : warnings) {
            if (warning != null && warning.toLowerCase(Locale.ROOT).contains("premature end")) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED, warning);
            }
        }
    }

    private static boolean isTruncation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EOFException) {
                return true;
            }
            String message = t.getMessage();
            if (message != null && message.toLowerCase(Locale.ROOT).contains("premature end")) {
                return true;
            }
        }
        return false;
    }

    private static void fill(byte[] rgb, int[] color) {
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) color[0];
            rgb[i + 1] = (byte) color[1];
            rgb[i + 2] = (byte) color[2];
        }
    }

    private static String hexPrefix(byte[] data) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, data.length); i++) {
            sb.append(String.format("%02x", data[i] & 0xff));
        }
        return sb.toString();
    }

    /** Configures an {@link ImageDecoder}; each setter rejects invalid values immediately. */
    public static final class Builder {
        private long maxPixels = DEFAULT_MAX_PIXELS;
        private int maxInputBytes = DEFAULT_MAX_INPUT_BYTES;
        private int draftWidth;
        private int draftHeight;
        private int[] background = {255, 255, 255};

        private Builder() {}

        /**
         * Decodes JPEGs as drafts for a {@code width x height} target (the model's input): at the smallest of
         * libjpeg's DCT scales (1/8, 1/4, 1/2, 1) that still gives at least that size once upright, as Pillow's
         * {@code Image.draft} does. A 12-megapixel photo for a 256 x 256 model decodes at 1/8 of each side: about
         * 64 times fewer pixels to decode, convert and resample. The pixels differ from a full decode resampled
         * (the DCT's own averaging is not the resampler's), so tokens agree mostly, not exactly
         * (docs/BENCHMARKS.md). Other formats decode as always; off by default.
         */
        public Builder draft(int width, int height) {
            if (width < 1 || height < 1) {
                throw new IllegalArgumentException("draft size must be positive, got " + width + " x " + height);
            }
            this.draftWidth = width;
            this.draftHeight = height;
            return this;
        }

        /** Largest declared width * height accepted (decompression-bomb guard); default {@value ImageDecoder#DEFAULT_MAX_PIXELS}. */
        public Builder maxPixels(long maxPixels) {
            if (maxPixels <= 0) {
                throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
            }
            if (maxPixels > MAX_PIXELS_LIMIT) {
                throw new IllegalArgumentException("maxPixels must be at most " + MAX_PIXELS_LIMIT
                        + " (one RGB byte array), got " + maxPixels);
            }
            this.maxPixels = maxPixels;
            return this;
        }

        /** Largest payload accepted, in bytes; default {@value ImageDecoder#DEFAULT_MAX_INPUT_BYTES}. */
        public Builder maxInputBytes(int maxInputBytes) {
            if (maxInputBytes <= 0) {
                throw new IllegalArgumentException("maxInputBytes must be positive, got " + maxInputBytes);
            }
            this.maxInputBytes = maxInputBytes;
            return this;
        }

        /** Opaque colour transparent pixels are composited over; default white (255, 255, 255). */
        public Builder alphaBackground(int r, int g, int b) {
            if ((r | g | b) < 0 || r > 255 || g > 255 || b > 255) {
                throw new IllegalArgumentException(
                        "alphaBackground components must be in 0..255, got (" + r + ", " + g + ", " + b + ")");
            }
            this.background = new int[] {r, g, b};
            return this;
        }

        /**
         * Builds the decoder, resolving the ImageIO readers and loading the native codec libraries now.
         *
         * @throws IllegalStateException if a required ImageIO plugin is not on the classpath, or libjpeg-turbo
         *     or libwebp is not installed on the host (the message says which, and how to install it)
         */
        public ImageDecoder build() {
            return new ImageDecoder(this);
        }
    }
}
