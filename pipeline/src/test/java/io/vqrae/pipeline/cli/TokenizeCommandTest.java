package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.testing.TestPaths;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code vqrae tokenize} on a folder of real photos mixed with files that are not images. */
class TokenizeCommandTest {
    private static final List<String> PHOTOS = List.of(
            "cvo9xd_keong_macan_srgb8.png", "flower.png.im_q85_420.jpg", "derived_exif_orientation6.jpg");

    private final ObjectMapper json = new ObjectMapper();

    @TempDir
    Path folder;

    @Test
    void printsOneLinePerFileWithTheSessionsTokensOrAReason() throws Exception {
        for (String photo : PHOTOS) {
            Files.copy(TestPaths.testImage(photo), folder.resolve(photo));
        }
        Files.writeString(folder.resolve("page.html"), "<!doctype html><html><body>not an image</body></html>");
        byte[] jpeg = TestPaths.testImageBytes("flower.png.im_q85_420.jpg");
        Files.write(folder.resolve("truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 3));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        TokenizeCommand command = new TokenizeCommand(
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        int exit = new CommandLine(command).execute(
                "--model", TestPaths.tinyModel().toString(), "--batch-size", "2", folder.toString());

        assertThat(exit).isZero();
        Map<String, JsonNode> lines = new TreeMap<>();
        List<String> order = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            JsonNode node = json.readTree(line);
            lines.put(Path.of(node.get("file").asText()).getFileName().toString(), node);
            order.add(Path.of(node.get("file").asText()).getFileName().toString());
        }
        // Input order (the folder's, by path), though page.html is rejected while flower's batch still fills.
        assertThat(order).containsExactly("cvo9xd_keong_macan_srgb8.png", "derived_exif_orientation6.jpg",
                "flower.png.im_q85_420.jpg", "page.html", "truncated.jpg");
        assertThat(lines).containsOnlyKeys("cvo9xd_keong_macan_srgb8.png", "flower.png.im_q85_420.jpg",
                "derived_exif_orientation6.jpg", "page.html", "truncated.jpg");
        assertThat(lines.get("page.html").at("/error/reason").asText()).isEqualTo("unsupported_format");
        assertThat(lines.get("truncated.jpg").at("/error/reason").asText()).isEqualTo("truncated");

        int[][] expected = tokenizeDirectly();
        for (int i = 0; i < PHOTOS.size(); i++) {
            JsonNode line = lines.get(PHOTOS.get(i));
            assertThat(line.get("grid").toString()).isEqualTo("[16,16]");
            int[] ids = new int[line.get("token_ids").size()];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = line.get("token_ids").get(t).asInt();
            }
            assertThat(ids).as(PHOTOS.get(i)).containsExactly(expected[i]);
        }
        assertThat(lines.get("derived_exif_orientation6.jpg").get("source_size").toString())
                .as("EXIF orientation 6 swaps width and height").isEqualTo("[120,160]");
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("5 files: 3 tokenized, 2 rejected {truncated=1, unsupported_format=1}");
    }

    /** The same photos through the library API, in one batch. */
    private static int[][] tokenizeDirectly() throws Exception {
        try (TokenizerSession session = TokenizerSession.open(SessionConfig.cpu(TestPaths.tinyManifest()))) {
            Preprocessor preprocessor = new Preprocessor(session.manifest().preprocessing());
            List<byte[]> images = new ArrayList<>();
            for (String photo : PHOTOS) {
                images.add(preprocessor.toChw(session.manifest().imageDecoder().build().decode(TestPaths.testImageBytes(photo))));
            }
            EncodedBatch batch = session.encode(images);
            int[][] ids = new int[PHOTOS.size()][];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = batch.tokenIds(i);
            }
            return ids;
        }
    }
}
