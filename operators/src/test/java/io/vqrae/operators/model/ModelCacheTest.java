package io.vqrae.operators.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.flink.testutils.TestFileSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models on filesystem URIs: {@code file://} and Flink's test filesystem ({@code test://}, a counting local one). */
class ModelCacheTest {
    private static final ModelManifest TINY = TestPaths.tinyManifest();

    @TempDir
    Path dir;

    private Path store;

    @BeforeEach
    void copyTheTinyModelToAStore() throws IOException {
        store = dir.resolve("store/vqrae-tiny");
        Files.createDirectories(store);
        Files.copy(TINY.directory().resolve(ModelManifest.FILE_NAME), store.resolve(ModelManifest.FILE_NAME));
        for (String role : TINY.graphs().keySet()) {
            String file = TINY.graphs().get(role).file();
            Files.copy(TINY.directory().resolve(file), store.resolve(file));
        }
    }

    @Test
    void aModelOnAFileUriIsCopiedUnderItsKeyAndVerified() throws Exception {
        ModelCache cache = ModelCache.in(dir.resolve("cache").toString());

        ModelManifest fetched = cache.fetch(store.toUri().toString());

        Path copy = dir.resolve("cache").resolve(ModelCache.key(TINY));
        assertThat(fetched).isEqualTo(TINY.at(copy));
        assertThat(ModelManifest.loadVerified(copy)).isEqualTo(fetched);
        assertThat(cache.fetch(store.toUri().toString()).directory()).isEqualTo(copy);
        try (Stream<Path> left = Files.list(dir.resolve("cache"))) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no staging folder left")
                    .containsExactlyInAnyOrder(ModelCache.key(TINY), ModelCache.key(TINY) + ".lock");
        }
    }

    @Test
    void eachProcessCopiesAModelOnceAndItsSlotsShareTheCopy() throws Exception {
        String uri = "test://" + store.toAbsolutePath();
        int files = 1 + TINY.graphs().size();
        TestFileSystem.resetStreamOpenCounter();
        ModelManifest resolved = ModelCache.in(dir.resolve("client-cache").toString()).fetch(uri);
        assertThat(TestFileSystem.getNumtimeStreamOpened()).as("the client's copy").isEqualTo(files);

        // Four tokenizer slots of one TaskManager open the model at once.
        ModelCache taskManager = ModelCache.in(dir.resolve("taskmanager-cache").toString());
        ExecutorService slots = Executors.newFixedThreadPool(4);
        List<Future<ModelManifest>> opened = new ArrayList<>();
        try {
            for (int slot = 0; slot < 4; slot++) {
                opened.add(slots.submit(() -> taskManager.localCopy(uri, resolved)));
            }
            for (Future<ModelManifest> manifest : opened) {
                assertThat(manifest.get()).isEqualTo(TINY.at(dir.resolve("taskmanager-cache").resolve(ModelCache.key(TINY))));
            }
        } finally {
            slots.shutdownNow();
        }
        assertThat(TestFileSystem.getNumtimeStreamOpened()).as("one copy for the four slots").isEqualTo(2 * files);

        taskManager.localCopy(uri, resolved);
        assertThat(TestFileSystem.getNumtimeStreamOpened()).as("a later job finds the copy").isEqualTo(2 * files);
    }

    @Test
    void theCopyTokenizesAsTheOriginal() throws Exception {
        ModelManifest copy = ModelCache.in(dir.resolve("cache").toString()).localCopy(store.toUri().toString(), TINY);
        byte[] chw = new byte[TINY.imageBytes()];
        new Random(7).nextBytes(chw);

        try (TokenizerSession original = TokenizerSession.open(SessionConfig.cpu(TINY));
                TokenizerSession cached = TokenizerSession.open(SessionConfig.cpu(copy))) {
            assertThat(cached.encode(List.of(chw)).tokenIds(0)).containsExactly(original.encode(List.of(chw)).tokenIds(0));
        }
    }

    @Test
    void aGraphThatDoesNotMatchItsHashIsRefusedAndNothingIsPublished() throws Exception {
        Path graph = store.resolve(TINY.graphs().get("encoder").file());
        byte[] bytes = Files.readAllBytes(graph);
        bytes[bytes.length / 2] ^= 1;
        Files.write(graph, bytes);

        assertThatThrownBy(() -> ModelCache.in(dir.resolve("cache").toString()).fetch(store.toUri().toString()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("SHA-256")
                .hasMessageContaining("different exports");
        assertThat(dir.resolve("cache").resolve(ModelCache.key(TINY))).doesNotExist();
    }

    @Test
    void aModelReplacedAtTheUriAfterTheClientResolvedItIsRefusedOnTheTaskManager() throws Exception {
        ModelManifest resolved = ModelCache.in(dir.resolve("client-cache").toString()).fetch(store.toUri().toString());
        Path graph = store.resolve(TINY.graphs().get("decoder").file());
        Files.write(graph, Arrays.copyOf(Files.readAllBytes(graph), 100));

        assertThatThrownBy(() -> ModelCache.in(dir.resolve("taskmanager-cache").toString()).localCopy(store.toUri().toString(), resolved))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(TINY.graphs().get("decoder").sha256());
    }

    @Test
    void aGraphPathLeavingTheModelFolderIsRefusedBeforeAnythingIsRead() throws Exception {
        Path manifest = store.resolve(ModelManifest.FILE_NAME);
        String file = TINY.graphs().get("encoder").file();
        Files.writeString(manifest, Files.readString(manifest).replace("\"" + file + "\"", "\"../../secrets/" + file + "\""));

        assertThatThrownBy(() -> ModelCache.in(dir.resolve("cache").toString()).fetch(store.toUri().toString()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("'graphs.encoder.file' (../../secrets/" + file + ") points outside the model directory");
    }

    @Test
    void aUriWithoutAModelNamesWhatIsMissing() {
        String uri = dir.resolve("nothing-here").toUri().toString();

        assertThatThrownBy(() -> ModelCache.in(dir.resolve("cache").toString()).fetch(uri))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("No manifest.json at")
                .hasMessageContaining("a VQRAE model directory?");
    }

    @Test
    void onlySchemeUrisGoThroughTheCache() {
        assertThat(ModelCache.isUri("s3://bucket/vqrae-so400m/")).isTrue();
        assertThat(ModelCache.isUri("file:///mnt/models/tiny")).isTrue();
        assertThat(ModelCache.isUri("models/tiny")).isFalse();
        assertThat(ModelCache.isUri("/opt/models/so400m")).isFalse();
    }
}
