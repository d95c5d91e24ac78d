package io.vqrae.models.onnx;

import ai.onnxruntime.OrtSession;
import io.vqrae.models.manifest.ModelManifest;
import java.util.concurrent.atomic.AtomicBoolean;

/** One user's share of a {@link SharedGraph}: the manifest, the native session, and an idempotent close. */
abstract class GraphSession implements AutoCloseable {
    private final SharedGraph graph;
    private final AtomicBoolean closed = new AtomicBoolean();

    GraphSession(SharedGraph graph) {
        this.graph = graph;
    }

    /** The manifest the graph was verified against. */
    public ModelManifest manifest() {
        return graph.manifest();
    }

    /** The open native session; fails if this share was closed. */
    final OrtSession session() {
        if (closed.get()) {
            throw new IllegalStateException(getClass().getSimpleName() + " for " + manifest().modelId() + " is closed");
        }
        return graph.session();
    }

    /** Releases this share of the native session; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            graph.release();
        }
    }
}
