package io.vqrae.models.testing;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find the checkout, the shipped tiny model, the fetched test images and the Python reference. */
public final class TestPaths {
    private TestPaths() {}

    /** The checkout root: System property {@code vqrae.root} (set by surefire), else found from the working directory. */
    public static Path root() {
        String configured = System.getProperty("vqrae.root");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve(".ci"))) {
                return dir;
            }
        }
        throw new IllegalStateException("Cannot find the checkout root (no .ci folder above " + Path.of("").toAbsolutePath() + ")");
    }

    public static Path tinyModel() {
        return root().resolve("models").resolve("tiny");
    }

    /** The shipped tiny model's manifest. */
    public static ModelManifest tinyManifest() {
        return manifest(tinyModel());
    }

    /** The manifest in {@code modelDir}, for tests that make their own model directories. */
    public static ModelManifest manifest(Path modelDir) {
        try {
            return ModelManifest.load(modelDir);
        } catch (ModelLoadException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Real test images fetched by {@code bin/fetch-testdata} (its stamp file names the version); fails (never skips) when they are missing. */
    public static Path testImages() {
        Path dir = root().resolve(".testdata").resolve("images");
        if (!Files.isRegularFile(dir.resolve(".complete-v2"))) {
            throw new IllegalStateException("Test images are missing in " + dir + ": run bin/fetch-testdata");
        }
        return dir;
    }

    public static Path testImage(String name) {
        Path file = testImages().resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(file + " is missing: run bin/fetch-testdata (delete .testdata to refetch)");
        }
        return file;
    }

    public static byte[] testImageBytes(String name) {
        try {
            return Files.readAllBytes(testImage(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The interpreter with Debian's python3-torch/onnx/pil; System property {@code vqrae.python}. */
    public static String python() {
        return System.getProperty("vqrae.python", "/usr/bin/python3");
    }
}
