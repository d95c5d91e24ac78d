package io.vqrae.models.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import static io.vqrae.models.testing.ImageMutations.corruptHuffmanTable;
import static io.vqrae.models.testing.ImageMutations.flipInChunk;
import static io.vqrae.models.testing.ImageMutations.gifWithScreen;
import static io.vqrae.models.testing.ImageMutations.head;
import static io.vqrae.models.testing.ImageMutations.indexOf;
import static io.vqrae.models.testing.ImageMutations.isoBmff;
import static io.vqrae.models.testing.ImageMutations.jpegWithSize;
import static io.vqrae.models.testing.ImageMutations.pngHeaderOnly;
import static io.vqrae.models.testing.ImageMutations.solidPng;
import static io.vqrae.models.testing.ImageMutations.webpWithCanvas;

import io.vqrae.models.testing.ImageMutations;
import io.vqrae.models.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Odd, broken and hostile inputs: each row either decodes to the expected size (with a pixel
 * check where one is meaningful) or fails with the expected {@link DecodeFailure}. Nothing may
 * escape as anything but {@link ImageDecodeException}.
 */
class DecodeRobustnessTest {

    private static final ImageDecoder DECODER = ImageDecoder.withDefaults();

    /** One table row: the input and either an expected size + check, or an expected failure. */
    record Row(Supplier<byte[]> input, int width, int height, Consumer<DecodedImage> check, DecodeFailure failure) {
        static Row ok(Supplier<byte[]> input, int width, int height, Consumer<DecodedImage> check) {
            return new Row(input, width, height, check, null);
        }

        static Row ok(Supplier<byte[]> input, int width, int height) {
            return ok(input, width, height, img -> {});
        }

        static Row fails(Supplier<byte[]> input, DecodeFailure failure) {
            return new Row(input, 0, 0, null, failure);
        }
    }

