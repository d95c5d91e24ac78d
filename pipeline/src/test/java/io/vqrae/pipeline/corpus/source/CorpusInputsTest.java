package io.vqrae.pipeline.corpus.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import io.vqrae.pipeline.testing.TarShard;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which files a corpus job reads, under which ids, and what a shard's samples become. */
class CorpusInputsTest {
    private static final byte[] IMAGE = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3};

    @Test
    void foldersAreReadRecursivelyWithoutMetadataOrHiddenFilesAndIdsArePathsBelowTheFolder(@TempDir java.nio.file.Path dir) throws Exception {
        write(dir.resolve("a.jpg"), IMAGE);
        write(dir.resolve("no-extension"), IMAGE);
        write(dir.resolve("sub/b.png"), IMAGE);
        write(dir.resolve("sub/b.json"), "{}".getBytes(StandardCharsets.UTF_8));
        write(dir.resolve("sub/b.txt"), "caption".getBytes(StandardCharsets.UTF_8));
        write(dir.resolve("00000.parquet"), IMAGE);
        write(dir.resolve(".hidden.jpg"), IMAGE);
        write(dir.resolve("_SUCCESS"), IMAGE);
        write(dir.resolve(".git/c.jpg"), IMAGE);

        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir.toString()));
        List<CorpusSplit> splits = inputs.splits();
        assertThat(splits).extracting(CorpusSplit::looseId).containsExactly("a.jpg", "no-extension", "sub/b.png");
        // The sidecars come from the folder's listing.
        assertThat(splits.get(2).jsonSidecar()).endsWith("sub/b.json");
        assertThat(splits.get(0).jsonSidecar()).isNull();

        InputImage b = read(splits.get(2), 1 << 20).get(0);
        assertThat(b.id()).isEqualTo("sub/b.png");
        assertThat(b.payload()).isEqualTo(IMAGE);
        assertThat(b.origin().file().metadataJson()).isEqualTo("{}");
        assertThat(b.origin().file().text()).isEqualTo("caption");
    }

    @Test
    void aFileNamedByOverlappingInputsIsReadOnce(@TempDir java.nio.file.Path dir) throws Exception {
        write(dir.resolve("a.jpg"), IMAGE);
        write(dir.resolve("b.jpg"), IMAGE);
        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir.toString(), dir + "/b.jpg", dir + "/*.jpg", dir.toString()));
        assertThat(inputs.splits()).extracting(CorpusSplit::looseId).containsExactly("a.jpg", "b.jpg");
        assertThat(inputs.rootsOf(dir + "/*.jpg")).hasSize(2).allMatch(root -> root.endsWith(".jpg"));
        assertThat(inputs.rootsOf(dir.toString())).singleElement().asString().endsWith(dir.getFileName().toString());
    }

    @Test
    void globsExpandInTheLastSegmentAndMissingInputsAreNamed(@TempDir java.nio.file.Path dir) throws Exception {
        TarShard.create(dir.resolve("00000.tar")).close();
        TarShard.create(dir.resolve("00001.tar")).close();
        write(dir.resolve("notes.md"), IMAGE);
        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir + "/*.tar"));
        assertThat(inputs.splits()).extracting(split -> new Path(split.path()).getName())
                .containsExactly("00000.tar", "00001.tar");

        assertThatThrownBy(() -> CorpusInputs.resolve(List.of(dir + "/*.webp")))
                .hasMessage("Input " + dir + "/*.webp matches no file");
        assertThatThrownBy(() -> CorpusInputs.resolve(List.of(dir + "/missing")))
                .hasMessage("Input " + dir + "/missing does not exist");
        assertThatThrownBy(() -> CorpusInputs.resolve(List.of())).hasMessageContaining("No input");
    }

    @Test
    void aShardYieldsOneInputPerSampleAndNeverLosesOne(@TempDir java.nio.file.Path dir) throws Exception {
        byte[] big = new byte[2048];
        try (TarShard shard = TarShard.create(dir.resolve("shard.tar"))) {
            shard.put("000.jpg", IMAGE).put("000.json", "{\"url\": \"u\"}".getBytes(StandardCharsets.UTF_8))
                    .put("000.txt", "a cat".getBytes(StandardCharsets.UTF_8))
                    .put("001.json", "{\"status\": \"failed\"}".getBytes(StandardCharsets.UTF_8))
                    .put("002.webp", big)
                    .put("003.png", IMAGE).put("003.jpg", IMAGE);
        }
        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir.resolve("shard.tar").toString()));
        List<InputImage> read = read(inputs.splits().get(0), 1024);

        assertThat(read).extracting(InputImage::id).containsExactly("000", "001", "002", "003", "003.jpg");
        InputImage first = read.get(0);
        assertThat(first.readable()).isTrue();
        assertThat(first.payload()).isEqualTo(IMAGE);
        assertThat(first.origin().file().member()).isEqualTo("000.jpg");
        assertThat(first.origin().file().metadataJson()).isEqualTo("{\"url\": \"u\"}");
        assertThat(first.origin().file().text()).isEqualTo("a cat");
        assertThat(read.get(1).readable()).isFalse();
        assertThat(read.get(1).unreadable().message()).contains("has no image member");
        assertThat(read.get(2).readable()).isFalse();
        assertThat(read.get(2).unreadable().message()).isEqualTo("image of 2048 bytes exceeds limits.max-image-bytes (1024)");
        assertThat(read.get(4).readable()).isTrue();
    }

    @Test
    void metadataOverTheLimitIsNeitherCutNorDroppedButDeadLettersItsImage(@TempDir java.nio.file.Path dir) throws Exception {
        InputLimits limits = InputLimits.DEFAULT.withMaxMetadataBytes(16);
        byte[] within = "sixteen bytes ok".getBytes(StandardCharsets.UTF_8);
        byte[] over = "seventeen bytes!!".getBytes(StandardCharsets.UTF_8);
        try (TarShard shard = TarShard.create(dir.resolve("shard.tar"))) {
            shard.put("000.jpg", IMAGE).put("000.txt", within)
                    .put("001.jpg", IMAGE).put("001.txt", over)
                    .put("002.jpg", IMAGE).put("002.json", over).put("002.txt", within);
        }
        write(dir.resolve("loose/a.jpg"), IMAGE);
        write(dir.resolve("loose/a.json"), within);
        write(dir.resolve("loose/b.jpg"), IMAGE);
        write(dir.resolve("loose/b.txt"), over);

        List<InputImage> shard = read(CorpusInputs.resolve(List.of(dir.resolve("shard.tar").toString())).splits().get(0), limits);
        assertThat(shard).extracting(InputImage::id).containsExactly("000", "001", "002");
        assertThat(shard).extracting(InputImage::readable).containsExactly(true, false, false);
        assertThat(shard.get(0).origin().file().text()).isEqualTo("sixteen bytes ok");
        assertThat(shard.get(1).unreadable().reason()).isEqualTo(ReasonCode.RECORD_TOO_LARGE);
        assertThat(shard.get(1).unreadable().message())
                .isEqualTo("member 001.txt holds 17 bytes, over limits.max-metadata-bytes (16)");
        assertThat(shard.get(1).payload()).as("the dead letter keeps the image").isEqualTo(IMAGE);
        assertThat(shard.get(2).unreadable().message()).startsWith("member 002.json holds 17 bytes");

        List<CorpusSplit> loose = CorpusInputs.resolve(List.of(dir.resolve("loose").toString())).splits();
        InputImage a = read(loose.get(0), limits).get(0);
        assertThat(a.readable()).isTrue();
        assertThat(a.origin().file().metadataJson()).isEqualTo("sixteen bytes ok");
        InputImage b = read(loose.get(1), limits).get(0);
        assertThat(b.id()).isEqualTo("b.jpg");
        assertThat(b.unreadable().reason()).isEqualTo(ReasonCode.RECORD_TOO_LARGE);
        assertThat(b.unreadable().message()).isEqualTo("sidecar " + loose.get(1).textSidecar()
                + " holds more than 16 bytes, over limits.max-metadata-bytes (16)");
        assertThat(b.payload()).isEqualTo(IMAGE);
    }

    @Test
    void aShardResumedAtAnyPositionYieldsExactlyTheInputsNotYetEmitted(@TempDir java.nio.file.Path dir) throws Exception {
        String longName = "a-long-key-" + "x".repeat(120);
        try (TarShard shard = TarShard.create(dir.resolve("shard.tar"))) {
            shard.put("000.jpg", IMAGE).put("000.txt", "zero".getBytes(StandardCharsets.UTF_8))
                    .put(longName + ".jpg", IMAGE).put(longName + ".json", "{}".getBytes(StandardCharsets.UTF_8))
                    .put("002.png", IMAGE).put("002.jpg", IMAGE).put("002.webp", IMAGE)
                    .put("003.json", "{}".getBytes(StandardCharsets.UTF_8))
                    .put("004.jpg", new byte[4096])
                    .put("005.jpg", IMAGE);
        }
        CorpusSplit split = CorpusInputs.resolve(List.of(dir.resolve("shard.tar").toString())).splits().get(0);
        List<String> all = read(split, 1024).stream().map(InputImage::id).toList();
        assertThat(all).containsExactly("000", longName, "002", "002.jpg", "002.webp", "003", "004", "005");

        // A checkpoint may be taken after any input, in the middle of a sample of three images too.
        for (int done = 0; done <= all.size(); done++) {
            CorpusSplit position;
            try (CorpusFileReader reader = CorpusFileReader.open(split, InputLimits.DEFAULT.withMaxImageBytes(1024))) {
                for (int i = 0; i < done; i++) {
                    reader.next();
                }
                position = reader.position();
            }
            assertThat(read(position, 1024)).extracting(InputImage::id).as("resumed after %d inputs at %s", done, position)
                    .containsExactlyElementsOf(all.subList(done, all.size()));
        }
    }

    private static List<InputImage> read(CorpusSplit split, int maxImageBytes) throws IOException {
        return read(split, InputLimits.DEFAULT.withMaxImageBytes(maxImageBytes));
    }

    private static List<InputImage> read(CorpusSplit split, InputLimits limits) throws IOException {
        List<InputImage> images = new ArrayList<>();
        try (CorpusFileReader reader = CorpusInputs.open(split, limits)) {
            for (InputImage image = reader.next(); image != null; image = reader.next()) {
                images.add(image);
            }
        }
        return images;
    }

    private static void write(java.nio.file.Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(content);
        }
    }
}
