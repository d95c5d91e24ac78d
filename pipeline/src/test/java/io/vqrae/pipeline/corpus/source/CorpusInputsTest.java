package io.vqrae.pipeline.corpus.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.operators.data.InputImage;
import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
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
        List<String> ids = inputs.files().stream().map(inputs::idOf).toList();
        assertThat(ids).containsExactly("a.jpg", "no-extension", "sub/b.png");

        InputImage b = read(inputs, inputs.files().get(2), 1 << 20).get(0);
        assertThat(b.id()).isEqualTo("sub/b.png");
        assertThat(b.payload()).isEqualTo(IMAGE);
        assertThat(b.origin().file().metadataJson()).isEqualTo("{}");
        assertThat(b.origin().file().text()).isEqualTo("caption");
    }

    @Test
    void globsExpandInTheLastSegmentAndMissingInputsAreNamed(@TempDir java.nio.file.Path dir) throws Exception {
        write(dir.resolve("00000.tar"), tar(List.of()));
        write(dir.resolve("00001.tar"), tar(List.of()));
        write(dir.resolve("notes.md"), IMAGE);
        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir + "/*.tar"));
        assertThat(inputs.files()).extracting(Path::getName).containsExactly("00000.tar", "00001.tar");

        assertThatThrownBy(() -> CorpusInputs.resolve(List.of(dir + "/*.webp")))
                .hasMessage("Input " + dir + "/*.webp matches no file");
        assertThatThrownBy(() -> CorpusInputs.resolve(List.of(dir + "/missing")))
                .hasMessage("Input " + dir + "/missing does not exist");
        assertThatThrownBy(() -> CorpusInputs.resolve(List.of())).hasMessageContaining("No input");
    }

    @Test
    void aShardYieldsOneInputPerSampleAndNeverLosesOne(@TempDir java.nio.file.Path dir) throws Exception {
        byte[] big = new byte[2048];
        write(dir.resolve("shard.tar"), tar(List.of(
                new Member("000.jpg", IMAGE), new Member("000.json", "{\"url\": \"u\"}".getBytes(StandardCharsets.UTF_8)),
                new Member("000.txt", "a cat".getBytes(StandardCharsets.UTF_8)),
                new Member("001.json", "{\"status\": \"failed\"}".getBytes(StandardCharsets.UTF_8)),
                new Member("002.webp", big),
                new Member("003.png", IMAGE), new Member("003.jpg", IMAGE))));
        CorpusInputs inputs = CorpusInputs.resolve(List.of(dir.resolve("shard.tar").toString()));
        List<InputImage> read = read(inputs, inputs.files().get(0), 1024);

        assertThat(read).extracting(InputImage::id).containsExactly("000", "001", "002", "003", "003.jpg");
        InputImage first = read.get(0);
        assertThat(first.readable()).isTrue();
        assertThat(first.payload()).isEqualTo(IMAGE);
        assertThat(first.origin().file().member()).isEqualTo("000.jpg");
        assertThat(first.origin().file().metadataJson()).isEqualTo("{\"url\": \"u\"}");
        assertThat(first.origin().file().text()).isEqualTo("a cat");
        assertThat(read.get(1).readable()).isFalse();
        assertThat(read.get(1).unreadableReason()).contains("has no image member");
        assertThat(read.get(2).readable()).isFalse();
        assertThat(read.get(2).unreadableReason()).isEqualTo("image of 2048 bytes exceeds limits.max-image-bytes (1024)");
        assertThat(read.get(4).readable()).isTrue();
    }

    private static List<InputImage> read(CorpusInputs inputs, Path file, int maxImageBytes) throws IOException {
        List<InputImage> images = new ArrayList<>();
        try (CorpusFileReader reader = inputs.open(file, maxImageBytes)) {
            for (InputImage image = reader.next(); image != null; image = reader.next()) {
                images.add(image);
            }
        }
        return images;
    }

    private record Member(String name, byte[] content) {}

    private static byte[] tar(List<Member> members) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (Member member : members) {
                TarArchiveEntry entry = new TarArchiveEntry(member.name());
                entry.setSize(member.content().length);
                out.putArchiveEntry(entry);
                out.write(member.content());
                out.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static void write(java.nio.file.Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(content);
        }
    }
}
