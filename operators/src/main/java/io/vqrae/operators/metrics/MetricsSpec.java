package io.vqrae.operators.metrics;

import io.vqrae.operators.report.ReportConfig;
import java.io.Serializable;
import java.util.Objects;

/**
 * What an operator needs to report to the pipeline's Prometheus metrics: the configuration and the job's
 * labels.
 *
 * @param config endpoint, health and live view settings
 * @param labels the labels of every series
 * @param report the run report each JVM logs ({@code report.log-every}) while the endpoint's leases are held
 */
public record MetricsSpec(MetricsConfig config, MetricLabels labels, ReportConfig report) implements Serializable {
    private static final long serialVersionUID = 1L;

    public MetricsSpec {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(report, "report");
    }
}
