package io.vqrae.models.testing;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/**
 * Hostile and odd image files made from real ones by editing their headers: the decoder's robustness tests and the
 * pipeline's hostile-input campaign build their inputs from the same edits.
 */
public final class ImageMutations {

    private ImageMutations() {}

    /**
     * A BMP file header and BITMAPINFOHEADER alone (no palette, no pixels) with the given compression and
     * declared image size: compression 4 and 5 say the pixels are an embedded JPEG or PNG of {@code imageSize} bytes.
     */
    public static byte[] bmpHeader(int width, int height, int bitsPerPixel, int compression, int imageSize) {
        return ByteBuffer.allocate(14 + 40 + 64).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 'B').put((byte) 'M').putInt(14 + 40 + 64).putInt(0).putInt(14 + 40)
                .putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) bitsPerPixel)
                .putInt(compression).putInt(imageSize).putInt(2835).putInt(2835).putInt(0).putInt(0)
                .array();
    }

    /** {@code gif} with a comment extension of {@code bytes} bytes (255-byte sub-blocks) before its first frame. */
    public static byte[] gifWithComment(byte[] gif, int bytes) {
        int flags = gif[10] & 0xff;
        int headerEnd = 13 + ((flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream(gif.length + bytes + bytes / 255 + 4);
        out.write(gif, 0, headerEnd);
        out.write(0x21);
        out.write(0xfe);
        byte[] block = new byte[255];
        Arrays.fill(block, (byte) 'c');
        for (int left = bytes; left > 0; left -= 255) {
            int n = Math.min(255, left);
            out.write(n);
            out.write(block, 0, n);
        }
        out.write(0);
        out.write(gif, headerEnd, gif.length - headerEnd);
        return out.toByteArray();
    }

    public static byte[] head(byte[] data, double fraction) {
        return Arrays.copyOf(data, (int) (data.length * fraction));
    }

    public static byte[] jpegWithSize(byte[] jpeg, int width, int height) {
        byte[] out = jpeg.clone();
        int sof = indexOf(out, new byte[] {(byte) 0xff, (byte) 0xc0}, 2);
        ByteBuffer.wrap(out, sof + 5, 4).putShort((short) height).putShort((short) width);
        return out;
    }

    public static byte[] gifWithScreen(byte[] gif, int width, int height) {
        byte[] out = gif.clone();
        out[6] = (byte) width;
        out[7] = (byte) (width >> 8);
        out[8] = (byte) height;
        out[9] = (byte) (height >> 8);
        return out;
    }

    /** Flips a byte inside the first chunk of {@code type}, leaving its stored CRC stale. */
    public static byte[] flipInChunk(byte[] png, String type) {
        byte[] out = png.clone();
        int at = indexOf(out, type.getBytes(StandardCharsets.US_ASCII), 8);
        out[at + 4 + 5] ^= 0x01;
        return out;
    }

    /** A PNG with a valid-CRC IHDR, an empty zlib IDAT and IEND. */
    public static byte[] pngHeaderOnly(int width, int height, int depth, int colorType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        pngChunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) depth).put((byte) colorType).put((byte) 0).put((byte) 0).put((byte) 0).array());
        Deflater deflater = new Deflater();
        deflater.finish();
        byte[] idat = new byte[64];
        int n = deflater.deflate(idat);
        deflater.end();
        pngChunk(out, "IDAT", Arrays.copyOf(idat, n));
        pngChunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    public static void pngChunk(ByteArrayOutputStream out, String type, byte[] body) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(body);
        out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
        out.writeBytes(t);
        out.writeBytes(body);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    public static byte[] solidPng(int width, int height, int rgb) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        Arrays.fill(row, rgb);
        for (int y = 0; y < height; y++) {
            img.setRGB(0, y, width, 1, row, 0, width);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static int indexOf(byte[] data, byte[] needle, int from) {
        outer:
        for (int i = from; i <= data.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("marker not found");
    }

    /** Sets the VP8X canvas (stored as size - 1 in 24-bit little-endian fields at offsets 24 and 27). */
    public static byte[] webpWithCanvas(byte[] webp, int width, int height) {
        byte[] out = webp.clone();
        if (!"VP8X".equals(new String(out, 12, 4, StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("not an extended (VP8X) WebP");
        }
        for (int i = 0; i < 3; i++) {
            out[24 + i] = (byte) ((width - 1) >> (8 * i));
            out[27 + i] = (byte) ((height - 1) >> (8 * i));
        }
        return out;
    }

    /** Overwrites the class/id and code lengths of the first DHT segment with 0xFF: an invalid table. */
    public static byte[] corruptHuffmanTable(byte[] jpeg) {
        byte[] out = jpeg.clone();
        int dht = indexOf(out, new byte[] {(byte) 0xff, (byte) 0xc4}, 2);
        Arrays.fill(out, dht + 4, dht + 21, (byte) 0xff);
        return out;
    }

    /** The start of an ISO BMFF image file (AVIF, HEIC): an {@code ftyp} box with {@code brand}. */
    public static byte[] isoBmff(String brand) {
        byte[] box = ("\0\0\0\u0018ftyp" + brand + "\0\0\0\0mif1" + brand).getBytes(StandardCharsets.ISO_8859_1);
        return Arrays.copyOf(box, 512);
    }
}
