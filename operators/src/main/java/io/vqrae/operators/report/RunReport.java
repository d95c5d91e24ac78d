package io.vqrae.operators.report;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a run cost per image: CPU-seconds by {@link Stage}, GPU-seconds, and at the configured prices the cost per
 * million images. The bounded commands ({@code demo}, {@code tokenize-corpus}, {@code bench}) write it into their
 * reports; a streaming job logs it every {@code report.log-every} ({@link RunReportLog}).
 *
 * <p>Costs are of the CPU and GPU time the run used. A cluster that idles part of the time pays for the idle
 * time too: divide by the utilisation for the cost of reserved capacity.
 *
 * @param images images the run handled (inputs: tokenized, dead letters and duplicates)
 * @param usage what the process used
 * @param prices the core-hour and GPU-hour prices
 */
public record RunReport(long images, ThreadCpu.Usage usage, ReportConfig prices) {
    /** Kinds of threads listed in the JSON form, most CPU first. */
    private static final int KINDS_LISTED = 12;

    public RunReport {
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(prices, "prices");
    }

    /** CPU-seconds per image by stage; empty when there were no images. */
    public Map<Stage, Double> cpuSecondsPerImage() {
        Map<Stage, Double> perImage = new LinkedHashMap<>();
        if (images > 0) {
            usage.cpuByStage().forEach((stage, seconds) -> perImage.put(stage, seconds / images));
        }
        return perImage;
    }

    /** The cost of a million images at the prices, or null without prices or images. */
    public Double costPerMillionImages() {
        if (!prices.priced() || images == 0) {
            return null;
        }
        double perImage = usage.cpuSeconds() / 3600 * prices.coreHourPrice() + usage.gpuSeconds() / 3600 * prices.gpuHourPrice();
        return perImage / images * 1e6;
    }

    /** The machine-readable form; its field names are a stable interface for scripts. */
    @JsonValue
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("images", images);
        json.put("wall_seconds", round(usage.wallSeconds(), 3));
        json.put("cpu_seconds", round(usage.cpuSeconds(), 3));
        json.put("gpu_seconds", round(usage.gpuSeconds(), 3));
        Map<String, Object> perImage = new LinkedHashMap<>();
        cpuSecondsPerImage().forEach((stage, seconds) -> perImage.put(stage.key(), round(seconds, 6)));
        perImage.put("total", images > 0 ? round(usage.cpuSeconds() / images, 6) : null);
        json.put("cpu_seconds_per_image", perImage);
        json.put("gpu_seconds_per_image", images > 0 ? round(usage.gpuSeconds() / images, 6) : null);
        json.put("core_hour_price", prices.coreHourPrice());
        json.put("gpu_hour_price", prices.gpuHourPrice());
        Double cost = costPerMillionImages();
        json.put("cost_per_million_images", cost == null ? null : round(cost, 4));
        Map<String, Object> kinds = new LinkedHashMap<>();
        usage.cpuByKind().entrySet().stream().limit(KINDS_LISTED).forEach(e -> kinds.put(e.getKey(), round(e.getValue(), 3)));
        json.put("cpu_seconds_by_thread_kind", kinds);
        return json;
    }

    /** Two lines for a command's summary, aligned like the demo's. */
    public String summary() {
        return String.format(Locale.ROOT, "CPU per image:        %s (%.1f CPU-s over %d images in %.1f s)%n", perImageText(),
                usage.cpuSeconds(), images, usage.wallSeconds())
                + String.format(Locale.ROOT, "cost per million:     %s%n", costText());
    }

    /** One line for a log, over the last {@code window}. */
    public String logLine(String window) {
        return String.format(Locale.ROOT, "run report, this JVM, %s: %d images; CPU per image %s; GPU %.3f s per image; cost per million"
                + " images %s", window, images, perImageText(), images > 0 ? usage.gpuSeconds() / images : 0.0, costText());
    }

    private String perImageText() {
        if (images == 0) {
            return "no images";
        }
        return cpuSecondsPerImage().entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%s %.2f ms", e.getKey().label(), e.getValue() * 1e3))
                .collect(Collectors.joining(", "))
                + String.format(Locale.ROOT, "; total %.2f ms", usage.cpuSeconds() / images * 1e3);
    }

    private String costText() {
        Double cost = costPerMillionImages();
        if (!prices.priced()) {
            return "not priced (set report.core-hour-price and report.gpu-hour-price)";
        }
        if (cost == null) {
            return "none (no images)";
        }
        return String.format(Locale.ROOT, "%.4f at %s per core-hour and %s per GPU-hour (%.4f core-hours, %.4f GPU-hours per 1,000"
                + " images)", cost, price(prices.coreHourPrice()), price(prices.gpuHourPrice()),
                usage.cpuSeconds() / images / 3.6, usage.gpuSeconds() / images / 3.6);
    }

    private static String price(double price) {
        return String.format(Locale.ROOT, "%s", price).replaceAll("\\.0$", "");
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
