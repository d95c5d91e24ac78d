package io.vqrae.operators.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.util.Map;
import java.util.stream.Stream;

/** This JVM's Prometheus series as its endpoint serves them, for tests of the operators that write them. */
public final class Scraped {
    private Scraped() {}

    /** Counter {@code name} (without {@code _total}) summed over {@code job}'s series that have {@code labels}. */
    public static double counter(String name, String job, Map<String, String> labels) {
        return points(name, job, labels).mapToDouble(p -> ((CounterSnapshot.CounterDataPointSnapshot) p).getValue()).sum();
    }

    /** Histogram {@code name} of {@code job} (which has one series per job), or null when it has none. */
    public static HistogramSnapshot.HistogramDataPointSnapshot histogram(String name, String job) {
        return points(name, job, Map.of()).map(p -> (HistogramSnapshot.HistogramDataPointSnapshot) p).findFirst().orElse(null);
    }

    private static Stream<DataPointSnapshot> points(String name, String job, Map<String, String> labels) {
        return PipelineMetrics.REGISTRY.scrape(name::equals).stream()
                .flatMap(snapshot -> snapshot.getDataPoints().stream().map(DataPointSnapshot.class::cast))
                .filter(p -> job.equals(p.getLabels().get("job")))
                .filter(p -> labels.entrySet().stream().allMatch(e -> e.getValue().equals(p.getLabels().get(e.getKey()))));
    }
}
