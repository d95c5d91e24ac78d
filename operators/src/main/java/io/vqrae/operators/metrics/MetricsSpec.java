package io.vqrae.operators.metrics;

import java.io.Serializable;
import java.util.Objects;

/**
 * What an operator needs to report to the pipeline's Prometheus metrics: the configuration and the job's
 * labels.
 *
 * @param config endpoint and health settings
 * @param labels the labels of every series
 */
public record MetricsSpec(MetricsConfig config, MetricLabels labels) implements Serializable {
    private static final long serialVersionUID = 1L;

    public MetricsSpec {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(labels, "labels");
    }
}
