package io.vqrae.models.image;

import java.util.Iterator;
import java.util.Locale;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/** The container formats {@link ImageDecoder} accepts, recognised by signature bytes only. */
enum ImageFormat {
    // TwelveMonkeys' JPEG reader handles CMYK/YCCK and broken Adobe/ICC markers the JDK one rejects.
    JPEG("jpeg", "com.twelvemonkeys."),
    PNG("png", "com.sun.imageio."),
    WEBP("webp", "com.twelvemonkeys."),
    GIF("gif", "com.sun.imageio."),
    BMP("bmp", "com.sun.imageio.");

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private final String formatName;
    private final String pluginPackage;

    ImageFormat(String formatName, String pluginPackage) {
        this.formatName = formatName;
        this.pluginPackage = pluginPackage;
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
     * Finds the ImageIO provider this decoder uses for the format. Looked up once per decoder so a
     * missing plugin jar fails at build time rather than on the first record.
     */
    ImageReaderSpi findReaderSpi() {
        Iterator<ImageReaderSpi> it = IIORegistry.getDefaultInstance().getServiceProviders(ImageReaderSpi.class, true);
        while (it.hasNext()) {
            ImageReaderSpi spi = it.next();
            if (spi.getPluginClassName().startsWith(pluginPackage) && handles(spi)) {
                return spi;
            }
        }
        throw new IllegalStateException("no ImageIO reader for " + formatName + " from " + pluginPackage
                + "* on the classpath (is the TwelveMonkeys imageio-" + formatName + " jar missing?)");
    }

    private boolean handles(ImageReaderSpi spi) {
        for (String name : spi.getFormatNames()) {
            if (name.toLowerCase(Locale.ROOT).equals(formatName)) {
                return true;
            }
        }
        return false;
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
