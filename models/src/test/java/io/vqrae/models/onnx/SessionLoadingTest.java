package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening sessions: sharing, and refusing graphs that do not match their manifest. */
class SessionLoadingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @Test
    void sessionsWithEqualConfigShareOneNativeSessionUntilTheLastCloses() throws Exception {
        SessionConfig config = SessionConfig.cpu(TestPaths.tinyManifest());
        int before = SharedGraph.openSessions();
        TokenizerSession first = TokenizerSession.open(config);
        TokenizerSession second = TokenizerSession.open(config);
        assertThat(SharedGraph.openSessions()).isEqualTo(before + 1);
        first.close();
        first.close(); // idempotent: must not release the second's share
        assertThat(SharedGraph.openSessions()).isEqualTo(before + 1);
        assertThat(second.encode(List.of(new byte[second.manifest().imageBytes()])).size()).isEqualTo(1);
        second.close();
        assertThat(SharedGraph.openSessions()).isEqualTo(before);
        assertThatThrownBy(() -> second.encode(List.of(new byte[1]))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void wrongImageSizeIsRejectedBeforeOnnxRuntimeRuns() throws Exception {
        try (TokenizerSession session = TokenizerSession.open(SessionConfig.cpu(TestPaths.tinyManifest()))) {
            assertThatThrownBy(() -> session.encode(List.of(new byte[12])))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("uint8 [3, 256, 256] = 196608 bytes");
        }
    }

    @Test
    void manifestMatchesTheTinyModelsShapes() throws Exception {
        ModelManifest m = ModelManifest.load(TestPaths.tinyModel());
        assertThat(m.modelId()).isEqualTo("vqrae-tiny");
        assertThat(m.gridHeight()).isEqualTo(16);
        assertThat(m.gridWidth()).isEqualTo(16);
        assertThat(m.numTokens()).isEqualTo(256);
        assertThat(m.imageBytes()).isEqualTo(3 * 256 * 256);
        assertThat(m.codebookSize()).isEqualTo(256);
        assertThat(m.modelVersion()).isEqualTo("0.2.0");
        assertThat(m.graphs()).containsKeys("encoder", "decoder");
    }

    @Test
    void missingKeyIsNamed() throws Exception {
        Path dir = copyOfTinyModel(manifest -> manifest.remove("token_grid"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("'token_grid' is missing");
    }

    @Test
    void badPreprocessingFilterIsNamed() throws Exception {
        Path dir = copyOfTinyModel(manifest -> ((ObjectNode) manifest.get("preprocessing")).put("filter", "lanczos"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("'preprocessing.filter'")
                .hasMessageContaining("lanczos");
    }

    @Test
    void clientSideLoadVerifiesEveryGraphBeforeAnyJobIsBuilt() throws Exception {
        Path dir = copyOfTinyModel(manifest -> ((ObjectNode) manifest.get("graphs").get("decoder"))
                .put("sha256", "0".repeat(64)));
        assertThat(ModelManifest.load(dir).modelId()).as("plain load reads the manifest only").isNotBlank();
        assertThatThrownBy(() -> ModelManifest.loadVerified(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("decoder.onnx has SHA-256");
    }

    @Test
    void graphFileOutsideTheModelDirectoryIsRefused() throws Exception {
        Path dir = copyOfTinyModel(manifest -> ((ObjectNode) manifest.get("graphs").get("encoder"))
                .put("file", "../" + TestPaths.tinyModel().getFileName() + "/encoder.onnx"));
        assertThatThrownBy(() -> ModelManifest.loadVerified(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("outside the model directory");
    }

    @Test
    void manifestSurvivesJavaSerializationAsItTravelsInsideOperatorSpecs() throws Exception {
        ModelManifest manifest = TestPaths.tinyManifest();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(new SessionConfig(manifest, ExecutionProvider.CPU, 1, 2, 0));
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(in.readObject()).isEqualTo(new SessionConfig(manifest, ExecutionProvider.CPU, 1, 2, 0));
        }
    }

    @Test
    void graphFromAnotherExportIsRefusedByItsDigest() throws Exception {
        Path dir = copyOfTinyModel(manifest -> ((ObjectNode) manifest.get("graphs").get("encoder"))
                .put("sha256", "0".repeat(64)));
        assertThatThrownBy(() -> TokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(dir))))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("encoder.onnx has SHA-256")
                .hasMessageContaining("different exports");
    }

    @Test
    void graphOfAnotherModelVersionIsRefusedByItsMetadata() throws Exception {
        Path dir = copyOfTinyModel(manifest -> manifest.put("model_version", "9.9.9"));
        assertThatThrownBy(() -> TokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(dir))))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("vqrae.model_version=" + TestPaths.tinyManifest().modelVersion())
                .hasMessageContaining("9.9.9");
    }

    @Test
    void graphWhoseShapesDisagreeWithTheManifestIsRefused() throws Exception {
        Path dir = copyOfTinyModel(manifest -> manifest.put("feature_dim", 64));
        assertThatThrownBy(() -> TokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(dir))))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("'features'")
                .hasMessageContaining("[-1, 256, 64]");
    }

    @Test
    void cudaWithoutTheGpuBuildExplainsWhatIsMissing() {
        // What this checks only exists without the GPU build; with it, opening CUDA may rightly succeed.
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "the GPU build of ONNX Runtime is on the classpath");
        // With and without a CUDA arena limit (model.gpu-mem-limit-bytes), which takes ONNX Runtime's CUDA options.
        for (long gpuMemLimit : new long[] {0, 1L << 30}) {
            SessionConfig config = new SessionConfig(TestPaths.tinyManifest(), ExecutionProvider.CUDA, 0, 0, gpuMemLimit);
            int before = SharedGraph.openSessions();
            assertThatThrownBy(() -> TokenizerSession.open(config))
                    .isInstanceOf(ModelLoadException.class)
                    .hasMessageContaining("CUDA execution provider could not be loaded")
                    .hasMessageContaining("CPU-only build")
                    .hasMessageContaining("onnxruntime_gpu")
                    .hasMessageContaining("libcudnn.so.9");
            assertThat(SharedGraph.openSessions()).as("a failed open leaves no session behind").isEqualTo(before);
        }
    }

    @Test
    void cudaDiagnosisNamesEveryLibraryMissingFromTheSearchPath() throws IOException {
        Path cuda = Files.createDirectories(temp.resolve("cuda"));
        Files.createFile(cuda.resolve("libcudart.so.12"));
        Files.createFile(cuda.resolve("libcublas.so.12"));
        Files.createFile(cuda.resolve("libcublasLt.so.12"));
        assertThat(CudaDiagnosis.missingLibraries(List.of(cuda, temp)))
                .containsExactly("libcufft.so.11", "libcurand.so.10", "libcudnn.so.9");
    }

    private Path copyOfTinyModel(Consumer<ObjectNode> edit) throws IOException {
        Path dir = Files.createDirectories(temp.resolve("model"));
        try (Stream<Path> files = Files.list(TestPaths.tinyModel())) {
            for (Path file : files.filter(f -> f.toString().endsWith(".onnx") || f.endsWith("manifest.json")).toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        Path manifestFile = dir.resolve(ModelManifest.FILE_NAME);
        ObjectNode manifest = (ObjectNode) JSON.readTree(manifestFile.toFile());
        edit.accept(manifest);
        JSON.writeValue(manifestFile.toFile(), manifest);
        return dir;
    }
}
