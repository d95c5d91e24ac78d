package io.vqrae.operators.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.vqrae.operators.report.ReportConfig;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The per-subtask gauges the tokenizer serves: encoder busy ratio and GPU holders, while its JobMetrics is open. */
class TokenizerGaugesTest {
    private static final MetricsSpec SPEC = new MetricsSpec(MetricsConfig.OFF, new MetricLabels("gauges-test", "tiny", "0.2.0", "abcdefabcdef"),
            ReportConfig.OFF);

    @Test
    void eachOpenTokenizerSubtaskServesItsGpuAndBusyRatio_untilItCloses() throws Exception {
        AtomicInteger holders = new AtomicInteger(2);
        try (JobMetrics first = JobMetrics.open(SPEC, 0); JobMetrics second = JobMetrics.open(SPEC, 1);
                JobMetrics decode = JobMetrics.open(SPEC, 0)) {
            first.gpu(0, holders::get);
            second.gpu(0, holders::get);
            first.encoderBusy();
            assertThat(values("vqrae_tokenizer_gpu_holders")).containsExactly(
                    Map.entry("gpu=0,subtask=0", 2.0), Map.entry("gpu=0,subtask=1", 2.0));
            assertThat(values("vqrae_tokenizer_busy_ratio")).containsOnlyKeys("subtask=0");
            second.close();
            holders.set(1);
            assertThat(values("vqrae_tokenizer_gpu_holders")).as("read at scrape time; a closed subtask is gone")
                    .containsExactly(Map.entry("gpu=0,subtask=0", 1.0));
            decode.close();
            assertThat(values("vqrae_tokenizer_busy_ratio")).as("another operator of subtask 0 closing takes nothing with it")
                    .containsOnlyKeys("subtask=0");
        }
        assertThat(values("vqrae_tokenizer_gpu_holders")).isEmpty();
        assertThat(values("vqrae_tokenizer_busy_ratio")).isEmpty();
    }

    /** The test job's series of gauge {@code name}: its labels beyond the job's ({@code gpu=0,subtask=0}, sorted) to value. */
    private static Map<String, Double> values(String name) {
        Map<String, Double> values = new TreeMap<>();
        PipelineMetrics.REGISTRY.scrape(name::equals).stream().flatMap(s -> ((GaugeSnapshot) s).getDataPoints().stream())
                .filter(p -> "gauges-test".equals(p.getLabels().get("job")))
                .forEach(p -> values.put(extra(p.getLabels()), p.getValue()));
        return values;
    }

    private static String extra(Labels labels) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < labels.size(); i++) {
            String label = labels.getName(i);
            if (!java.util.List.of(MetricLabels.NAMES).contains(label)) {
                out.append(out.length() == 0 ? "" : ",").append(label).append('=').append(labels.getValue(i));
            }
        }
        return out.toString();
    }
}
