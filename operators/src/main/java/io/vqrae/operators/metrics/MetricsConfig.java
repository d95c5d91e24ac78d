package io.vqrae.operators.metrics;

import io.vqrae.models.config.InvalidSettingException;
import java.io.Serializable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pipeline's Prometheus endpoint and tokenizer-health metrics: the {@code metrics} section of a job's
 * configuration.
 *
 * @param port where each JVM serves {@code /metrics}: one port ({@code 9249}), a range tried in order
 *     ({@code 9249-9260}, for several TaskManagers on one host), or {@code 0} for no endpoint
 * @param health whether the tokenizer tracks codebook usage, quantisation error and feature norms
 * @param healthWindow images in the sliding window of the codebook-health figures
 * @param psnrEvery decode every n-th tokenized image with the decoder graph, off the hot path, and record its
 *     reconstruction PSNR; 0 = off (the default: on a CPU the decoder costs as much as the encoder)
 */
public record MetricsConfig(String port, boolean health, int healthWindow, int psnrEvery) implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");

    /** Ports 9249-9260, health on over the last 10,000 images, PSNR off. */
    public static final MetricsConfig DEFAULT = new MetricsConfig("9249-9260", true, 10_000, 0);

    /** No endpoint, no health tracking: what tests of other things use. */
    public static final MetricsConfig OFF = new MetricsConfig("0", false, 1, 0);

    public MetricsConfig {
        InvalidSettingException.requireNonBlank("port", port);
        Matcher m = PORTS.matcher(port.trim());
        if (!m.matches() || Integer.parseInt(m.group(1)) > 65535 || (m.group(2) != null
                && (Integer.parseInt(m.group(2)) > 65535 || Integer.parseInt(m.group(2)) < Integer.parseInt(m.group(1))))) {
            throw new InvalidSettingException("port", "must be a port, a range like 9249-9260, or 0 for none, got '" + port + "'");
        }
        port = port.trim();
        InvalidSettingException.requireBetween("health-window", healthWindow, 1, 1_000_000);
        InvalidSettingException.requireBetween("psnr-every", psnrEvery, 0, Integer.MAX_VALUE);
    }

    /** The first port to try; 0 when the endpoint is off. */
    int firstPort() {
        return Integer.parseInt(port.split("-")[0]);
    }

    /** The last port to try. */
    int lastPort() {
        String[] parts = port.split("-");
        return Integer.parseInt(parts[parts.length - 1]);
    }
}
