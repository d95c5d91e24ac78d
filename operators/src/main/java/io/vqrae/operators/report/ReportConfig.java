package io.vqrae.operators.report;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import java.io.Serializable;
import java.time.Duration;

/**
 * The run report: the {@code report} section of a job's configuration.
 *
 * @param coreHourPrice what one core costs per hour, in any currency; 0 = not priced
 * @param gpuHourPrice what one GPU costs per hour, in the same currency; 0 = not priced
 * @param logEvery how often a streaming job logs each JVM's report; 0 = never
 */
@RecordBuilder
public record ReportConfig(double coreHourPrice, double gpuHourPrice, Duration logEvery) implements Serializable, ReportConfigBuilder.With {
    private static final long serialVersionUID = 1L;

    /** No prices, a log line every 10 minutes. */
    public static final ReportConfig DEFAULT = ReportConfigBuilder.builder()
            .coreHourPrice(0)
            .gpuHourPrice(0)
            .logEvery(Duration.ofMinutes(10))
            .build();

    /** No prices, no log: what tests of other things use. */
    public static final ReportConfig OFF = DEFAULT.withLogEvery(Duration.ZERO);

    public ReportConfig {
        requirePrice("core-hour-price", coreHourPrice);
        requirePrice("gpu-hour-price", gpuHourPrice);
        InvalidSettingException.requireSet("log-every", logEvery);
        if (logEvery.isNegative()) {
            throw new InvalidSettingException("log-every", "must be 0 (never) or a duration like 10m, got " + logEvery);
        }
    }

    /** Whether a cost can be computed: some price is set. */
    public boolean priced() {
        return coreHourPrice > 0 || gpuHourPrice > 0;
    }

    private static void requirePrice(String setting, double price) {
        if (!(price >= 0) || Double.isInfinite(price)) {
            throw new InvalidSettingException(setting, "must be a price of 0 or more, got " + price);
        }
    }
}
