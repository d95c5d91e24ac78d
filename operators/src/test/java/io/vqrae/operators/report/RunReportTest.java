package io.vqrae.operators.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.vqrae.models.config.InvalidSettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CPU per image by stage and the cost per million images, from a usage and prices. */
class RunReportTest {
    /** 1,000 images: decode 10 s, tokenizer 20 s, other 6 s of CPU; 7.2 GPU-seconds. */
    private static final ThreadCpu.Usage USAGE = new ThreadCpu.Usage(100, 36, 7.2,
            Map.of("decode", 10.0, "tokenize", 15.0, "vqrae-inference", 5.0, "GC Thread#N", 2.0, ThreadCpu.ENDED, 4.0));

    @Test
    void costPerMillionImages_isTheCoreAndGpuHoursAtTheirPrices() {
        RunReport report = new RunReport(1000, USAGE, ReportConfig.OFF.with(prices -> prices.coreHourPrice(0.05).gpuHourPrice(2.5)));

        // Per image 36 ms of CPU and 7.2 ms of GPU: 0.036 / 3600 * 0.05 + 0.0072 / 3600 * 2.5 = 5.5e-6.
        assertThat(report.costPerMillionImages()).isCloseTo(5.5, offset(1e-12));
        assertThat(report.cpuSecondsPerImage()).containsExactly(
                Map.entry(Stage.DECODE, 0.01), Map.entry(Stage.TOKENIZER, 0.02), Map.entry(Stage.OTHER, 0.006));
        Map<String, Object> json = report.toJson();
        assertThat(json.get("cpu_seconds_per_image")).isEqualTo(Map.of("decode", 0.01, "tokenizer", 0.02, "other", 0.006, "total", 0.036));
        assertThat(json.get("gpu_seconds_per_image")).isEqualTo(0.0072);
        assertThat(json.get("cost_per_million_images")).isEqualTo(5.5);
        assertThat(report.summary()).contains("decode 10.00 ms, tokenizer/encoder 20.00 ms, Flink/Kafka/other 6.00 ms; total 36.00 ms",
                "5.5000 at 0.05 per core-hour and 2.5 per GPU-hour (0.0100 core-hours, 0.0020 GPU-hours per 1,000 images)");
    }

    @Test
    void withoutPrices_thereIsNoCost() {
        RunReport report = new RunReport(1000, USAGE, ReportConfig.DEFAULT);

        assertThat(report.costPerMillionImages()).isNull();
        assertThat(report.toJson()).containsEntry("cost_per_million_images", null);
        assertThat(report.summary()).contains("not priced (set report.core-hour-price and report.gpu-hour-price)");
        assertThat(new RunReport(1000, USAGE, ReportConfig.OFF.withGpuHourPrice(2.5)).costPerMillionImages())
                .as("a GPU price alone prices the run").isCloseTo(5.0, offset(1e-12));
    }

    @Test
    void withoutImages_nothingIsPerImage() {
        RunReport report = new RunReport(0, USAGE, ReportConfig.OFF.withCoreHourPrice(0.05));

        assertThat(report.cpuSecondsPerImage()).isEmpty();
        assertThat(report.costPerMillionImages()).isNull();
        assertThat(report.logLine("last 10m")).contains("0 images; CPU per image no images", "cost per million images none (no images)");
    }

    @Test
    void prices_andTheLogIntervalAreChecked() {
        assertThatThrownBy(() -> ReportConfig.OFF.withCoreHourPrice(-1)).isInstanceOf(InvalidSettingException.class)
                .hasMessage("core-hour-price: must be a price of 0 or more, got -1.0");
        assertThatThrownBy(() -> ReportConfig.OFF.withGpuHourPrice(Double.NaN)).hasMessageStartingWith("gpu-hour-price:");
        assertThatThrownBy(() -> ReportConfig.OFF.withCoreHourPrice(Double.POSITIVE_INFINITY)).hasMessageStartingWith("core-hour-price:");
        assertThatThrownBy(() -> ReportConfig.OFF.withLogEvery(Duration.ofSeconds(-1))).hasMessageStartingWith("log-every:");
        assertThat(ReportConfig.OFF.priced()).isFalse();
    }
}
