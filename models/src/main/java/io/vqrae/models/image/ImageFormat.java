package io.vqrae.models.image;

/** The container formats {@link ImageDecoder} accepts, recognised by signature bytes only. */
enum ImageFormat {
    JPEG("jpeg"),
    PNG("png"),
    WEBP("webp"),
    GIF("gif"),
    BMP("bmp");

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private final String formatName;

    ImageFormat(String formatName) {
        this.formatName = formatName;
    }

    /** The lower-case name reported in {@link DecodedImage#format()}. */
    String formatName() {
        return formatName;
    }

    /**
     * Recognises the format from the leading bytes, or returns {@code null}. Sniffing rather than
     * asking ImageIO keeps formats the JDK also reads (TIFF, WBMP, ...) out of the pipeline.
     */
    static ImageFormat sniff(byte[] d) {
        if (d.length >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
            return JPEG;
        }
        if (startsWith(d, 0, PNG_SIGNATURE)) {
            return PNG;
        }
        if (d.length >= 12 && startsWith(d, 0, ascii("RIFF")) && startsWith(d, 8, ascii("WEBP"))) {
            return WEBP;
        }
        if (startsWith(d, 0, ascii("GIF87a")) || startsWith(d, 0, ascii("GIF89a"))) {
            return GIF;
        }
        if (startsWith(d, 0, ascii("BM"))) {
            return BMP;
        }
        return null;
    }

    /**
     * Names a common image format this decoder does not take, from its signature, for the error message:
     * AVIF and HEIF/HEIC (ISO BMFF {@code ftyp} brands), JPEG XL, TIFF; {@code null} for anything else.
     * They are refused because Pillow, the reference every token is checked against, reads none of them
     * without plugins Debian does not ship, so there is no reference to be exact to (docs/models.md).
     */
    static String unsupportedName(byte[] d) {
        if (startsWith(d, 4, ascii("ftyp")) && d.length >= 12) {
            String brand = new String(d, 8, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            return switch (brand) {
                case "avif", "avis" -> "AVIF";
                case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1" -> "HEIF/HEIC";
                default -> null;
            };
        }
        if (startsWith(d, 0, new byte[] {(byte) 0xff, 0x0a}) || startsWith(d, 4, ascii("JXL "))) {
            return "JPEG XL";
        }
        if (startsWith(d, 0, ascii("II*\0")) || startsWith(d, 0, ascii("MM\0*"))) {
            return "TIFF";
        }
        return null;
    }

    static boolean startsWith(byte[] data, int offset, byte[] prefix) {
        if (data.length < offset + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (data[offset + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
