package io.vqrae.models.image;

import com.twelvemonkeys.imageio.metadata.CompoundDirectory;
import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Reads the few container-level facts ImageIO does not expose cheaply (PNG chunk integrity, EXIF orientation, a
 * GIF's first frame) and refuses, before ImageIO sees them, the inputs on which its readers allocate more than the
 * pixel budget allows.
 */
final class Containers {

    /** EXIF orientation meaning "stored upright". */
    static final int ORIENTATION_NORMAL = 1;

    private Containers() {}

    /**
     * Walks the PNG chunks before any pixel is decoded. The JDK reader skips CRCs; like libpng
     * (which Pillow mirrors for critical chunks) a bad CRC on a critical chunk is corruption, while
     * ancillary chunks with bad CRCs are ignored. The IHDR dimensions are checked here too so a
     * zero or absurd size is classified precisely instead of as a generic reader error.
     *
     * @return the eXIf chunk body (a TIFF structure), or {@code null}
     */
    static byte[] checkPng(byte[] d, long maxPixels) throws ImageDecodeException {
        int pos = 8;
        byte[] exif = null;
        boolean first = true;
        CRC32 crc = new CRC32();
        while (true) {
            if (pos + 8 > d.length) {
                if (first) {
                    throw new ImageDecodeException(DecodeFailure.TRUNCATED, "PNG ends inside the IHDR chunk");
                }
                return exif; // no IEND: whether the pixels are complete is the reader's call
            }
            long length = u32(d, pos);
            String type = new String(d, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (length > Integer.MAX_VALUE || pos + 12 + length > d.length) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED, "PNG ends inside chunk " + type);
            }
            int body = pos + 8;
            int len = (int) length;
            boolean critical = Character.isUpperCase(type.charAt(0));
            crc.reset();
            crc.update(d, pos + 4, len + 4);
            boolean crcOk = crc.getValue() == u32(d, body + len);
            if (critical && !crcOk) {
                throw new ImageDecodeException(DecodeFailure.CORRUPT, "PNG chunk " + type + " has a bad CRC");
            }
            if (first) {
                if (!type.equals("IHDR") || len != 13) {
                    throw new ImageDecodeException(DecodeFailure.CORRUPT, "PNG does not start with a 13-byte IHDR");
                }
                checkDimensions(u32(d, body), u32(d, body + 4), maxPixels);
                first = false;
            } else if (type.equals("eXIf") && crcOk && exif == null) {
                exif = Arrays.copyOfRange(d, body, body + len);
            } else if (type.equals("IEND")) {
                return exif;
            }
            pos = body + len + 4;
        }
    }

    /**
     * Walks the WebP (RIFF) chunks before any pixel is decoded. A file shorter than its RIFF header or one
     * of its chunks declares is truncated; saying so here gives the precise reason, where libwebp only reports
     * a bitstream error.
     *
     * @return the body of the first {@code EXIF} chunk (a TIFF structure, without the {@code Exif\0\0} prefix
     *     some writers add), or {@code null}: Pillow reads it and {@code exif_transpose} applies its orientation
     */
    static byte[] checkWebp(byte[] d) throws ImageDecodeException {
        long riffSize = le32(d, 4);
        if (d.length < riffSize + 8) {
            throw new ImageDecodeException(DecodeFailure.TRUNCATED,
                    "WebP RIFF declares " + (riffSize + 8) + " bytes, got " + d.length);
        }
        byte[] exifHeader = ImageFormat.ascii("Exif\0\0");
        byte[] exif = null;
        long pos = 12;
        while (pos + 8 <= d.length) {
            int at = (int) pos;
            String type = new String(d, at, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            long end = at + 8 + le32(d, at + 4);
            if (end > d.length) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED,
                        "WebP chunk " + type.strip() + " ends at byte " + end + ", the file at " + d.length);
            }
            if (type.equals("EXIF") && exif == null) {
                int body = at + 8;
                if (ImageFormat.startsWith(d, body, exifHeader)) {
                    body += exifHeader.length;
                }
                exif = Arrays.copyOfRange(d, body, (int) end);
            }
            pos = end + (end & 1); // chunks are padded to an even size
        }
        return exif;
    }

    /**
     * Applies the pixel budget to a BMP's header, and refuses BMPs whose pixels are an embedded JPEG or PNG file (compression BI_JPEG = 4, BI_PNG = 5), as Pillow
     * does. The JDK's reader allocates the header's image size for the embedded file before reading a byte of it
     * (a 118-byte file declaring 2 GiB allocates 2 GiB) and decodes the embedded image at whatever size it
     * declares, past the pixel budget checked on the BMP header.
     */
    static void checkBmp(byte[] d, long maxPixels) throws ImageDecodeException {
        // BITMAPFILEHEADER (14 bytes), then the info header's size, width and height (negative: stored top-down), and
        // compression at byte 30, in every Windows info header (40 bytes and longer). The size is checked here because
        // the JDK reader first compares the pixel data it expects with the file's length and calls a bomb corrupt.
        // Shorter files and OS/2 headers are the reader's to report.
        if (d.length >= 34 && le32(d, 14) >= 40) {
            checkDimensions((int) le32(d, 18), Math.abs((long) (int) le32(d, 22)), maxPixels);
            long compression = le32(d, 30);
            if (compression == 4 || compression == 5) {
                throw new ImageDecodeException(DecodeFailure.UNSUPPORTED_FORMAT, "BMP with an embedded "
                        + (compression == 4 ? "JPEG" : "PNG") + " (compression " + compression + ") is not supported");
            }
        }
    }

    /**
     * The first frame of a GIF as a GIF of its own, and where it sits on the logical screen.
     *
     * @param gif header, global colour table, the frame's graphic control extension, the frame and a trailer
     * @param screenWidth logical screen width
     * @param screenHeight logical screen height
     * @param left the frame's left position on the screen
     * @param top the frame's top position on the screen
     */
    record GifFrame(byte[] gif, int screenWidth, int screenHeight, int left, int top) {}

    /**
     * Cuts the first frame out of a GIF, dropping every comment, application and plain-text extension. The
     * JDK 17 reader gathers an extension's sub-blocks by copying everything read so far for each one (even with
     * metadata ignored): a 4 MB comment cost 13 s and 130 GB of allocations, a 32 MB one hours. Only the
     * graphic control extension before the frame matters to its pixels (transparency), as in Pillow.
     */
    static GifFrame gifFirstFrame(byte[] d) throws ImageDecodeException {
        if (d.length < 13) {
            throw new ImageDecodeException(DecodeFailure.TRUNCATED, "GIF ends inside its header");
        }
        int screenWidth = le16(d, 6);
        int screenHeight = le16(d, 8);
        int screenFlags = d[10] & 0xff;
        int headerEnd = 13 + ((screenFlags & 0x80) != 0 ? 3 << ((screenFlags & 7) + 1) : 0);
        int pos = headerEnd;
        int controlStart = -1;
        int controlEnd = -1;
        while (true) {
            if (pos >= d.length) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED, "GIF ends before its first image");
            }
            int block = d[pos] & 0xff;
            if (block == 0x2c) {
                break;
            }
            if (block != 0x21) {
                throw new ImageDecodeException(DecodeFailure.CORRUPT, String.format(
                        "GIF has block 0x%02x at byte %d, before any image", block, pos));
            }
            int end = pos + 2 > d.length ? -1 : afterSubBlocks(d, pos + 2);
            if (end < 0) {
                throw new ImageDecodeException(DecodeFailure.TRUNCATED, "GIF ends inside an extension");
            }
            if ((d[pos + 1] & 0xff) == 0xf9) {
                controlStart = pos;
                controlEnd = end;
            }
            pos = end;
        }
        if (pos + 11 > d.length) {
            throw new ImageDecodeException(DecodeFailure.TRUNCATED, "GIF ends inside its first image descriptor");
        }
        int left = le16(d, pos + 1);
        int top = le16(d, pos + 3);
        int frameFlags = d[pos + 9] & 0xff;
        // Image descriptor, local colour table, LZW minimum code size, then the data sub-blocks. The JDK reader calls
        // data cut short an I/O error; Pillow calls it truncated, and so does this.
        int data = pos + 10 + ((frameFlags & 0x80) != 0 ? 3 << ((frameFlags & 7) + 1) : 0) + 1;
        int frameEnd = data > d.length ? -1 : afterSubBlocks(d, data);
        if (frameEnd < 0) {
            throw new ImageDecodeException(DecodeFailure.TRUNCATED, "GIF ends inside its first frame");
        }
        int control = controlStart < 0 ? 0 : controlEnd - controlStart;
        byte[] gif = new byte[headerEnd + control + frameEnd - pos + 1];
        System.arraycopy(d, 0, gif, 0, headerEnd);
        if (controlStart >= 0) {
            System.arraycopy(d, controlStart, gif, headerEnd, control);
        }
        System.arraycopy(d, pos, gif, headerEnd + control, frameEnd - pos);
        gif[gif.length - 1] = 0x3b;
        return new GifFrame(gif, screenWidth, screenHeight, left, top);
    }

    /** The index after the sub-blocks starting at {@code pos} and their zero-length terminator, or -1 if the data ends first. */
    private static int afterSubBlocks(byte[] d, int pos) {
        while (pos < d.length) {
            int length = d[pos] & 0xff;
            pos += 1 + length;
            if (length == 0) {
                return pos;
            }
        }
        return -1;
    }

    /** Applies the pixel budget to header dimensions, before anything is allocated for pixels. */
    static void checkDimensions(long width, long height, long maxPixels) throws ImageDecodeException {
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(DecodeFailure.INVALID_DIMENSIONS, "declared size " + width + "x" + height);
        }
        if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE || width * height > maxPixels) {
            throw new ImageDecodeException(DecodeFailure.TOO_MANY_PIXELS,
                    "declared size " + width + "x" + height + " exceeds maxPixels " + maxPixels);
        }
    }

    /**
     * What the JPEG segments before the first scan say.
     *
     * @param exif the TIFF structure of the first APP1 "Exif" segment (the one Pillow reads), or {@code null}
     * @param cutBeforeScan whether the data ends before the first scan: inside a segment or between two
     * @param frameWidth width of the first frame header (SOFn) segment, 0 before one is complete
     * @param frameHeight its height
     */
    record JpegHeader(byte[] exif, boolean cutBeforeScan, int frameWidth, int frameHeight) {
        /** Width x height of the first frame header, 0 before one is complete. */
        long framePixels() {
            return (long) frameWidth * frameHeight;
        }
    }

    /**
     * Walks the JPEG marker segments up to the first scan (or EOI). A malformed marker sequence ends the walk
     * and is left for the decoder to report.
     */
    static JpegHeader jpegHeader(byte[] d) {
        byte[] exifHeader = ImageFormat.ascii("Exif\0\0");
        byte[] exif = null;
        int frameWidth = 0;
        int frameHeight = 0;
        int pos = 2;
        while (pos + 4 <= d.length) {
            if ((d[pos] & 0xff) != 0xff) {
                return new JpegHeader(exif, false, frameWidth, frameHeight);
            }
            int marker = d[pos + 1] & 0xff;
            if (marker == 0xff) { // fill byte
                pos++;
                continue;
            }
            if (marker == 0xda || marker == 0xd9) {
                return new JpegHeader(exif, false, frameWidth, frameHeight);
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { // markers without a length
                pos += 2;
                continue;
            }
            int length = ((d[pos + 2] & 0xff) << 8) | (d[pos + 3] & 0xff);
            int end = pos + 2 + length;
            if (length < 2) {
                return new JpegHeader(exif, false, frameWidth, frameHeight);
            }
            if (end > d.length) {
                return new JpegHeader(exif, true, frameWidth, frameHeight);
            }
            if (exif == null && marker == 0xe1 && ImageFormat.startsWith(d, pos + 4, exifHeader)
                    && pos + 4 + exifHeader.length <= end) {
                exif = Arrays.copyOfRange(d, pos + 4 + exifHeader.length, end);
            }
            boolean frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (frameWidth == 0 && frame && length >= 7) {
                frameHeight = ((d[pos + 5] & 0xff) << 8) | (d[pos + 6] & 0xff);
                frameWidth = ((d[pos + 7] & 0xff) << 8) | (d[pos + 8] & 0xff);
                if (frameWidth == 0 || frameHeight == 0) {
                    frameWidth = 0;
                    frameHeight = 0;
                }
            }
            pos = end;
        }
        return new JpegHeader(exif, true, frameWidth, frameHeight);
    }

    /**
     * The orientation tag (274) of IFD0, as {@code ImageOps.exif_transpose} reads it; 1 when the
     * EXIF is absent, unreadable or out of range. Broken EXIF never fails a decode: the pixels are
     * still valid and Pillow's transpose ignores what it cannot use as well.
     */
    static int orientation(byte[] tiff) {
        if (tiff == null) {
            return ORIENTATION_NORMAL;
        }
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(tiff))) {
            Directory dir = new TIFFReader().read(in);
            if (dir instanceof CompoundDirectory compound && compound.directoryCount() > 0) {
                dir = compound.getDirectory(0);
            }
            Entry entry = dir.getEntryById(TIFF.TAG_ORIENTATION);
            if (entry != null && entry.getValue() instanceof Number n && n.intValue() >= 1 && n.intValue() <= 8) {
                return n.intValue();
            }
        } catch (IOException | RuntimeException e) {
            return ORIENTATION_NORMAL;
        }
        return ORIENTATION_NORMAL;
    }

    /**
     * Rotates/flips interleaved RGB so that an image stored with EXIF orientation {@code o} becomes
     * upright, exactly as Pillow's transposes for that tag (6 = ROTATE_270, i.e. 90 degrees clockwise).
     */
    static byte[] applyOrientation(byte[] rgb, int w, int h, int o) {
        if (o == ORIENTATION_NORMAL) {
            return rgb;
        }
        boolean swap = o >= 5;
        int outW = swap ? h : w;
        int outH = swap ? w : h;
        // Output pixel (x, y) reads source pixel first + x * alongX + y * alongY.
        int last = h - 1;
        int right = w - 1;
        int first;
        int alongX;
        int alongY;
        switch (o) {
            case 2 -> { first = right; alongX = -1; alongY = w; }
            case 3 -> { first = last * w + right; alongX = -1; alongY = -w; }
            case 4 -> { first = last * w; alongX = 1; alongY = -w; }
            case 5 -> { first = 0; alongX = w; alongY = 1; }
            case 6 -> { first = last * w; alongX = -w; alongY = 1; }
            case 7 -> { first = last * w + right; alongX = -w; alongY = -1; }
            case 8 -> { first = right; alongX = w; alongY = -1; }
            default -> throw new IllegalArgumentException("orientation " + o);
        }
        byte[] out = new byte[rgb.length];
        int dst = 0;
        for (int y = 0; y < outH; y++) {
            int src = (first + y * alongY) * 3;
            int step = alongX * 3;
            for (int x = 0; x < outW; x++, src += step) {
                out[dst++] = rgb[src];
                out[dst++] = rgb[src + 1];
                out[dst++] = rgb[src + 2];
            }
        }
        return out;
    }

    /**
     * Width x height as the header of an image in {@code format} declares it (a GIF's logical screen), read
     * without decoding anything; 0 when the header is too short or malformed to say, which decoding then reports.
     * WebP is {@link LibWebp}'s.
     */
    static long declaredPixels(ImageFormat format, byte[] d) {
        return switch (format) {
            case PNG -> d.length >= 24 && d[12] == 'I' && d[13] == 'H' && d[14] == 'D' && d[15] == 'R' ? u32(d, 16) * u32(d, 20) : 0;
            case GIF -> d.length >= 10 ? (long) le16(d, 6) * le16(d, 8) : 0;
            case BMP -> bmpPixels(d);
            case JPEG -> jpegHeader(d).framePixels();
            case WEBP -> throw new IllegalArgumentException("WebP headers are libwebp's to read");
        };
    }

    private static long bmpPixels(byte[] d) {
        if (d.length < 26) {
            return 0;
        }
        if (le32(d, 14) == 12) { // BITMAPCOREHEADER: 16-bit sizes
            return (long) le16(d, 18) * le16(d, 20);
        }
        return Math.abs((long) (int) le32(d, 18)) * Math.abs((long) (int) le32(d, 22));
    }

    private static int le16(byte[] d, int pos) {
        return (d[pos] & 0xff) | ((d[pos + 1] & 0xff) << 8);
    }

    private static long le32(byte[] d, int pos) {
        return (d[pos] & 0xff) | ((d[pos + 1] & 0xff) << 8) | ((d[pos + 2] & 0xff) << 16) | ((long) (d[pos + 3] & 0xff) << 24);
    }

    private static long u32(byte[] d, int pos) {
        return ((long) (d[pos] & 0xff) << 24) | ((d[pos + 1] & 0xff) << 16) | ((d[pos + 2] & 0xff) << 8) | (d[pos + 3] & 0xff);
    }
}
