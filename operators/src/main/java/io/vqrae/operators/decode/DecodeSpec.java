package io.vqrae.operators.decode;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.metrics.MetricsSpec;
import java.io.Serializable;
import java.util.Objects;

/**
 * Everything the decode stage needs, resolved on the client: the only copy of its settings.
 *
 * @param manifest the model, whose preprocessing spec and alpha background decide the pixels
 * @param limits what inputs are accepted
 * @param metrics where the stage reports to Prometheus
 */
public record DecodeSpec(ModelManifest manifest, InputLimits limits, MetricsSpec metrics) implements Serializable {
    private static final long serialVersionUID = 1L;

    public DecodeSpec {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(metrics, "metrics");
    }
}
