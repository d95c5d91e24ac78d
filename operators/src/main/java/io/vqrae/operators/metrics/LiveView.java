package io.vqrae.operators.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.vqrae.models.render.ChwImages;
import io.vqrae.models.render.CodebookPlot;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live view ({@code metrics.preview}): one HTML page at {@value #PATH} on the JVM's metrics endpoint that
 * reloads itself and shows, for each job in this JVM, the last sampled inputs beside their decoder reconstructions
 * with their PSNR, the health window's codebook usage, and throughput and dead letters by reason over the last
 * minutes. The pictures are PNGs of the model-size input tensors ({@code metrics.psnr-every} samples them); the
 * input's own bytes are never kept.
 *
 * <p>Throughput and dead letters come from this JVM's counters, read every {@link #TICK} into a history of
 * {@link #HISTORY}; nothing is kept for a job after the endpoint stops.
 */
public final class LiveView implements HttpHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LiveView.class);

    public static final String PATH = "/preview";
    /** Samples shown per job, newest first. */
    public static final int SAMPLES = 6;
    /** How often the page reloads itself. */
    static final Duration REFRESH = Duration.ofSeconds(5);
    /** How often the counters are read: one bar of the throughput chart. */
    static final Duration TICK = Duration.ofSeconds(1);
    static final Duration HISTORY = Duration.ofMinutes(10);
    /** The border of every picture on the page and of nothing else, so a screenshot's pictures can be found by it. */
    public static final String FRAME_COLOR = "#0b7a75";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    /** One sampled image: its model-size input and its reconstruction as PNGs. */
    private record Sample(byte[] input, byte[] reconstruction, double psnr, long atMillis) {}

    /** The counters of every job at one moment: tokenized images, and dead letters by "reason (stage)". */
    private record Tick(long atMillis, Map<MetricLabels, Double> tokenized, Map<MetricLabels, Map<String, Double>> deadLetters) {}

    private final Map<MetricLabels, Deque<Sample>> samples = new ConcurrentHashMap<>();
    private final Deque<Tick> history = new ArrayDeque<>(); // guarded by itself
    /** When each job's counters were first read: counts of a job first seen within the history start from 0. */
    private final Map<MetricLabels, Long> firstSeen = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticker;

    LiveView() {
        ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "vqrae-live-view");
            thread.setDaemon(true);
            return thread;
        });
        ticker.scheduleAtFixedRate(() -> {
            try {
                tick();
            } catch (RuntimeException e) {
                // A failed reading must not end the history: the executor would run this task never again.
                LOG.warn("The live view could not read the counters", e);
            }
        }, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Keeps a sample of {@code labels}' job: its input and reconstruction, uint8 [3, height, width]. */
    void sampled(MetricLabels labels, byte[] input, byte[] reconstruction, int height, int width, double psnr) {
        Sample sample = new Sample(ChwImages.png(input, height, width), ChwImages.png(reconstruction, height, width), psnr,
                System.currentTimeMillis());
        Deque<Sample> ring = samples.computeIfAbsent(labels, l -> new ArrayDeque<>());
        synchronized (ring) {
            ring.addFirst(sample);
            while (ring.size() > SAMPLES) {
                ring.removeLast();
            }
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            boolean page = PATH.equals(exchange.getRequestURI().getPath());
            byte[] body = (page ? page() : "Not found: the live view is at " + PATH + ", the metrics at /metrics\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", page ? "text/html; charset=utf-8" : "text/plain; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            exchange.sendResponseHeaders(page ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private void tick() {
        Map<MetricLabels, Double> tokenized = new HashMap<>();
        for (DataPointSnapshot point : points("vqrae_images_tokenized")) {
            tokenized.merge(labels(point.getLabels()), value(point), Double::sum);
        }
        Map<MetricLabels, Map<String, Double>> deadLetters = new HashMap<>();
        for (DataPointSnapshot point : points("vqrae_dead_letters")) {
            String reason = point.getLabels().get("reason") + " (" + point.getLabels().get("stage") + ")";
            deadLetters.computeIfAbsent(labels(point.getLabels()), l -> new TreeMap<>()).merge(reason, value(point), Double::sum);
        }
        long now = System.currentTimeMillis();
        tokenized.keySet().forEach(job -> firstSeen.putIfAbsent(job, now));
        synchronized (history) {
            history.addLast(new Tick(now, tokenized, deadLetters));
            while (history.size() > 1 && now - history.peekFirst().atMillis() > HISTORY.toMillis()) {
                history.removeFirst();
            }
        }
    }

    private String page() {
        List<Tick> ticks;
        synchronized (history) {
            ticks = new ArrayList<>(history);
        }
        TreeSet<MetricLabels> jobs = new TreeSet<>((a, b) -> String.join("\0", a.values()).compareTo(String.join("\0", b.values())));
        jobs.addAll(samples.keySet());
        jobs.addAll(PipelineMetrics.healthWindows().keySet());
        ticks.forEach(tick -> jobs.addAll(tick.tokenized().keySet()));

        StringBuilder html = new StringBuilder();
        html.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"").append(REFRESH.toSeconds()).append("\">")
                .append("<title>vqrae live view</title><style>")
                .append("body{font-family:sans-serif;margin:16px 24px;color:#222;background:#fff}")
                .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 4px}h3{font-size:15px;margin:16px 0 6px}")
                .append(".meta{color:#555;font-size:13px;margin:2px 0}")
                .append(".pairs{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:13px;text-align:center}")
                .append(".frame{border:4px solid ").append(FRAME_COLOR).append(";display:block}")
                .append(".pair{display:flex;gap:4px}.plot{max-width:100%}")
                .append("table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
                .append("th:first-child,td:first-child{text-align:left}")
                .append("</style></head><body>\n");
        html.append("<h1>vqrae live view</h1><p class=\"meta\">This JVM's jobs, reloaded every ").append(REFRESH.toSeconds())
                .append(" s; page made at ").append(TIME.format(Instant.now())).append(". Pictures are the model-size inputs"
                        + " (left) and the decoder's reconstructions of their tokens (right), sampled every metrics.psnr-every-th"
                        + " image; the inputs' own bytes are never kept.</p>\n");
        if (jobs.isEmpty()) {
            html.append("<p>No job runs in this JVM yet.</p>\n");
        }
        for (MetricLabels job : jobs) {
            html.append("<h2>").append(escape(job.job())).append("</h2><p class=\"meta\">model ").append(escape(job.model()))
                    .append(' ').append(escape(job.modelVersion())).append(", codebook ").append(escape(job.codebook())).append("</p>\n");
            samples(html, job);
            codebook(html, job);
            throughput(html, job, ticks, firstSeen.get(job));
        }
        return html.append("</body></html>\n").toString();
    }

    private void samples(StringBuilder html, MetricLabels job) {
        html.append("<h3>Sampled reconstructions</h3>\n");
        Deque<Sample> ring = samples.get(job);
        List<Sample> shown = new ArrayList<>();
        if (ring != null) {
            synchronized (ring) {
                shown.addAll(ring);
            }
        }
        if (shown.isEmpty()) {
            html.append("<p class=\"meta\">No sample yet.</p>\n");
            return;
        }
        long now = System.currentTimeMillis();
        html.append("<div class=\"pairs\">\n");
        for (Sample sample : shown) {
            html.append("<figure><div class=\"pair\">").append(img(sample.input(), "input")).append(img(sample.reconstruction(), "reconstruction"))
                    .append(String.format(Locale.ROOT, "</div><figcaption>PSNR %.2f dB, %d s ago</figcaption></figure>\n",
                            sample.psnr(), Math.max(0, (now - sample.atMillis()) / 1000)));
        }
        html.append("</div>\n");
    }

    private static void codebook(StringBuilder html, MetricLabels job) {
        CodebookHealth health = PipelineMetrics.healthWindows().get(job);
        html.append("<h3>Codebook usage of the health window</h3>\n");
        if (health == null) {
            html.append("<p class=\"meta\">No image tokenized yet.</p>\n");
            return;
        }
        CodebookHealth.Snapshot s = health.snapshot();
        html.append(String.format(Locale.ROOT, "<p class=\"meta\">%d images in the window: utilisation %.1f%%, %d dead codes, perplexity %.1f,"
                + " mean quantisation error %.4f</p>\n", s.images(), 100 * s.windowUtilization(), s.deadCodes(), s.perplexity(), s.meanQuantError()));
        html.append(img(CodebookPlot.png(health.windowCounts(), job.model() + " " + job.modelVersion()), "codebook usage", "plot")).append('\n');
    }

    private static void throughput(StringBuilder html, MetricLabels job, List<Tick> ticks, Long firstSeen) {
        html.append("<h3>Throughput and dead letters, last ").append(HISTORY.toMinutes()).append(" minutes</h3>\n");
        List<Tick> seen = ticks.stream().filter(t -> t.tokenized().containsKey(job)).toList();
        if (seen.size() < 2) {
            html.append("<p class=\"meta\">Collecting: figures after ").append(TICK.toSeconds()).append(" s.</p>\n");
            return;
        }
        List<Double> rates = new ArrayList<>();
        for (int i = 1; i < seen.size(); i++) {
            double images = Math.max(0, seen.get(i).tokenized().get(job) - seen.get(i - 1).tokenized().get(job));
            rates.add(images / ((seen.get(i).atMillis() - seen.get(i - 1).atMillis()) / 1e3));
        }
        Tick first = seen.get(0);
        Tick last = seen.get(seen.size() - 1);
        // A job that started within the history counts from its start, before its first reading too.
        boolean sinceStart = firstSeen != null && firstSeen == first.atMillis();
        String window = sinceStart ? "since it started here" : "in the last " + (last.atMillis() - first.atMillis()) / 1000 + " s";
        double max = rates.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        html.append(String.format(Locale.ROOT, "<p class=\"meta\">%.1f images/s now, %.0f images tokenized %s, highest %.1f images/s"
                + "</p>\n", rates.get(rates.size() - 1), last.tokenized().get(job) - (sinceStart ? 0 : first.tokenized().get(job)),
                window, max));
        // A bar of images/s per tick, the newest at the right, over the history so far (a minute at least); drawn by the
        // browser, nothing to render here.
        int width = 600;
        int height = 100;
        double bar = (double) width / Math.max(rates.size(), (int) (60_000 / TICK.toMillis()));
        html.append("<svg width=\"").append(width).append("\" height=\"").append(height + 1)
                .append("\" role=\"img\" aria-label=\"images per second\" style=\"background:#f6f6f6\">");
        for (int i = 0; i < rates.size(); i++) {
            double h = max > 0 ? rates.get(i) / max * height : 0;
            html.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#3366cc\"/>",
                    width - (rates.size() - i) * bar, height - h, bar, h));
        }
        html.append(String.format(Locale.ROOT, "</svg><p class=\"meta\">Images tokenized per second, one bar per %d s, the last"
                + " %d s.</p>\n", TICK.toSeconds(), (int) Math.round(rates.size() * TICK.toMillis() / 1e3)));

        Map<String, Double> before = sinceStart ? Map.of() : first.deadLetters().getOrDefault(job, Map.of());
        Map<String, Double> now = last.deadLetters().getOrDefault(job, Map.of());
        if (now.isEmpty()) {
            html.append("<p class=\"meta\">No dead letters.</p>\n");
            return;
        }
        html.append("<table><tr><th>dead letters: reason (stage)</th>").append(sinceStart ? "" : "<th>" + window + "</th>")
                .append("<th>since the job started here</th></tr>\n");
        now.forEach((reason, total) -> html.append("<tr><td>").append(escape(reason)).append("</td>")
                .append(sinceStart ? "" : String.format(Locale.ROOT, "<td>%.0f</td>", total - before.getOrDefault(reason, 0.0)))
                .append(String.format(Locale.ROOT, "<td>%.0f</td></tr>\n", total)));
        html.append("</table>\n");
    }

    private static String img(byte[] png, String alt) {
        return img(png, alt, "");
    }

    private static String img(byte[] png, String alt, String extraClass) {
        return "<img class=\"frame " + extraClass + "\" alt=\"" + alt + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png) + "\">";
    }

    private static List<DataPointSnapshot> points(String name) {
        return PipelineMetrics.REGISTRY.scrape(name::equals).stream().flatMap(s -> s.getDataPoints().stream())
                .map(p -> (DataPointSnapshot) p).toList();
    }

    private static double value(DataPointSnapshot point) {
        return ((CounterSnapshot.CounterDataPointSnapshot) point).getValue();
    }

    private static MetricLabels labels(Labels labels) {
        return new MetricLabels(labels.get("job"), labels.get("model"), labels.get("model_version"), labels.get("codebook"));
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    @Override
    public void close() throws InterruptedException {
        ticker.shutdownNow();
        ticker.awaitTermination(10, TimeUnit.SECONDS);
    }
}
