package io.vqrae.operators.metrics;

import io.vqrae.models.manifest.ModelManifest;
import java.io.Serializable;
import java.util.Objects;

/**
 * The labels every series of a job carries, fixed on the client: none has unbounded values (never an image
 * id), so a dashboard can aggregate over any of them.
 *
 * @param job the Flink job name
 * @param model the model id
 * @param modelVersion the model version
 * @param codebook the first 12 hex digits of the codebook's SHA-256 (ids are comparable only within one)
 */
public record MetricLabels(String job, String model, String modelVersion, String codebook) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Label names, in the order of {@link #values}. */
    static final String[] NAMES = {"job", "model", "model_version", "codebook"};

    public MetricLabels {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelVersion, "modelVersion");
        Objects.requireNonNull(codebook, "codebook");
    }

    public static MetricLabels of(String job, ModelManifest manifest) {
        return new MetricLabels(job, manifest.modelId(), manifest.modelVersion(), manifest.codebookSha256().substring(0, 12));
    }

    /** These labels' values followed by {@code more}. */
    String[] values(String... more) {
        String[] out = new String[NAMES.length + more.length];
        out[0] = job;
        out[1] = model;
        out[2] = modelVersion;
        out[3] = codebook;
        System.arraycopy(more, 0, out, NAMES.length, more.length);
        return out;
    }

    static String[] names(String... more) {
        String[] out = new String[NAMES.length + more.length];
        System.arraycopy(NAMES, 0, out, 0, NAMES.length);
        System.arraycopy(more, 0, out, NAMES.length, more.length);
        return out;
    }
}
