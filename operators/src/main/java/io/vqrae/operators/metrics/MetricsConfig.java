package io.vqrae.operators.metrics;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pipeline's Prometheus endpoint, tokenizer-health metrics and live view: the {@code metrics} section of a
 * job's configuration.
 *
 * @param port where each JVM serves {@code /metrics}: one port ({@code 9249}), a range tried in order
 *     ({@code 9249-9260}, for several TaskManagers on one host), or {@code 0} for no endpoint
 * @param address the address the endpoint listens on: {@code 0.0.0.0} for every interface, {@code 127.0.0.1} for
 *     this host only, or a host name
 * @param health whether the tokenizer tracks codebook usage, quantisation error and feature norms
 * @param healthWindow images in the sliding window of the codebook-health figures
 * @param psnrEvery decode every n-th tokenized image with the decoder graph, off the hot path, and record its
 *     reconstruction PSNR; 0 = off (the default: on a CPU the decoder costs as much as the encoder)
 * @param preview serve the live view at {@code /preview} on the endpoint: the last sampled inputs beside their
 *     reconstructions (model-size thumbnails), the window's codebook usage, throughput and dead letters. Off by
 *     default: it shows what the images hold to whoever reaches the address
 */
@RecordBuilder
public record MetricsConfig(String port, String address, boolean health, int healthWindow, int psnrEvery, boolean preview)
        implements Serializable, MetricsConfigBuilder.With {
    private static final long serialVersionUID = 1L;
    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*");

    /** Ports 9249-9260 on every interface, health on over the last 10,000 images, PSNR and live view off. */
    public static final MetricsConfig DEFAULT = MetricsConfigBuilder.builder()
            .port("9249-9260")
            .address("0.0.0.0")
            .health(true)
            .healthWindow(10_000)
            .psnrEvery(0)
            .preview(false)
            .build();

    /** No endpoint, no health tracking: what tests of other things use. */
    public static final MetricsConfig OFF = DEFAULT.with(off -> off.port("0").health(false).healthWindow(1));

    public MetricsConfig {
        InvalidSettingException.requireNonBlank("port", port);
        Matcher m = PORTS.matcher(port.trim());
        if (!m.matches() || Integer.parseInt(m.group(1)) > 65535 || (m.group(2) != null
                && (Integer.parseInt(m.group(2)) > 65535 || Integer.parseInt(m.group(2)) < Integer.parseInt(m.group(1))))) {
            throw new InvalidSettingException("port", "must be a port, a range like 9249-9260, or 0 for none, got '" + port + "'");
        }
        port = port.trim();
        InvalidSettingException.requireNonBlank("address", address);
        address = address.trim();
        if (!isAddress(address)) {
            throw new InvalidSettingException("address", "must be an IP address (0.0.0.0 for every interface, 127.0.0.1 for this"
                    + " host only) or a host name, got '" + address + "'");
        }
        InvalidSettingException.requireBetween("health-window", healthWindow, 1, 1_000_000);
        InvalidSettingException.requireBetween("psnr-every", psnrEvery, 0, Integer.MAX_VALUE);
        if (preview) {
            if (Integer.parseInt(port.split("-")[0]) == 0) {
                throw new InvalidSettingException("preview", "needs metrics.port: the live view is served by the metrics endpoint");
            }
            if (psnrEvery == 0) {
                throw new InvalidSettingException("preview", "needs metrics.psnr-every > 0: the live view shows the sampled reconstructions");
            }
            if (!health) {
                throw new InvalidSettingException("preview", "needs metrics.health: the live view shows the window's codebook usage");
            }
        }
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

    /** An IPv4 address or host name by its spelling, an IPv6 address by parsing it (a literal is never looked up). */
    private static boolean isAddress(String address) {
        if (HOST_NAME.matcher(address).matches()) {
            return true;
        }
        if (!address.contains(":")) {
            return false;
        }
        try {
            InetAddress.getByName(address);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
