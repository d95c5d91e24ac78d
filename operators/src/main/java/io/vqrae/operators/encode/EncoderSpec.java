package io.vqrae.operators.encode;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.metrics.MetricsSpec;
import java.io.Serializable;
import java.util.Objects;

/**
 * Everything the record encoder needs, resolved on the client: the only copy of its settings.
 *
 * @param manifest the model whose stamps (id, version, codebook hash, grid) go on every record
 * @param limits the sink's record limit
 * @param metrics where the stage reports to Prometheus
 */
public record EncoderSpec(ModelManifest manifest, RecordLimits limits, MetricsSpec metrics) implements Serializable {
    private static final long serialVersionUID = 1L;

    public EncoderSpec {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(metrics, "metrics");
    }
}
