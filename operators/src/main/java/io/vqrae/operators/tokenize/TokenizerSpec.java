package io.vqrae.operators.tokenize;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.ModelConfig;
import io.vqrae.operators.model.ModelCache;
import io.vqrae.operators.metrics.MetricsSpec;
import java.io.Serializable;
import java.util.Objects;

/**
 * Everything the batching tokenizer needs, resolved on the client: the only copy of its settings.
 *
 * @param manifest the model, loaded and verified from {@code model.dir()} on the client
 * @param model where the model runs: provider, devices, threads
 * @param batching micro-batch bounds
 * @param features which features to emit and how
 * @param metrics where the stage reports to Prometheus, and its health settings
 */
public record TokenizerSpec(ModelManifest manifest, ModelConfig model, Batching batching, FeatureOutput features, MetricsSpec metrics)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public TokenizerSpec {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(batching, "batching");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * The manifest of the model as this process finds it: {@link #manifest} itself for a local model directory,
     * or moved to this process's cached copy of a model on a filesystem URI (copied on first use).
     */
    public ModelManifest localManifest() throws ModelLoadException {
        return ModelCache.isUri(model.dir()) ? ModelCache.in(model.cacheDir()).localCopy(model.dir(), manifest) : manifest;
    }
}
