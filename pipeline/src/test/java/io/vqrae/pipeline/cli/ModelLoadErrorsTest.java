package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * A model that passes its manifest's checks but that ONNX Runtime refuses fails where a command opens its
 * sessions, not in the job's planning: every such command reports it as the configuration error of
 * {@code model.dir} (one line, exit 2), through the one mapping of {@code ModelLoadException}.
 */
class ModelLoadErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @ParameterizedTest
    @ValueSource(strings = {"tokenize", "reconstruct", "detokenize"})
    void aGraphOnnxRuntimeRefusesIsAnErrorOfModelDir(String command) throws Exception {
        Path model = unloadableModel(Files.createDirectories(temp.resolve("model")));
        List<String> args = new ArrayList<>(List.of(command, "--model", model.toString()));
        if (command.equals("detokenize")) {
            ModelManifest tiny = TestPaths.tinyManifest();
            Path tokens = temp.resolve("img.tokens.npy");
            Npy.uint16(new int[tiny.numTokens()], tiny.gridHeight(), tiny.gridWidth()).write(tokens);
            args.addAll(List.of("--out", temp.resolve("out").toString(), tokens.toString()));
        } else {
            Path image = temp.resolve("gray.png");
            ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB), "png", image.toFile());
            if (command.equals("reconstruct")) {
                args.addAll(List.of("--out", temp.resolve("out").toString()));
            }
            args.add(image.toString());
        }

        StringWriter err = new StringWriter();
        CommandLine cli = VqraeCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int exit = cli.execute(args.toArray(String[]::new));

        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).startsWith("vqrae: model.dir: ONNX Runtime cannot load " + model.toAbsolutePath().normalize())
                .doesNotContain("\tat ").hasLineCount(1);
    }

    /** The tiny model's manifest over graphs whose SHA-256 it records but that are no ONNX graphs. */
    private static Path unloadableModel(Path dir) throws Exception {
        byte[] notAGraph = "not an ONNX graph".getBytes(StandardCharsets.UTF_8);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(notAGraph));
        ObjectNode manifest = (ObjectNode) JSON.readTree(TestPaths.tinyModel().resolve(ModelManifest.FILE_NAME).toFile());
        for (JsonNode graph : manifest.get("graphs")) {
            Files.write(dir.resolve(graph.get("file").asText()), notAGraph);
            ((ObjectNode) graph).put("sha256", sha256);
        }
        JSON.writeValue(dir.resolve(ModelManifest.FILE_NAME).toFile(), manifest);
        return dir;
    }
}
