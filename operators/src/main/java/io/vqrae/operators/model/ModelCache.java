package io.vqrae.operators.model;

import io.vqrae.models.manifest.GraphSpec;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local copies of models that live on a Flink filesystem ({@code s3://bucket/vqrae-so400m/}, {@code hdfs://...},
 * {@code file:///mnt/models/...}): ONNX Runtime opens graphs from local files only, so each process copies a
 * model once into {@code <cache-dir>/<key>/}, where the key is a SHA-256 over the manifest's graph SHA-256s. A
 * copy is published (renamed into place) only after every graph matched its hash, so a folder under its key is
 * always complete and right; slots of one TaskManager, later jobs and other TaskManagers on the host reuse it.
 *
 * <p>A plain path ({@code models/tiny}, {@code /opt/models/so400m}) is not a URI and is used in place, the same
 * path on every TaskManager, as before.
 */
public final class ModelCache {
    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    /** One copy at a time per key within this JVM; {@link FileLock}s only exclude other processes. */
    private static final Map<String, Object> COPYING = new ConcurrentHashMap<>();

    private final Path root;

    private ModelCache(Path root) {
        this.root = root;
    }

    /**
     * The cache in {@code cacheDir}, or in {@code <java.io.tmpdir>/vqrae-models} of this process when blank
     * (a TaskManager's own temporary folder, not the client's).
     */
    public static ModelCache in(String cacheDir) {
        return new ModelCache(cacheDir.isBlank() ? Path.of(System.getProperty("java.io.tmpdir"), "vqrae-models") : Path.of(cacheDir));
    }

    /** Whether {@code modelDir} names a filesystem URI ({@code scheme://...}) rather than a local path. */
    public static boolean isUri(String modelDir) {
        return modelDir.contains("://");
    }

    /**
     * The client's view: the manifest at {@code modelUri}, its model copied here and every graph verified.
     *
     * @throws ModelLoadException when the manifest is missing or bad, or a graph does not match its hash
     */
    public ModelManifest fetch(String modelUri) throws ModelLoadException {
        Path staging = newStaging();
        try {
            copy(modelUri, ModelManifest.FILE_NAME, staging);
            ModelManifest remote = ModelManifest.load(staging);
            return publish(modelUri, remote, staging);
        } finally {
            deleteQuietly(staging);
        }
    }

    /**
     * A TaskManager's view: {@code resolved} (the manifest the client verified) moved to this process's copy of
     * the model, copied from {@code modelUri} if this host has none yet. The copy is checked against
     * {@code resolved}'s hashes, so a model replaced at the URI since the job was submitted is refused.
     */
    public ModelManifest localCopy(String modelUri, ModelManifest resolved) throws ModelLoadException {
        Path staging = newStaging();
        try {
            return publish(modelUri, resolved, staging);
        } finally {
            deleteQuietly(staging);
        }
    }

    /** The cache key: SHA-256 over the graph roles and SHA-256s, so equal graphs share one copy. */
    static String key(ModelManifest manifest) {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(manifest.graphs()).forEach((role, graph) -> text.append(role).append(' ').append(graph.sha256()).append('\n'));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform has SHA-256", e);
        }
    }

    /** Path of the copy of models whose manifest is {@code manifest}, whether or not it exists yet. */
    Path folder(ModelManifest manifest) {
        return root.resolve(key(manifest));
    }

    private ModelManifest publish(String modelUri, ModelManifest manifest, Path staging) throws ModelLoadException {
        String key = key(manifest);
        Path target = root.resolve(key);
        synchronized (COPYING.computeIfAbsent(key, k -> new Object())) {
            try (FileChannel lockFile = FileChannel.open(root.resolve(key + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = lockFile.lock()) {
                if (!Files.exists(target.resolve(ModelManifest.FILE_NAME))) {
                    if (!Files.exists(staging.resolve(ModelManifest.FILE_NAME))) {
                        copy(modelUri, ModelManifest.FILE_NAME, staging);
                    }
                    for (Map.Entry<String, GraphSpec> graph : manifest.graphs().entrySet()) {
                        copy(modelUri, checkedName(modelUri, graph.getKey(), graph.getValue()), staging);
                    }
                    ModelManifest copied = manifest.at(staging);
                    for (String role : manifest.graphs().keySet()) {
                        copied.verifiedGraph(role);
                    }
                    moveIntoPlace(staging, target);
                }
            } catch (IOException e) {
                throw new ModelLoadException("Cannot cache the model of " + modelUri + " in " + root + ": " + e.getMessage(), e);
            }
        }
        return manifest.at(target);
    }

    /** A graph's file name, refused when it would leave the model folder ({@code ../}, absolute). */
    private static String checkedName(String modelUri, String role, GraphSpec graph) throws ModelLoadException {
        Path name = Path.of(graph.file()).normalize();
        if (name.isAbsolute() || name.startsWith("..") || graph.file().contains("://")) {
            throw new ModelLoadException(modelUri + "/" + ModelManifest.FILE_NAME + ": 'graphs." + role + ".file' (" + graph.file()
                    + ") points outside the model directory");
        }
        return name.toString();
    }

    private static void copy(String modelUri, String name, Path staging) throws ModelLoadException {
        org.apache.flink.core.fs.Path source;
        try {
            source = new org.apache.flink.core.fs.Path(URI.create(modelUri.endsWith("/") ? modelUri : modelUri + "/").resolve(name));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("'" + modelUri + "' is not a valid URI: " + e.getMessage(), e);
        }
        Path target = staging.resolve(name);
        try {
            Files.createDirectories(target.getParent());
            FileSystem fs = source.getFileSystem();
            try (InputStream in = fs.open(source)) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new ModelLoadException("No " + name + " at " + source
                    + (name.equals(ModelManifest.FILE_NAME) ? " (is '" + modelUri + "' a VQRAE model directory?)" : ""), e);
        } catch (IOException e) {
            throw new ModelLoadException("Cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
        }
    }

    private static void moveIntoPlace(Path staging, Path target) throws IOException {
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // A copy of an earlier, interrupted run without its manifest: replace it.
            FileUtils.deleteDirectory(target.toFile());
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private Path newStaging() throws ModelLoadException {
        try {
            Files.createDirectories(root);
            return Files.createDirectory(root.resolve(".staging-" + UUID.randomUUID()));
        } catch (IOException e) {
            throw new ModelLoadException("Cannot create the model cache folder " + root + " (model.cache-dir): " + e.getMessage(), e);
        }
    }

    /** Removes a staging folder (gone already once published); failing to is only lost disk space, not an error of the job's. */
    private static void deleteQuietly(Path dir) {
        try {
            FileUtils.deleteDirectory(dir.toFile());
        } catch (IOException e) {
            LOG.warn("Could not remove the model cache's staging folder {}: {}", dir, e.toString());
        }
    }
}
