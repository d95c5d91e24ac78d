package io.vqrae.pipeline.reliability;

import static io.vqrae.models.testing.ImageMutations.bmpHeader;
import static io.vqrae.models.testing.ImageMutations.corruptHuffmanTable;
import static io.vqrae.models.testing.ImageMutations.flipInChunk;
import static io.vqrae.models.testing.ImageMutations.gifWithComment;
import static io.vqrae.models.testing.ImageMutations.gifWithScreen;
import static io.vqrae.models.testing.ImageMutations.head;
import static io.vqrae.models.testing.ImageMutations.indexOf;
import static io.vqrae.models.testing.ImageMutations.isoBmff;
import static io.vqrae.models.testing.ImageMutations.jpegWithSize;
import static io.vqrae.models.testing.ImageMutations.pngChunk;
import static io.vqrae.models.testing.ImageMutations.pngHeaderOnly;
import static io.vqrae.models.testing.ImageMutations.solidPng;
import static io.vqrae.models.testing.ImageMutations.webpWithCanvas;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.schemas.TokenRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FailureStage;
import io.vqrae.schemas.ImageRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The hostile-input campaign: real images from {@code .testdata} and the demo's scenes, files derived from them
 * by cutting, flipping, zeroing and editing headers, non-image bodies, decompression bombs, inputs at the limits, and
 * Kafka records that are not {@code ImageRecord}s. Deterministic: the same list, bytes and expectations every run.
 *
 * <p>The limits the expectations assume are {@link #MAX_PIXELS} and {@link #MAX_IMAGE_BYTES}.
 */
public final class HostileInputs {
    /** {@code limits.max-pixels} of the campaign: 2000 x 2000, above every real photo used (2268 x 1512). */
    public static final long MAX_PIXELS = 2000L * 2000;
    /** {@code limits.max-image-bytes} of the campaign. */
    public static final int MAX_IMAGE_BYTES = 4 << 20;

    private static final String MAX_PIXELS_SIDE = "2000";

    /** What should become of an input: tokenized, or one dead letter with this stage and reason. */
    public record Outcome(FailureStage stage, String reason) {
        public static final Outcome TOKENIZED = new Outcome(null, "tokenized");

        static Outcome dead(FailureStage stage, String reason) {
            return new Outcome(stage, reason);
        }

        @Override
        public String toString() {
            return stage == null ? reason : stage + "/" + reason;
        }
    }

    /**
     * One record on the input topic.
     *
     * @param name unique, stable name (the ImageRecord id for image inputs)
     * @param category the campaign's grouping (the report's rows)
     * @param what the input in words
     * @param key the Kafka key
     * @param value the Kafka value (null for a tombstone)
     * @param headers Kafka headers
     * @param expected what the job must make of it
     */
    public record Input(String name, String category, String what, byte[] key, byte[] value, List<Header> headers, Outcome expected) {}

    private final List<Input> inputs = new ArrayList<>();

    private HostileInputs() {}

    /** The whole campaign; {@code scratch} holds the demo's generated scenes. */
    public static List<Input> all(Path scratch) throws IOException {
        HostileInputs c = new HostileInputs();
        c.valid(scratch);
        c.jpeg();
        c.png();
        c.webp();
        c.gif();
        c.bmp();
        c.notImages();
        c.limits();
        c.records();
        return List.copyOf(c.inputs);
    }

    private void valid(Path scratch) throws IOException {
        String cat = "valid odd files";
        image("jpeg-420", cat, "real photo, JPEG 4:2:0 (2268x1512)", file("flower.png.im_q85_420.jpg"));
        image("jpeg-progressive", cat, "progressive JPEG", file("flower.png.im_q85_420_progr.jpg"));
        image("jpeg-gray", cat, "grayscale JPEG", file("flower.png.im_q85_gray.jpg"));
        image("jpeg-cmyk", cat, "Adobe CMYK JPEG", file("derived_cmyk.jpg"));
        image("jpeg-exif-rotated", cat, "JPEG with EXIF orientation 6", file("derived_exif_orientation6.jpg"));
        image("jpeg-1x1", cat, "1x1 JPEG with EXIF and XMP", file("1x1_exif_xmp.jpg"));
        image("png-16bit-rgb", cat, "16-bit RGB PNG", file("DJI-FC6310-16bit_709_v4_krita.png"));
        image("png-16bit-gray", cat, "16-bit grayscale PNG", file("derived_gray16.png"));
        image("png-palette", cat, "palette PNG", file("ccwn3p08.png"));
        image("png-gray-alpha", cat, "gray + alpha PNG", file("derived_gray_alpha.png"));
        image("png-interlaced", cat, "Adam7-interlaced PNG", file("derived_interlaced.png"));
        image("png-1x65000", cat, "1x65000 PNG", solidPng(1, 65_000, 0x336699));
        image("webp-lossy", cat, "lossy WebP", file("derived_lossy.webp"));
        image("webp-lossless", cat, "lossless WebP", file("derived_lossless.webp"));
        image("webp-alpha", cat, "WebP with alpha", file("derived_alpha.webp"));
        image("webp-exif-rotated", cat, "WebP with EXIF orientation 6", file("derived_exif_orientation6.webp"));
        image("bmp-24bit", cat, "24-bit BMP", file("derived.bmp"));
        SampleImages.write(scratch, 3);
        image("demo-scene-jpeg", cat, "the demo's generated scene, JPEG", Files.readAllBytes(scratch.resolve("scene-000.jpg")));
        image("demo-scene-png", cat, "the demo's generated scene, PNG", Files.readAllBytes(scratch.resolve("scene-002.png")));
        String anim = "animations";
        image("gif-animated", anim, "animated GIF: the first frame", file("animation_patches.gif"));
        image("gif-traffic-light", anim, "animated GIF, frames smaller than the screen: the first frame", file("traffic_light.gif"));
        image("webp-animated", anim, "animated WebP: the first frame", file("derived_animated.webp"));
    }

    private void jpeg() {
        String cat = "broken JPEG";
        byte[] photo = file("flower_small.q85_420_non_interleaved.jpg");
        dead("jpeg-truncated-half", cat, "cut at half", head(photo, 0.5), "truncated");
        dead("jpeg-header-only", cat, "cut before the first scan", Arrays.copyOf(photo, 200), "truncated");
        dead("jpeg-sof-zeroed", cat, "frame header zeroed", zeroedAfter(photo, new byte[] {(byte) 0xff, (byte) 0xc0}, 2, 8), "corrupt");
        dead("jpeg-bad-huffman", cat, "invalid Huffman table", corruptHuffmanTable(photo), "corrupt");
        dead("jpeg-absurd-sampling", cat, "luma sampling factors 0x0", absurdSampling(photo), "corrupt");
        dead("jpeg-65500x65500", cat, "declares 65500x65500 (bomb: 12 GB decoded)", jpegWithSize(photo, 65_500, 65_500), "too_many_pixels");
        dead("jpeg-zero-width", cat, "declares width 0 (libjpeg: empty image, DNL unsupported)", jpegWithSize(photo, 0, 100), "corrupt");
        dead("jpeg-signature-only", cat, "the 3-byte signature alone", new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff}, "truncated");
        image("jpeg-scan-bitflips", cat, "bits flipped inside the entropy-coded scan (decodes, like Pillow)", flipBits(photo, 0.8, 4));
        image("jpeg-scan-zeroed", cat, "a run of the scan zeroed (decodes, like Pillow)", zeroRange(photo, 0.6, 64));
        image("jpeg-rst-damage", cat, "a restart marker corrupted in a file with restart intervals", restartDamage(file("flower.png.im_q85_444.jpg")));
    }

    private void png() {
        String cat = "broken PNG";
        byte[] photo = file("vgqcws_vin_srgb8.png");
        dead("png-truncated", cat, "cut at half", head(photo, 0.5), "truncated");
        dead("png-ihdr-bad-crc", cat, "IHDR with a bad CRC", flipInChunk(photo, "IHDR"), "corrupt");
        dead("png-idat-bad-crc", cat, "IDAT with a bad CRC", flipInChunk(photo, "IDAT"), "corrupt");
        dead("png-idat-zeroed", cat, "IDAT body zeroed, CRC recomputed", idatZeroed(photo), "corrupt");
        dead("png-chunk-order", cat, "tEXt before IHDR", textBeforeIhdr(photo), "corrupt");
        image("png-no-iend", cat, "IEND missing (pixels complete; Pillow decodes it)", Arrays.copyOf(photo, photo.length - 12));
        image("png-huge-ztxt", cat, "a 3 MB zTXt chunk (ignored)", withChunkBeforeIdat(photo, "zTXt", compressedText(3 << 20)));
        image("png-huge-iccp", cat, "a 3 MB iCCP chunk (profiles are ignored)", withChunkBeforeIdat(photo, "iCCP", compressedText(3 << 20)));
        dead("png-65535x65535", cat, "declares 65535x65535 (bomb)", pngHeaderOnly(65_535, 65_535, 8, 2), "too_many_pixels");
        dead("png-zero-width", cat, "declares width 0", pngHeaderOnly(0, 10, 8, 2), "invalid_dimensions");
        dead("png-pixel-bomb", cat, "46 KB file of 6000x6000 actual pixels (over max-pixels)", solidPng(6000, 6000, 0), "too_many_pixels");
    }

    private void webp() {
        String cat = "broken WebP";
        byte[] lossy = file("derived_lossy.webp");
        dead("webp-truncated", cat, "cut at half", head(lossy, 0.5), "truncated");
        dead("webp-vp8-zeroed", cat, "VP8 frame header zeroed", zeroedAfter(lossy, "VP8 ".getBytes(StandardCharsets.US_ASCII), 8, 10), "corrupt");
        dead("webp-canvas-16384", cat, "VP8X canvas 16384x16384 (bomb)", webpWithCanvas(file("derived_animated.webp"), 16_384, 16_384), "too_many_pixels");
        dead("webp-riff-only", cat, "RIFF/WEBP header and nothing else", Arrays.copyOf(lossy, 12), "truncated");
    }

    private void gif() {
        String cat = "broken GIF";
        byte[] gif = file("traffic_light.gif");
        dead("gif-truncated", cat, "cut inside the first frame (was corrupt: the JDK reader's I/O error)", head(gif, 0.5), "truncated");
        dead("gif-screen-65535", cat, "logical screen 65535x65535 (bomb)", gifWithScreen(gif, 65_535, 65_535), "too_many_pixels");
        dead("gif-header-only", cat, "header and colour table, no image", Arrays.copyOf(gif, 13 + 3 * 64), "truncated");
        image("gif-1mb-comment", cat, "a 1 MB comment before the first frame (was 8 GB of copying)", gifWithComment(gif, 1 << 20));
    }

    private void bmp() {
        String cat = "broken BMP";
        byte[] bmp = file("derived.bmp");
        dead("bmp-truncated", cat, "cut at half", head(bmp, 0.5), "truncated");
        dead("bmp-65000x65000", cat, "declares 65000x65000 (bomb; was corrupt, the JDK reader's size check)", bmpHeader(65_000, 65_000, 24, 0, 0), "too_many_pixels");
        dead("bmp-embedded-jpeg-2gib", cat, "embedded JPEG declaring 2 GiB (was a 2 GiB allocation)",
                bmpHeader(1, 1, 24, 4, Integer.MAX_VALUE - 64), "unsupported_format");
        dead("bmp-embedded-png", cat, "embedded PNG (compression 5)", bmpHeader(1, 1, 24, 5, 1 << 20), "unsupported_format");
    }

    private void notImages() {
        String cat = "not images";
        dead("zero-bytes", cat, "no bytes", new byte[0], "empty_input");
        dead("random-bytes", cat, "64 KiB of random bytes", random(64 << 10), "unsupported_format");
        dead("text", cat, "plain text", utf8("just some text, not an image\n"), "unsupported_format");
        dead("html", cat, "an HTML error page", utf8("<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"), "unsupported_format");
        dead("json", cat, "a JSON body", utf8("{\"error\": \"rate limited\", \"retry_after\": 30}"), "unsupported_format");
        dead("svg", cat, "an SVG image", utf8("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>"),
                "unsupported_format");
        dead("pdf", cat, "a PDF header", utf8("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj << /Type /Catalog >> endobj\n"), "unsupported_format");
        dead("tiff", cat, "a real TIFF (refused like Pillow's missing plugins)", file("derived.tiff"), "unsupported_format");
        dead("avif", cat, "an AVIF ftyp box", isoBmff("avif"), "unsupported_format");
    }

    private void limits() {
        String cat = "limits";
        String side = MAX_PIXELS_SIDE;
        image("pixels-at-limit", cat, side + "x" + side + " PNG: exactly limits.max-pixels", solidPng(2000, 2000, 0x808080));
        dead("pixels-over-limit", cat, side + "x2001 PNG: one row over limits.max-pixels", solidPng(2000, 2001, 0x808080), "too_many_pixels");
        byte[] small = file("vgqcws_vin_srgb8.png");
        image("bytes-at-limit", cat, "PNG padded after IEND to exactly limits.max-image-bytes", Arrays.copyOf(small, MAX_IMAGE_BYTES));
        dead("bytes-over-limit", cat, "the same, one byte longer", Arrays.copyOf(small, MAX_IMAGE_BYTES + 1), "input_too_large");
    }

    private void records() {
        String cat = "Kafka records";
        byte[] valid = imageRecord("record-valid-reference", file("vgqcws_vin_srgb8.png"));
        raw("record-null-value", cat, "null value (tombstone)", utf8("record-null-value"), null, List.of(), malformed());
        raw("record-empty-value", cat, "empty value", utf8("record-empty-value"), new byte[0], List.of(), malformed());
        raw("record-null-key-garbage", cat, "no key, random value", null, random(300), List.of(), malformed());
        byte[] wrongFingerprint = valid.clone();
        wrongFingerprint[5] ^= 0x5a;
        raw("record-wrong-fingerprint", cat, "ImageRecord with a wrong schema fingerprint", utf8("record-wrong-fingerprint"), wrongFingerprint,
                List.of(), malformed());
        raw("record-other-schema", cat, "valid Avro of another schema (a DeadLetterRecord)", utf8("record-other-schema"), otherSchema(), List.of(),
                malformed());
        raw("record-declares-2gb-image", cat, "20-byte ImageRecord declaring a 2 GB image (was OutOfMemoryError on a 1 GiB heap)",
                utf8("record-declares-2gb-image"), declaredImageOf2Gb(valid), List.of(), malformed());
        raw("record-1mb-key", cat, "a 1 MB key on a valid ImageRecord (the record's id wins)", new byte[1 << 20],
                imageRecord("record-1mb-key", file("vgqcws_vin_srgb8.png")), List.of(), Outcome.TOKENIZED);
        raw("record-1mb-key-garbage", cat, "a 1 MB key on a garbage value (the dead letter sheds it to fit)", new byte[1 << 20],
                utf8("garbage"), List.of(), malformed());
        List<Header> odd = new ArrayList<>();
        odd.add(new RecordHeader("", new byte[0]));
        odd.add(new RecordHeader("null-value", null));
        odd.add(new RecordHeader("binary", random(4096)));
        for (int i = 0; i < 100; i++) {
            odd.add(new RecordHeader("dup", new byte[] {(byte) i}));
        }
        raw("record-odd-headers", cat, "valid ImageRecord with 103 odd headers (empty name, null value, duplicates)",
                utf8("record-odd-headers"), imageRecord("record-odd-headers", file("vgqcws_vin_srgb8.png")), odd, Outcome.TOKENIZED);
    }

    /** {@code limits.max-pixels} of the memory run: 4096 x 4096. */
    public static final long ATTACK_MAX_PIXELS = 4096L * 4096;
    /** {@code limits.max-image-bytes} of the memory run. */
    public static final int ATTACK_MAX_IMAGE_BYTES = 8 << 20;

    /**
     * {@code count} decompression bombs and oversized inputs for the memory run (limits {@link #ATTACK_MAX_PIXELS} and
     * {@link #ATTACK_MAX_IMAGE_BYTES}), cycling through: a header-declared bomb in every format, an embedded-JPEG BMP
     * and an ImageRecord declaring 2 GB, PNGs of actual pixels just under (decoded) and just over the pixel limit, a GIF
     * with a 1 MB comment, and an input one byte over the byte limit.
     */
    public static List<Input> bombs(int count) {
        byte[] jpeg = file("flower_small.q85_420_non_interleaved.jpg");
        byte[] gif = file("traffic_light.gif");
        byte[] underPixels = solidPng(4096, 4096, 0);
        byte[] overPixels = solidPng(4097, 4096, 0);
        Outcome tooManyPixels = Outcome.dead(FailureStage.decode, "too_many_pixels");
        List<Bomb> kinds = List.of(
                new Bomb("jpeg-65500x65500", jpegWithSize(jpeg, 65_500, 65_500), tooManyPixels),
                new Bomb("png-65535x65535", pngHeaderOnly(65_535, 65_535, 8, 6), tooManyPixels),
                new Bomb("webp-canvas-16384", webpWithCanvas(file("derived_animated.webp"), 16_384, 16_384), tooManyPixels),
                new Bomb("gif-screen-65535", gifWithScreen(gif, 65_535, 65_535), tooManyPixels),
                new Bomb("bmp-65000x65000", bmpHeader(65_000, 65_000, 32, 0, 0), tooManyPixels),
                new Bomb("bmp-embedded-jpeg-2gib", bmpHeader(1, 1, 24, 4, Integer.MAX_VALUE - 64),
                        Outcome.dead(FailureStage.decode, "unsupported_format")),
                new Bomb("png-4097x4096-actual", overPixels, tooManyPixels),
                new Bomb("png-4096x4096-actual", underPixels, Outcome.TOKENIZED),
                new Bomb("gif-1mb-comment", gifWithComment(gif, 1 << 20), Outcome.TOKENIZED),
                new Bomb("bytes-over-limit", Arrays.copyOf(file("vgqcws_vin_srgb8.png"), ATTACK_MAX_IMAGE_BYTES + 1),
                        Outcome.dead(FailureStage.decode, "input_too_large")),
                new Bomb("record-declares-2gb-image", null, malformed()));
        byte[] recordBomb = declaredImageOf2Gb(imageRecord("record-valid-reference", new byte[0]));
        List<Input> bombs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Bomb kind = kinds.get(i % kinds.size());
            String name = String.format("bomb-%03d-%s", i, kind.kind());
            byte[] value = kind.file() == null ? recordBomb : imageRecord(name, kind.file());
            bombs.add(new Input(name, kind.kind(), "", utf8(name), value, List.of(), kind.expected()));
        }
        return bombs;
    }

    /** A kind of bomb: an image file, or null for the ImageRecord that declares a 2 GB image. */
    private record Bomb(String kind, byte[] file, Outcome expected) {}

    // ---- building the inputs ----

    private void image(String name, String category, String what, byte[] bytes) {
        raw(name, category, what, utf8(name), imageRecord(name, bytes), List.of(), Outcome.TOKENIZED);
    }

    private void dead(String name, String category, String what, byte[] bytes, String reason) {
        raw(name, category, what, utf8(name), imageRecord(name, bytes), List.of(), Outcome.dead(FailureStage.decode, reason));
    }

    private void raw(String name, String category, String what, byte[] key, byte[] value, List<Header> headers, Outcome expected) {
        if (inputs.stream().anyMatch(i -> i.name().equals(name))) {
            throw new IllegalArgumentException("Two inputs named " + name);
        }
        inputs.add(new Input(name, category, what, key, value, headers, expected));
    }

    private static Outcome malformed() {
        return Outcome.dead(FailureStage.source, "malformed_record");
    }

    /** Produces every input as it is (key, value, headers) with a plain producer; returns the inputs by offset. */
    static Map<Long, Input> send(JobConfig.Kafka kafka, List<Input> inputs) throws Exception {
        Properties props = KafkaClients.properties(kafka);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(64 << 20));
        Map<Long, Input> byOffset = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Input input : inputs) {
                long offset = producer.send(new ProducerRecord<>(kafka.topics().input(), 0, input.key(), input.value(), input.headers()))
                        .get().offset();
                byOffset.put(offset, input);
            }
        }
        return byOffset;
    }

    /**
     * What became of each input offset in the committed outputs: {@code tokenized}, {@code STAGE/reason}, or
     * several joined by {@code " + "} (a duplicate).
     */
    static Map<Long, String> outcomesByOffset(OutputReader.Outputs out) {
        Map<Long, List<String>> outcomes = new TreeMap<>();
        for (TokenRecord t : out.tokens()) {
            outcomes.computeIfAbsent(t.getSourceOffset(), o -> new ArrayList<>()).add("tokenized");
        }
        for (DeadLetterRecord d : out.deadLetters()) {
            outcomes.computeIfAbsent(d.getSourceOffset(), o -> new ArrayList<>()).add(d.getStage() + "/" + d.getReason());
        }
        Map<Long, String> joined = new TreeMap<>();
        outcomes.forEach((offset, list) -> joined.put(offset, String.join(" + ", list)));
        return joined;
    }

    static byte[] imageRecord(String id, byte[] image) {
        try {
            ByteBuffer buffer = ImageRecord.newBuilder().setId(id).setImage(ByteBuffer.wrap(image)).build().toByteBuffer();
            return Arrays.copyOfRange(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.arrayOffset() + buffer.limit());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] otherSchema() {
        try {
            ByteBuffer buffer = DeadLetterRecord.newBuilder().setId("x").setStage(FailureStage.decode).setReason("corrupt")
                    .setMessage("a dead letter fed back as input").setFailedAt(java.time.Instant.ofEpochMilli(0)).build().toByteBuffer();
            return Arrays.copyOfRange(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.arrayOffset() + buffer.limit());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The single-object header and id of {@code valid} (id "record-valid-reference"), then an image length of 2,146,435,072. */
    private static byte[] declaredImageOf2Gb(byte[] valid) {
        int idEnd = 10 + 1 + "record-valid-reference".length();
        byte[] out = Arrays.copyOf(valid, idEnd + 8);
        byte[] length = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0xff, 0x0f, 1, 2, 3};
        System.arraycopy(length, 0, out, idEnd, length.length);
        return out;
    }

    // ---- derived files ----

    static byte[] file(String name) {
        return TestPaths.testImageBytes(name);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static byte[] zeroedAfter(byte[] data, byte[] marker, int skip, int count) {
        byte[] out = data.clone();
        int at = indexOf(out, marker, 2) + marker.length + skip;
        Arrays.fill(out, at, at + count, (byte) 0);
        return out;
    }

    private static byte[] zeroRange(byte[] data, double where, int count) {
        byte[] out = data.clone();
        int at = (int) (out.length * where);
        Arrays.fill(out, at, at + count, (byte) 0);
        return out;
    }

    /** Flips {@code count} bits at a fraction of the file, away from any 0xFF byte so no marker is created or broken. */
    private static byte[] flipBits(byte[] data, double where, int count) {
        byte[] out = data.clone();
        int at = (int) (out.length * where);
        for (int i = 0; i < count; at++) {
            if ((out[at] & 0xff) < 0x7f && (out[at - 1] & 0xff) != 0xff) {
                out[at] ^= 0x10;
                i++;
            }
        }
        return out;
    }


    /** Sets the first component's horizontal and vertical sampling factors to 0 (libjpeg: "bogus sampling factors"). */
    private static byte[] absurdSampling(byte[] jpeg) {
        byte[] out = jpeg.clone();
        int sof = indexOf(out, new byte[] {(byte) 0xff, (byte) 0xc0}, 2);
        out[sof + 11] = 0x00;
        return out;
    }

    /**
     * Declares a restart interval (DRI, every 4 MCUs) that the scan does not follow: the decoder expects restart markers
     * that never come and resynchronises with a warning, as libjpeg does under Pillow.
     */
    private static byte[] restartDamage(byte[] jpeg) {
        int sos = indexOf(jpeg, new byte[] {(byte) 0xff, (byte) 0xda}, 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream(jpeg.length + 6);
        out.write(jpeg, 0, sos);
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xdd, 0, 4, 0, 4});
        out.write(jpeg, sos, jpeg.length - sos);
        return out.toByteArray();
    }

    private static byte[] idatZeroed(byte[] png) {
        int idat = indexOf(png, "IDAT".getBytes(StandardCharsets.US_ASCII), 8);
        int length = ByteBuffer.wrap(png, idat - 4, 4).getInt();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, idat - 4);
        pngChunk(out, "IDAT", new byte[length]);
        out.write(png, idat + 4 + length + 4, png.length - (idat + 4 + length + 4));
        return out.toByteArray();
    }

    private static byte[] textBeforeIhdr(byte[] png) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 8);
        pngChunk(out, "tEXt", utf8("Comment\0before the header"));
        out.write(png, 8, png.length - 8);
        return out.toByteArray();
    }

    private static byte[] withChunkBeforeIdat(byte[] png, String type, byte[] body) {
        int idat = indexOf(png, "IDAT".getBytes(StandardCharsets.US_ASCII), 8) - 4;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, idat);
        pngChunk(out, type, body);
        out.write(png, idat, png.length - idat);
        return out.toByteArray();
    }

    /** A keyword, a NUL, compression method 0 and {@code size} bytes of random (incompressible) data: the body of zTXt and iCCP. */
    private static byte[] compressedText(int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 16);
        out.writeBytes(utf8("Hostile\0\0"));
        out.writeBytes(random(size));
        return out.toByteArray();
    }

}
