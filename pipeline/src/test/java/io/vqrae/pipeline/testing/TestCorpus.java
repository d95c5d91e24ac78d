package io.vqrae.pipeline.testing;

import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.files.FileTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A small corpus in img2dataset's layouts, made by tests: WebDataset shards of {@code KEY.jpg|png},
 * {@code KEY.json} and {@code KEY.txt}, and a loose folder with a JSON sidecar, of real photos and
 * generated scenes, with broken files and a sample whose download failed (metadata only).
 *
 * @param shards the {@code .tar} shards
 * @param loose the folder of loose images
 * @param images id -> image bytes of every input that has an image (broken ones too)
 * @param broken ids whose bytes do not decode, with the reason code the decoder gives
 * @param noImage the id of the sample with no image member
 * @param metadata id -> the JSON sidecar's text
 * @param captions id -> the text sidecar
 */
public record TestCorpus(
        List<Path> shards, Path loose, Map<String, byte[]> images, Map<String, String> broken, String noImage,
        Map<String, String> metadata, Map<String, String> captions) {

    /** Real colour photos of several sizes, JPEG subsamplings and an EXIF rotation. */
    public static final List<String> PHOTOS = List.of(
            "flower.png.im_q85_420.jpg",
            "flower.png.im_q85_444.jpg",
            "flower_small.q85_420_non_interleaved.jpg",
            "u76c0g_bliznaca_srgb8.png",
            "cvo9xd_keong_macan_srgb8.png",
            "derived_exif_orientation6.jpg");

    /**
     * Writes the corpus under {@code dir}: two shards of {@code scenes} generated scenes, the photos and the
     * broken files, and a loose folder of two images.
     *
     * @param copies how many images appear a second time under another key, with a caption of their own, in a
     *     third shard (the loose folder holds two more copies without captions); with copies, that shard also
     *     holds one image twice under two keys and a second copy of a broken image
     */
    public static TestCorpus write(Path dir, int scenes, int copies) throws IOException {
        Path generated = dir.resolve("generated");
        SampleImages.write(generated, scenes);
        List<byte[]> bytes = new ArrayList<>();
        List<String> extensions = new ArrayList<>();
        try (Stream<Path> files = Files.list(generated)) {
            for (Path file : files.sorted().toList()) {
                bytes.add(Files.readAllBytes(file));
                String name = file.getFileName().toString();
                extensions.add(name.substring(name.lastIndexOf('.') + 1));
            }
        }
        for (String photo : PHOTOS) {
            bytes.add(TestPaths.testImageBytes(photo));
            extensions.add(photo.substring(photo.lastIndexOf('.') + 1));
        }

        Map<String, byte[]> images = new LinkedHashMap<>();
        Map<String, String> broken = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, String> captions = new LinkedHashMap<>();
        List<Path> shards = new ArrayList<>();
        int half = bytes.size() / 2;
        String noImage = null;
        for (int shard = 0; shard < 2; shard++) {
            Path tar = dir.resolve(String.format("%05d.tar", shard));
            shards.add(tar);
            try (TarShard out = TarShard.create(tar)) {
                for (int i = shard * half; i < (shard == 0 ? half : bytes.size()); i++) {
                    String key = String.format("%05d%04d", shard, i);
                    String caption = "caption of image " + i;
                    String json = "{\"url\": \"https://example.org/" + i + "." + extensions.get(i) + "\", \"width\": " + (100 + i) + "}";
                    out.put(key + "." + extensions.get(i), bytes.get(i));
                    out.put(key + ".txt", caption.getBytes(StandardCharsets.UTF_8));
                    out.put(key + ".json", json.getBytes(StandardCharsets.UTF_8));
                    images.put(key, bytes.get(i));
                    metadata.put(key, json);
                    captions.put(key, caption);
                }
                if (shard == 0) {
                    // img2dataset keeps a failed download's metadata; here it sits in a shard with no image.
                    noImage = "000009999";
                    out.put(noImage + ".json", "{\"status\": \"failed_to_download\"}".getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        broken.put(key(images, SampleImages.TRUNCATED, generated), "truncated");
        broken.put(key(images, SampleImages.TEXT, generated), "unsupported_format");
        broken.put(key(images, SampleImages.EMPTY, generated), "empty_input");

        Path loose = dir.resolve("loose");
        Files.createDirectories(loose.resolve("nested"));
        Files.write(loose.resolve("photo.jpg"), bytes.get(bytes.size() - 1));
        Files.write(loose.resolve("nested/scene.v2.png"), bytes.get(bytes.size() - 3));
        String sidecar = "{\"license\": \"cc-by\"}";
        Files.writeString(loose.resolve("nested/scene.v2.json"), sidecar);
        images.put("photo.jpg", bytes.get(bytes.size() - 1));
        images.put("nested/scene.v2.png", bytes.get(bytes.size() - 3));
        metadata.put("nested/scene.v2.png", sidecar);

        if (copies > 0) {
            Path tar = dir.resolve("00002.tar");
            shards.add(tar);
            List<String> originals = images.keySet().stream().filter(id -> !broken.containsKey(id)).limit(copies).toList();
            String brokenOriginal = broken.keySet().iterator().next();
            try (TarShard out = TarShard.create(tar)) {
                for (String original : originals) {
                    copy(out, "copy-of-" + original, original, images, captions);
                }
                // The same image twice in one shard, and a broken image again: its first copy is a dead letter.
                copy(out, "twin-a", originals.get(0), images, captions);
                copy(out, "twin-b", originals.get(0), images, captions);
                copy(out, "copy-of-" + brokenOriginal, brokenOriginal, images, captions);
                broken.put("copy-of-" + brokenOriginal, broken.get(brokenOriginal));
            }
        }
        return new TestCorpus(List.copyOf(shards), loose, images, broken, noImage, metadata, captions);
    }

    private static void copy(TarShard out, String key, String original, Map<String, byte[]> images, Map<String, String> captions)
            throws IOException {
        String caption = "caption of " + key;
        out.put(key + ".jpg", images.get(original));
        out.put(key + ".txt", caption.getBytes(StandardCharsets.UTF_8));
        images.put(key, images.get(original));
        captions.put(key, caption);
    }

    /** The key under which the generated file {@code name} went into a shard. */
    private static String key(Map<String, byte[]> images, String name, Path generated) throws IOException {
        byte[] content = Files.readAllBytes(generated.resolve(name));
        return images.entrySet().stream().filter(e -> Arrays.equals(e.getValue(), content)).findFirst().orElseThrow().getKey();
    }

    /** Ids of inputs that decode. */
    public List<String> decodable() {
        return images.keySet().stream().filter(id -> !broken.containsKey(id)).toList();
    }

    /** Every input path, as the user would name them. */
    public List<String> inputs() {
        List<String> inputs = new ArrayList<>();
        shards.forEach(shard -> inputs.add(shard.toString()));
        inputs.add(loose.toString());
        return inputs;
    }

    /**
     * Token ids by image SHA-256, from {@link FileTokenizer} (what {@code bin/vqrae tokenize} runs) with the tiny
     * model on this corpus's images, written as files into {@code dir}.
     */
    public Map<String, int[]> tokensBySha256(Path dir) throws Exception {
        Files.createDirectories(dir);
        Map<Path, String> shaOf = new HashMap<>();
        List<Path> files = new ArrayList<>();
        for (byte[] image : images.values()) {
            String sha = sha256(image);
            Path file = dir.resolve(sha);
            if (!Files.exists(file)) {
                Files.write(file, image);
                files.add(file);
                shaOf.put(file, sha);
            }
        }
        Map<String, int[]> tokens = new HashMap<>();
        JobConfig config = JobConfig.fromMap(Map.of("model.dir", TestPaths.tinyModel().toString()));
        new FileTokenizer(config, TestPaths.tinyManifest(), 2).run(files, new FileTokenizer.Listener() {
            @Override
            public void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos) {
                tokens.put(shaOf.get(file), batch.tokenIds(index));
            }

            @Override
            public void rejected(Path file, ReasonCode reason, String message) {}
        });
        return tokens;
    }

    /** The hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
