package io.vqrae.models.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One native {@link OrtSession} per (config, graph role) per JVM, shared by every {@link TokenizerSession}
 * or {@link DetokenizerSession} opened with that config and closed when the last of them closes.
 *
 * <p>Why shared: a Flink TaskManager runs several subtasks of the tokenizer in one JVM, and each would
 * otherwise load its own copy of the weights (1.6 GB for so400m) and its own thread pool. {@code
 * OrtSession.run} is thread-safe, so one session serves all of them.
 */
final class SharedGraph {
    /** Graph metadata keys written by {@code python -m vqrae.export}. */
    static final String META_MODEL_ID = "vqrae.model_id";
    static final String META_MODEL_VERSION = "vqrae.model_version";
    static final String META_CODEBOOK_SHA256 = "vqrae.codebook_sha256";

    private record Key(SessionConfig config, String role) {}

    /** Open graphs by key, with their reference counts; guarded by itself. */
    private static final Map<Key, SharedGraph> OPEN = new HashMap<>();
    /**
     * One lock per key, held while that key's graph is opened: hashing and loading a 1.6 GB graph takes
     * seconds, and must block neither other keys nor releases.
     */
    private static final Map<Key, Object> OPENING = new ConcurrentHashMap<>();

    private final Key key;
    private final ModelManifest manifest;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private int references; // guarded by OPEN

    private SharedGraph(Key key, ModelManifest manifest, OrtSession.SessionOptions options, OrtSession session) {
        this.key = key;
        this.manifest = manifest;
        this.options = options;
        this.session = session;
    }

    /** A tensor a graph must have: name, element type and shape (-1 = dynamic axis). */
    record TensorSignature(String name, OnnxJavaType type, long... shape) {}

    /** The inputs and outputs a graph must have, derived from its manifest. */
    record GraphSignature(List<TensorSignature> inputs, List<TensorSignature> outputs) {}

    /**
     * Returns the shared session for {@code role}, opening and verifying it on first use. Each call must be
     * paired with one {@link #release()}.
     */
    static SharedGraph acquire(SessionConfig config, String role, Function<ModelManifest, GraphSignature> signature)
            throws ModelLoadException {
        Key key = new Key(config, role);
        synchronized (OPENING.computeIfAbsent(key, k -> new Object())) {
            synchronized (OPEN) {
                SharedGraph graph = OPEN.get(key);
                if (graph != null) {
                    graph.references++;
                    return graph;
                }
            }
            SharedGraph graph = open(key, signature);
            synchronized (OPEN) {
                OPEN.put(key, graph);
                graph.references++;
            }
            return graph;
        }
    }

    /** Number of native sessions currently open in this JVM (for tests and diagnostics). */
    static int openSessions() {
        synchronized (OPEN) {
            return OPEN.size();
        }
    }

    ModelManifest manifest() {
        return manifest;
    }

    OrtSession session() {
        return session;
    }

    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment();
    }

    void release() {
        synchronized (OPEN) {
            if (--references > 0) {
                return;
            }
            OPEN.remove(key);
        }
        try {
            session.close();
        } catch (OrtException e) {
            throw new TokenizerException("Closing the " + key.role() + " session failed", e);
        } finally {
            options.close();
        }
    }

    private static SharedGraph open(Key key, Function<ModelManifest, GraphSignature> signatureOf)
            throws ModelLoadException {
        ModelManifest manifest = key.config().manifest();
        GraphSignature signature = signatureOf.apply(manifest);
        // Verified here as well as on the client: the file on this machine is the one that runs.
        Path file = manifest.verifiedGraph(key.role());

        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            configure(options, key.config());
            OrtSession session = environment().createSession(file.toString(), options);
            try {
                verifyMetadata(session, manifest, file);
                verifySignature("input", session.getInputInfo(), signature.inputs(), file);
                verifySignature("output", session.getOutputInfo(), signature.outputs(), file);
            } catch (ModelLoadException | OrtException | RuntimeException e) {
                session.close();
                throw e;
            }
            return new SharedGraph(key, manifest, options, session);
        } catch (OrtException e) {
            options.close();
            throw new ModelLoadException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
        } catch (ModelLoadException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private static void configure(OrtSession.SessionOptions options, SessionConfig config)
            throws OrtException, ModelLoadException {
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (config.intraOpThreads() > 0) {
            options.setIntraOpNumThreads(config.intraOpThreads());
        }
        // Idle ONNX Runtime workers spin by default; next to a job's decode threads on the same cores that
        // burns the CPU the decoders need. Parking them costs microseconds per operator, noise next to a ViT:
        // `vqrae bench` measures the tiny encoder at the same rate either way, and the whole job no faster
        // with spinning (docs/BENCHMARKS.md).
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        if (config.provider() == ExecutionProvider.CUDA) {
            try {
                if (config.gpuMemLimitBytes() > 0) {
                    // Copied into the session options by addCUDA.
                    try (OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(config.deviceId())) {
                        cuda.add("gpu_mem_limit", Long.toString(config.gpuMemLimitBytes()));
                        options.addCUDA(cuda);
                    }
                } else {
                    options.addCUDA(config.deviceId());
                }
            } catch (OrtException | UnsatisfiedLinkError e) {
                throw new ModelLoadException(CudaDiagnosis.explain(config.deviceId(), e.getMessage()), e);
            }
        }
    }


    private static void verifyMetadata(OrtSession session, ModelManifest manifest, Path file)
            throws OrtException, ModelLoadException {
        Map<String, String> metadata = session.getMetadata().getCustomMetadata();
        expectMetadata(metadata, META_MODEL_ID, manifest.modelId(), file);
        expectMetadata(metadata, META_MODEL_VERSION, manifest.modelVersion(), file);
        expectMetadata(metadata, META_CODEBOOK_SHA256, manifest.codebookSha256(), file);
    }

    private static void expectMetadata(Map<String, String> metadata, String key, String expected, Path file)
            throws ModelLoadException {
        String actual = Optional.ofNullable(metadata.get(key)).orElse("<absent>");
        if (!actual.equals(expected)) {
            throw new ModelLoadException("Graph " + file + " has metadata " + key + "=" + actual + " but "
                    + ModelManifest.FILE_NAME + " says " + expected);
        }
    }

    private static void verifySignature(String kind, Map<String, NodeInfo> actual, List<TensorSignature> expected,
            Path file) throws ModelLoadException {
        if (actual.size() != expected.size()) {
            throw new ModelLoadException("Graph " + file + " has " + kind + "s " + actual.keySet() + ", expected "
                    + expected.stream().map(TensorSignature::name).toList());
        }
        for (TensorSignature want : expected) {
            NodeInfo node = actual.get(want.name());
            if (node == null || !(node.getInfo() instanceof TensorInfo info)) {
                throw new ModelLoadException("Graph " + file + " has no tensor " + kind + " '" + want.name()
                        + "' (it has " + actual.keySet() + ")");
            }
            if (info.type != want.type() || !Arrays.equals(info.getShape(), want.shape())) {
                throw new ModelLoadException("Graph " + file + " " + kind + " '" + want.name() + "' is " + info.type
                        + Arrays.toString(info.getShape()) + " but the manifest implies " + want.type()
                        + Arrays.toString(want.shape()));
            }
        }
    }
}