    static Stream<Named<Row>> rows() {
        return Stream.of(
                Named.of("zero bytes", Row.fails(() -> new byte[0], DecodeFailure.EMPTY_INPUT)),
                Named.of("random bytes", Row.fails(() -> random(4096), DecodeFailure.UNSUPPORTED_FORMAT)),
                Named.of("HTML error page", Row.fails(
                        () -> "<!DOCTYPE html><html><body>404</body></html>".getBytes(StandardCharsets.UTF_8),
                        DecodeFailure.UNSUPPORTED_FORMAT)),
                Named.of("TIFF (readable by the JDK, refused here)",
                        Row.fails(() -> file("derived.tiff"), DecodeFailure.UNSUPPORTED_FORMAT)),
                Named.of("truncated JPEG", Row.fails(
                        () -> head(file("flower_small.q85_420_non_interleaved.jpg"), 0.6), DecodeFailure.TRUNCATED)),
                Named.of("JPEG cut inside its header", Row.fails(
                        () -> Arrays.copyOf(file("flower_small.q85_420_non_interleaved.jpg"), 300), DecodeFailure.TRUNCATED)),
                Named.of("truncated progressive JPEG", Row.fails(
                        () -> head(file("flower.png.im_q85_420_progr.jpg"), 0.5), DecodeFailure.TRUNCATED)),
                Named.of("truncated PNG", Row.fails(
                        () -> head(file("cvo9xd_keong_macan_srgb8.png"), 0.5), DecodeFailure.TRUNCATED)),
                Named.of("PNG signature only", Row.fails(
                        () -> Arrays.copyOf(file("ccwn3p08.png"), 8), DecodeFailure.TRUNCATED)),
                Named.of("JPEG with a corrupt Huffman table", Row.fails(
                        () -> corruptHuffmanTable(file("flower_small.q85_420_non_interleaved.jpg")),
                        DecodeFailure.CORRUPT)),
                Named.of("PNG with a bad IDAT CRC", Row.fails(
                        () -> flipInChunk(file("cvo9xd_keong_macan_srgb8.png"), "IDAT"), DecodeFailure.CORRUPT)),
                Named.of("PNG with a bad IHDR CRC", Row.fails(
                        () -> flipInChunk(file("ccwn3p08.png"), "IHDR"), DecodeFailure.CORRUPT)),
                Named.of("PNG IHDR with bit depth 7", Row.fails(
                        () -> pngHeaderOnly(32, 32, 7, 2), DecodeFailure.CORRUPT)),
                Named.of("PNG IHDR with width 0", Row.fails(
                        () -> pngHeaderOnly(0, 32, 8, 2), DecodeFailure.INVALID_DIMENSIONS)),
                Named.of("PNG bomb 100000x100000", Row.fails(
                        () -> pngHeaderOnly(100_000, 100_000, 8, 2), DecodeFailure.TOO_MANY_PIXELS)),
                Named.of("JPEG SOF declaring 60000x60000", Row.fails(
                        () -> jpegWithSize(file("flower_small.q85_420_non_interleaved.jpg"), 60_000, 60_000),
                        DecodeFailure.TOO_MANY_PIXELS)),
                Named.of("GIF logical screen 65535x65535", Row.fails(
                        () -> gifWithScreen(file("traffic_light.gif"), 65_535, 65_535), DecodeFailure.TOO_MANY_PIXELS)),
                Named.of("1x1 PNG", Row.ok(() -> solidPng(1, 1, 0x123456), 1, 1,
                        img -> assertPixel(img, 0, 0, 0x12, 0x34, 0x56))),
                Named.of("4000x3000 solid PNG (large but allowed)", Row.ok(() -> solidPng(4000, 3000, 0x20a0f0), 4000, 3000,
                        img -> assertPixel(img, 3999, 2999, 0x20, 0xa0, 0xf0))),
                Named.of("CMYK JPEG", Row.ok(() -> file("derived_cmyk.jpg"), 510, 532,
                        img -> assertMeanClose(img, "flower_small.q85_420_non_interleaved.jpg", 12))),
                Named.of("16-bit RGB PNG", Row.ok(() -> file("DJI-FC6310-16bit_709_v4_krita.png"), 64, 64)),
                Named.of("16-bit gray PNG", Row.ok(() -> file("derived_gray16.png"), 500, 500,
                        img -> assertEquals(img.rgb()[0], img.rgb()[1], "gray replicated"))),
                Named.of("8-bit palette PNG", Row.ok(() -> file("ccwn3p08.png"), 32, 32)),
                Named.of("4-bit palette PNG", Row.ok(() -> file("g10n3p04.png"), 32, 32)),
                Named.of("4-bit gray PNG", Row.ok(() -> file("ct1n0g04.png"), 32, 32)),
                Named.of("gray+alpha PNG (left column fully transparent -> white)", Row.ok(
                        () -> file("derived_gray_alpha.png"), 200, 150, img -> assertPixel(img, 0, 75, 255, 255, 255))),
                Named.of("interlaced PNG", Row.ok(() -> file("derived_interlaced.png"), 201, 151,
                        img -> assertSamePixels(img, "derived_interlaced_source.png"))),
                Named.of("animated GIF, first frame", Row.ok(() -> file("animation_patches.gif"), 700, 175)),
                Named.of("animated GIF traffic light, first frame", Row.ok(() -> file("traffic_light.gif"), 60, 105)),
                Named.of("lossless WebP", Row.ok(() -> file("derived_lossless.webp"), 128, 96,
                        img -> assertSamePixels(img, "derived_lossless_source.png"))),
                Named.of("lossy WebP", Row.ok(() -> file("derived_lossy.webp"), 128, 96)),
                Named.of("truncated WebP", Row.fails(() -> head(file("derived_lossless.webp"), 0.5), DecodeFailure.TRUNCATED)),
                Named.of("WebP with alpha (transparent left column -> white)", Row.ok(() -> file("derived_alpha.webp"), 128, 96,
                        img -> assertPixel(img, 0, 48, 255, 255, 255))),
                Named.of("animated WebP, first frame", Row.ok(() -> file("derived_animated.webp"), 128, 96,
                        img -> assertSamePixels(img, "derived_lossless_source.png"))),
                Named.of("EXIF orientation 6 WebP", Row.ok(() -> file("derived_exif_orientation6.webp"), 120, 160,
                        img -> assertRed(img, 119 - 10, 10))),
                Named.of("lossy WebP cut short, RIFF size patched to match", Row.fails(
                        () -> riffSizeMatched(head(file("derived_lossy.webp"), 0.6)), DecodeFailure.TRUNCATED)),
                Named.of("lossy WebP with a broken VP8 start code", Row.fails(
                        () -> replaced(file("derived_lossy.webp"), new byte[] {(byte) 0x9d, 0x01, 0x2a}, new byte[] {0, 0, 0}),
                        DecodeFailure.CORRUPT)),
                Named.of("animated WebP canvas 16384x16384", Row.fails(
                        () -> webpWithCanvas(file("derived_animated.webp"), 16_384, 16_384), DecodeFailure.TOO_MANY_PIXELS)),
                Named.of("AVIF (refused by name)", Row.fails(() -> isoBmff("avif"), DecodeFailure.UNSUPPORTED_FORMAT)),
                Named.of("HEIC (refused by name)", Row.fails(() -> isoBmff("heic"), DecodeFailure.UNSUPPORTED_FORMAT)),
                Named.of("JPEG with extraneous bytes before EOI (a libjpeg warning, decoded as Pillow does)", Row.ok(
                        () -> extraneousBytesBeforeEoi(file("flower_small.q85_420_non_interleaved.jpg")), 510, 532)),
                Named.of("BMP", Row.ok(() -> file("derived.bmp"), 150, 100)),
                // The stored top-left corner is a red block; orientation 6 shows it top-right, 3 bottom-right.
                Named.of("EXIF orientation 6 JPEG", Row.ok(() -> file("derived_exif_orientation6.jpg"), 120, 160,
                        img -> assertRed(img, 119 - 10, 10))),
                Named.of("EXIF orientation 3 JPEG", Row.ok(() -> file("derived_exif_orientation3.jpg"), 160, 120,
                        img -> assertRed(img, 159 - 10, 119 - 10))),
                Named.of("1x1 JPEG with EXIF and XMP", Row.ok(() -> file("1x1_exif_xmp.jpg"), 1, 1)),
                Named.of("PNG with eXIf chunk", Row.ok(() -> file("exif2c08.png"), 32, 32)),
                Named.of("grayscale JPEG", Row.ok(() -> file("flower.png.im_q85_gray.jpg"), 2268, 1512,
                        img -> assertEquals(img.rgb()[3000], img.rgb()[3002], "gray replicated"))),
                Named.of("progressive JPEG", Row.ok(() -> file("flower.png.im_q85_420_progr.jpg"), 2268, 1512)),
                Named.of("non-interleaved JPEG", Row.ok(() -> file("flower_small.q85_420_non_interleaved.jpg"), 510, 532)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decodesOrFailsTyped(Row row) {
        byte[] input = row.input().get();
        try {
            DecodedImage image = DECODER.decode(input);
            if (row.failure() != null) {
                fail("expected " + row.failure() + " but decoded " + image.width() + "x" + image.height());
            }
            assertEquals(row.width(), image.width(), "width");
            assertEquals(row.height(), image.height(), "height");
            assertEquals((long) row.width() * row.height() * 3, image.rgb().length, "rgb length");
            row.check().accept(image);
        } catch (ImageDecodeException e) {
            if (row.failure() == null) {
                throw new AssertionError("expected a " + row.width() + "x" + row.height() + " image", e);
            }
            assertEquals(row.failure(), e.reason(), e::getMessage);
            assertTrue(e.getMessage().startsWith(row.failure().code() + ": "), e.getMessage());
        }
    }

    static Stream<Named<Supplier<byte[]>>> bombs() {
        return Stream.of(
                Named.of("PNG 100000x100000 RGBA", () -> pngHeaderOnly(100_000, 100_000, 8, 6)),
                Named.of("JPEG 60000x60000", () -> jpegWithSize(file("flower_small.q85_420_non_interleaved.jpg"), 60_000, 60_000)),
                Named.of("GIF screen 65535x65535", () -> gifWithScreen(file("traffic_light.gif"), 65_535, 65_535)),
                Named.of("BMP 65000x65000", () -> ImageMutations.bmpHeader(65_000, 65_000, 24, 0, 0)),
                Named.of("WebP canvas 16384x16384", () -> webpWithCanvas(file("derived_animated.webp"), 16_384, 16_384)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bombs")
    void refusesBombsFromTheHeaderWithoutAllocatingPixels(Supplier<byte[]> input) {
        byte[] bomb = input.get();
        ImageDecodeException[] failure = new ImageDecodeException[1];
        long allocated = allocatedBy(() -> failure[0] = assertThrows(ImageDecodeException.class, () -> DECODER.decode(bomb)));
        ImageDecodeException e = failure[0];
        assertEquals(DecodeFailure.TOO_MANY_PIXELS, e.reason());
        // The smallest of these would take 3.6 GB decoded; a few MB is the reader and the input stream.
        System.out.printf("bomb %s: refused after allocating %d KiB%n", e.getMessage(), allocated >> 10);
        assertTrue(allocated < 8 << 20, "allocated " + allocated + " bytes");
    }

    /** At the largest pixel limit, a canvas whose RGBA buffer would not fit one array is a limit refusal, not an int overflow. */
    @Test
    void aWebPCanvasBeyondTheLargestLimitIsTooManyPixelsAtThatLimit() {
        ImageDecoder widest = ImageDecoder.builder().maxPixels(ImageDecoder.MAX_PIXELS_LIMIT).build();
        byte[] canvas = webpWithCanvas(file("derived_animated.webp"), 24_000, 24_000);

        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> widest.decode(canvas));
        assertEquals(DecodeFailure.TOO_MANY_PIXELS, e.reason(), e::getMessage);
    }

    /** The JDK's BMP reader allocated the header's image size for an embedded JPEG/PNG (2 GiB here) before reading it. */
    @Test
    void bmpWithEmbeddedJpegDeclaringTwoGib_refusedWithoutAllocatingIt() {
        for (int compression : new int[] {4, 5}) {
            byte[] bmp = ImageMutations.bmpHeader(1, 1, 24, compression, Integer.MAX_VALUE - 64);
            ImageDecodeException[] failure = new ImageDecodeException[1];
            long allocated = allocatedBy(() -> failure[0] = assertThrows(ImageDecodeException.class, () -> DECODER.decode(bmp)));
            assertEquals(DecodeFailure.UNSUPPORTED_FORMAT, failure[0].reason(), failure[0].getMessage());
            assertTrue(allocated < 8 << 20, "allocated " + allocated + " bytes");
        }
    }

    /**
     * The JDK 17 GIF reader copied a comment's bytes so far for each of its 255-byte sub-blocks (8 GB allocated
     * for this 1 MB comment); the decoder hands it the first frame without its extensions.
     */
    @Test
    void gifWithOneMegabyteComment_decodesTheFirstFrameWithoutCopyingTheComment() throws Exception {
        byte[] gif = file("traffic_light.gif");
        byte[] commented = ImageMutations.gifWithComment(gif, 1 << 20);
        DecodedImage[] decoded = new DecodedImage[1];
        long allocated = allocatedBy(() -> decoded[0] = DECODER.decode(commented));
        assertArrayEquals(DECODER.decode(gif).rgb(), decoded[0].rgb());
        assertTrue(allocated < 32 << 20, "allocated " + allocated + " bytes");
    }

    /**
     * Byte flips and cuts in files the native codecs read: each mutant decodes or fails with a typed reason,
     * and nothing reaches past a buffer (a native crash would take the test JVM down).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("mutationSources")
    void mutatedFilesDecodeOrFailTyped(String name) {
        byte[] original = file(name);
        java.util.Random random = new java.util.Random(name.hashCode());
        java.util.Map<String, Integer> outcomes = new java.util.TreeMap<>();
        for (int i = 0; i < MUTANTS; i++) {
            byte[] mutant = original.clone();
            for (int flips = 1 + random.nextInt(8); flips > 0; flips--) {
                mutant[12 + random.nextInt(mutant.length - 12)] ^= (byte) (1 + random.nextInt(255));
            }
            if (random.nextInt(4) == 0) {
                mutant = Arrays.copyOf(mutant, 12 + random.nextInt(mutant.length - 12));
            }
            try {
                DECODER.decode(mutant);
                outcomes.merge("decoded", 1, Integer::sum);
            } catch (ImageDecodeException e) {
                outcomes.merge(e.reason().code(), 1, Integer::sum);
            }
        }
        System.out.printf("%d mutants of %s: %s%n", MUTANTS, name, outcomes);
        assertEquals(MUTANTS, outcomes.values().stream().mapToInt(Integer::intValue).sum());
    }

    private static final int MUTANTS = 400;

    static Stream<String> mutationSources() {
        return Stream.of("flower_small.q85_420_non_interleaved.jpg", "1x1_exif_xmp.jpg", "derived_exif_orientation6.jpg",
                "derived_lossy.webp", "derived_lossless.webp", "derived_alpha.webp", "derived_animated.webp",
                "derived_exif_orientation6.webp");
    }

    @Test
    void namesTheFormatsItRefusesOnPurpose() {
        for (String brand : new String[] {"avif", "heic"}) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> DECODER.decode(isoBmff(brand)));
            assertEquals("unsupported_format: " + (brand.equals("avif") ? "AVIF" : "HEIF/HEIC")
                    + " is not supported (JPEG, PNG, WebP, GIF and BMP are)", e.getMessage());
        }
    }

    @Test
    void aMissingCodecLibraryIsNamedWithItsPackage() {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeCodecs.load(
                new NativeCodecs.Library("libnothing (test)", java.util.List.of("nothing-here", "libnothing.so.9"),
                        "libnothing9", "nothing")));
        assertEquals("libnothing (test) is not installed (tried nothing-here, libnothing.so.9; Debian package "
                + "libnothing9, Homebrew nothing)", e.getMessage());
    }

    @Test
    void refusesInputsOverTheByteLimit() {
        ImageDecoder small = ImageDecoder.builder().maxInputBytes(1000).build();
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> small.decode(file("flower_small.q85_420_non_interleaved.jpg")));
        assertEquals(DecodeFailure.INPUT_TOO_LARGE, e.reason());
    }

    @Test
    void refusesImagesOverThePixelLimit() {
        ImageDecoder small = ImageDecoder.builder().maxPixels(500 * 500 - 1).build();
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> small.decode(file("cvo9xd_keong_macan_srgb8.png")));
        assertEquals(DecodeFailure.TOO_MANY_PIXELS, e.reason());
    }

    @Test
    void compositesOverTheConfiguredBackground() throws ImageDecodeException {
        DecodedImage black = ImageDecoder.builder().alphaBackground(0, 0, 0).build()
                .decode(file("derived_gray_alpha.png"));
        assertPixel(black, 0, 75, 0, 0, 0);
    }

    @Test
    void builderRejectsInvalidSettingsNamingThem() {
        assertMessage("maxPixels", () -> ImageDecoder.builder().maxPixels(0));
        assertMessage("maxPixels", () -> ImageDecoder.builder().maxPixels(Long.MAX_VALUE));
        assertMessage("maxInputBytes", () -> ImageDecoder.builder().maxInputBytes(-1));
        assertMessage("alphaBackground", () -> ImageDecoder.builder().alphaBackground(0, 256, 0));
        assertMessage("alphaBackground", () -> ImageDecoder.builder().alphaBackground(-1, 0, 0));
    }

    /**
     * The codes are written into dead letters and dashboards: renaming one (constant or code) breaks their
     * readers, so the full list is fixed here and only ever grows.
     */
    @Test
    void reasonCodesAreTheDocumentedOnes() {
        assertEquals(
                java.util.List.of("empty_input", "input_too_large", "unsupported_format", "truncated", "corrupt",
                        "too_many_pixels", "invalid_dimensions", "unsupported_color_model", "out_of_memory"),
                java.util.Arrays.stream(DecodeFailure.values()).map(DecodeFailure::code).toList());
    }

    private static void assertMessage(String setting, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(setting), e.getMessage());
    }

    // ---- inputs ----

    private static byte[] file(String name) {
        return TestPaths.testImageBytes(name);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }



    /** Sets the RIFF size to the (shortened) payload, so only the VP8 chunk inside is short. */
    private static byte[] riffSizeMatched(byte[] webp) {
        byte[] out = webp.clone();
        ByteBuffer.wrap(out, 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(out.length - 8);
        return out;
    }



    private static byte[] extraneousBytesBeforeEoi(byte[] jpeg) {
        byte[] out = new byte[jpeg.length + 2];
        System.arraycopy(jpeg, 0, out, 0, jpeg.length - 2);
        out[jpeg.length - 2] = 0x12;
        out[jpeg.length - 1] = 0x34;
        out[jpeg.length] = (byte) 0xff;
        out[jpeg.length + 1] = (byte) 0xd9;
        return out;
    }

    private static byte[] replaced(byte[] data, byte[] what, byte[] with) {
        byte[] out = data.clone();
        int at = indexOf(out, what, 0);
        System.arraycopy(with, 0, out, at, with.length);
        return out;
    }








    // ---- checks ----

    /** Bytes this thread allocated while running {@code action} (HotSpot counts every allocation per thread). */
    private static long allocatedBy(org.junit.jupiter.api.function.Executable action) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long threadId = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(threadId);
        try {
            action.execute();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return threads.getThreadAllocatedBytes(threadId) - before;
    }

    private static void assertPixel(DecodedImage img, int x, int y, int r, int g, int b) {
        int i = (y * img.width() + x) * 3;
        assertArrayEquals(new int[] {r, g, b},
                new int[] {img.rgb()[i] & 0xff, img.rgb()[i + 1] & 0xff, img.rgb()[i + 2] & 0xff},
                "pixel (" + x + ", " + y + ")");
    }

    /** JPEG-tolerant "this is the red marker block" check. */
    private static void assertRed(DecodedImage img, int x, int y) {
        int i = (y * img.width() + x) * 3;
        int r = img.rgb()[i] & 0xff;
        int g = img.rgb()[i + 1] & 0xff;
        int b = img.rgb()[i + 2] & 0xff;
        assertTrue(r > 200 && g < 60 && b < 60, "pixel (" + x + ", " + y + ") should be red, is " + r + "," + g + "," + b);
    }

    private static void assertSamePixels(DecodedImage img, String losslessSource) {
        try {
            DecodedImage expected = DECODER.decode(file(losslessSource));
            assertEquals(expected.width(), img.width());
            assertArrayEquals(expected.rgb(), img.rgb(), "pixels differ from " + losslessSource);
        } catch (ImageDecodeException e) {
            throw new AssertionError(e);
        }
    }

    /** CMYK round trips are not exact (profiles, inversion); the mean colour must still be close. */
    private static void assertMeanClose(DecodedImage img, String rgbSource, double tolerance) {
        try {
            DecodedImage expected = DECODER.decode(file(rgbSource));
            for (int c = 0; c < 3; c++) {
                double a = channelMean(img, c);
                double e = channelMean(expected, c);
                assertTrue(Math.abs(a - e) < tolerance, "channel " + c + " mean " + a + " vs " + e);
            }
        } catch (ImageDecodeException e) {
            throw new AssertionError(e);
        }
    }

    private static double channelMean(DecodedImage img, int channel) {
        long sum = 0;
        for (int i = channel; i < img.rgb().length; i += 3) {
            sum += img.rgb()[i] & 0xff;
        }
        return (double) sum / (img.rgb().length / 3);
    }
}
