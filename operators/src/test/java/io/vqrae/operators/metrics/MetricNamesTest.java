package io.vqrae.operators.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The one metric system: every series our code serves is in this JVM's registry, and docs/metrics.md's table of
 * metrics names exactly those, so a series is neither served undocumented nor documented and gone.
 */
class MetricNamesTest {
    private static final Path TABLE = TestPaths.root().resolve("docs/metrics.md");
    /** The first cell of a row of the table of metrics: one or more backquoted names. */
    private static final Pattern ROW = Pattern.compile("^\\| (`vqrae_[^|]+) \\|", Pattern.MULTILINE);
    private static final Pattern NAME = Pattern.compile("`(vqrae_[a-z_]+)`");

    @Test
    void readmesTableOfMetrics_namesEverySeriesOfTheRegistry() throws IOException {
        Set<String> served = PipelineMetrics.REGISTRY.scrape().stream()
                .map(MetricNamesTest::exposedName)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> documented = new TreeSet<>();
        Matcher row = ROW.matcher(Files.readString(TABLE));
        while (row.find()) {
            Matcher name = NAME.matcher(row.group(1));
            while (name.find()) {
                documented.add(name.group(1));
            }
        }
        assertThat(documented).as("docs/metrics.md's table of metrics").isEqualTo(served);
    }

    /** The name a scrape shows: a counter's with {@code _total}. */
    private static String exposedName(MetricSnapshot snapshot) {
        String name = snapshot.getMetadata().getPrometheusName();
        return snapshot instanceof CounterSnapshot ? name + "_total" : name;
    }
}
