package io.vqrae.operators.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.MetricsConfig;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.operators.metrics.Scraped;
import io.vqrae.operators.report.ReportConfig;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The first input of each image passes, later ones become duplicates naming it, counted in vqrae_duplicates_total. */
class DeduplicateTest {
    private static final String JOB = "dedup-test";

    @Test
    void laterCopiesOfAnImageBecomeDuplicatesOfTheFirst_unreadableInputsPass() throws Exception {
        MetricsSpec metrics = new MetricsSpec(MetricsConfig.OFF, new MetricLabels(JOB, "tiny", "0.2.0", "abcdefabcdef"), ReportConfig.OFF);
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new Deduplicate(Duration.ZERO, metrics)), Deduplicate::key, Types.STRING)) {
            harness.open();
            assertThat(duplicates()).as("counted from 0").isZero();
            harness.processElement(image("a", "sha-1"), 0);
            harness.processElement(image("b", "sha-2"), 0);
            harness.processElement(image("c", "sha-1"), 0);
            harness.processElement(image("d", "sha-1"), 0);
            harness.processElement(InputImage.unreadable("e", new byte[0], Origin.NONE, ReasonCode.MALFORMED_RECORD, "no image"), 0);

            assertThat(harness.extractOutputValues()).extracting(InputImage::id).containsExactly("a", "b", "e");
            assertThat(harness.getSideOutput(Deduplicate.DUPLICATES)).extracting(r -> r.getValue().id() + " of " + r.getValue().duplicateOf())
                    .containsExactly("c of a", "d of a");
            assertThat(duplicates()).isEqualTo(2);
        }
    }

    private static double duplicates() {
        return Scraped.counter("vqrae_duplicates", JOB, Map.of("subtask", "0"));
    }

    private static InputImage image(String id, String sha256) {
        return InputImage.of(id, new byte[] {1}, Origin.NONE).withSha256(sha256);
    }
}
