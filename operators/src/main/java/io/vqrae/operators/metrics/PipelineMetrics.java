package io.vqrae.operators.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.StatefulMetric;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.report.RunReportLog;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's Prometheus metrics: one registry and one HTTP endpoint ({@code /metrics}) per JVM, shared by
 * every operator instance in it. Every figure of our own is here and only here; Flink's metric groups keep what
 * Flink itself measures (busy time, backpressure, checkpoints, restarts), served by Flink's own reporter.
 * Histograms are classic (fixed buckets) so they add up across TaskManagers in PromQL, which Flink's summaries do
 * not.
 *
 * <p>Each user {@link #acquire acquires} a lease and closes it when done; the endpoint starts with the first
 * lease and stops with the last, so a finished job leaves no server behind on a TaskManager. A command that
 * wants the endpoint to outlive its job (the demo, a test) holds a lease of its own. With the endpoint run the
 * {@link LiveView live view} ({@code metrics.preview}) and the JVM's run report log ({@code report.log-every}).
 *
 * <p>Metrics never fail the job: a port range that is all taken leaves this JVM without an endpoint (logged).
 */
public final class PipelineMetrics {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineMetrics.class);

    static final PrometheusRegistry REGISTRY = new PrometheusRegistry();

    // ---- flow ----
    static final Counter IMAGES_CONSUMED = counter("vqrae_images_consumed", "Input records read by the source, readable or not.", "subtask");
    static final Counter IMAGES_DECODED = counter("vqrae_images_decoded", "Images decoded and preprocessed.", "subtask");
    static final Counter IMAGES_TOKENIZED = counter("vqrae_images_tokenized", "Images the encoder graph tokenized.", "subtask");
    static final Counter DEAD_LETTERS = counter("vqrae_dead_letters", "Dead-letter records emitted, by stage and reason.", "stage", "reason");
    static final Counter RECORDS_WRITTEN = counter("vqrae_records_written", "Output records handed to the sink, by topic.", "topic");
    static final Counter BYTES_WRITTEN = counter("vqrae_record_bytes_written", "Key and value bytes handed to the sink, by topic.", "topic");
    static final Counter BATCH_FLUSHES = counter("vqrae_batch_flushes", "Tokenizer batches run, by what flushed them.", "cause");
    static final Counter BATCH_REFUSALS = counter("vqrae_batch_refusals",
            "Tokenizer batches the encoder session refused as model input; their images were retried one by one.");
    static final Counter DEAD_LETTERS_TRIMMED = counter("vqrae_dead_letters_trimmed",
            "Dead letters that shed detail (original, message, id) to fit the sink's record limit.");
    static final Counter DUPLICATES = counter("vqrae_duplicates", "Inputs found to repeat an earlier image's bytes (corpus.dedup).", "subtask");
    static final Counter PSNR_SKIPPED = counter("vqrae_reconstruction_samples_skipped", "PSNR samples skipped because the decoder thread was busy.");
    static final Gauge BUFFERED_IMAGES = Gauge.builder().name("vqrae_tokenizer_buffered_images")
            .help("Images waiting in a tokenizer's batch.").labelNames(MetricLabels.names("subtask")).register(REGISTRY);
    static final Gauge CONSUMER_LAG = Gauge.builder().name("vqrae_kafka_consumer_lag_records")
            .help("Records between the last one read and the partition's last stable offset.")
            .labelNames(MetricLabels.names("topic", "partition")).register(REGISTRY);

    // ---- a bounded run's progress, as its progress line shows it (set by the command that runs it) ----
    static final Gauge RUN_INPUTS = Gauge.builder().name("vqrae_run_inputs")
            .help("Inputs of a bounded run: state=total (counted, or estimated until counted; -1 while unknown), state=done"
                    + " (tokenized, dead-lettered or found duplicate).")
            .labelNames(MetricLabels.names("state")).register(REGISTRY);
    static final Gauge RUN_RATE = Gauge.builder().name("vqrae_run_images_per_second")
            .help("Inputs a bounded run handled per second over the last 30 s.").labelNames(MetricLabels.names()).register(REGISTRY);
    static final Gauge RUN_ETA = Gauge.builder().name("vqrae_run_eta_seconds")
            .help("Seconds a bounded run needs for its remaining inputs at its current rate; -1 while unknown.")
            .labelNames(MetricLabels.names()).register(REGISTRY);

    // ---- time ----
    private static final double[] SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
    static final Histogram END_TO_END = histogram("vqrae_end_to_end_latency_seconds",
            "From the input record's timestamp to its output record leaving the encoder.", SECONDS);
    static final Histogram DECODE = histogram("vqrae_decode_seconds", "Decode and preprocess, per image.", SECONDS);
    static final Histogram BATCH_WAIT = histogram("vqrae_batch_wait_seconds", "Time an image waited in the tokenizer's batch.", SECONDS);
    static final Histogram INFERENCE_BATCH = histogram("vqrae_inference_batch_seconds", "Encoder graph run, per batch.", SECONDS);
    static final Histogram INFERENCE_IMAGE = histogram("vqrae_inference_image_seconds", "Encoder graph run divided by the batch size.", SECONDS);
    static final Histogram ENCODE = histogram("vqrae_encode_seconds", "Building and serializing an image's output records.", SECONDS);
    static final Histogram BATCH_SIZE = histogram("vqrae_batch_size", "Images per encoder run.",
            1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096);
    static final Histogram PSNR = histogram("vqrae_reconstruction_psnr_db",
            "PSNR of sampled decoder reconstructions against the model-size input.", 10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30, 35, 40, 50);

    private static final List<StatefulMetric<?, ?>> STATEFUL = List.of(IMAGES_CONSUMED, IMAGES_DECODED, IMAGES_TOKENIZED,
            DEAD_LETTERS, RECORDS_WRITTEN, BYTES_WRITTEN, BATCH_FLUSHES, BATCH_REFUSALS, DEAD_LETTERS_TRIMMED, DUPLICATES, PSNR_SKIPPED, BUFFERED_IMAGES, CONSUMER_LAG,
            RUN_INPUTS, RUN_RATE, RUN_ETA,
            END_TO_END, DECODE, BATCH_WAIT, INFERENCE_BATCH, INFERENCE_IMAGE, ENCODE, BATCH_SIZE, PSNR);

    // ---- tokenizer health, read from the trackers at scrape time ----
    private static final Map<MetricLabels, CodebookHealth> HEALTH = new ConcurrentHashMap<>();

    // ---- per open tokenizer subtask (keyed by its JobMetrics), read at scrape time ----
    /** A series' label values and what it reads its value from. */
    private record Served<T>(String[] labels, T source) {}

    private static final Map<JobMetrics, Served<BusyTime>> BUSY = new ConcurrentHashMap<>();
    /** How many subtasks of this TaskManager hold each subtask's GPU now. */
    private static final Map<JobMetrics, Served<IntSupplier>> GPUS = new ConcurrentHashMap<>();

    static {
        health("vqrae_codebook_window_images", "Images in the codebook-health window.", s -> (double) s.images());
        health("vqrae_codebook_utilization_window_ratio", "Distinct token ids in the window / codebook size.", CodebookHealth.Snapshot::windowUtilization);
        health("vqrae_codebook_utilization_run_ratio", "Distinct token ids since the job started / codebook size.", CodebookHealth.Snapshot::runUtilization);
        health("vqrae_codebook_dead_codes", "Codes not used in the window.", s -> (double) s.deadCodes());
        health("vqrae_codebook_usage_entropy_bits", "Entropy of the window's token-id distribution.", CodebookHealth.Snapshot::entropyBits);
        health("vqrae_codebook_perplexity", "2^entropy: codes effectively in use in the window.", CodebookHealth.Snapshot::perplexity);
        health("vqrae_quant_error_mean", "Mean quantisation error (graph output quant_error) over the window.", CodebookHealth.Snapshot::meanQuantError);
        health("vqrae_feature_norm_mean", "Mean L2 norm of token features over the window.", CodebookHealth.Snapshot::meanFeatureNorm);
        GaugeWithCallback.builder().name("vqrae_tokenizer_busy_ratio")
                .help("Share of the last minute the tokenizer subtask's encoder spent encoding (1 = the accelerator is the bottleneck).")
                .labelNames(MetricLabels.names("subtask"))
                .callback(callback -> BUSY.values().forEach(busy -> callback.call(busy.source().ratio(), busy.labels())))
                .register(REGISTRY);
        GaugeWithCallback.builder().name("vqrae_tokenizer_gpu_holders")
                .help("Tokenizer subtasks of this TaskManager holding the GPU this subtask holds: 1, or more when they share it.")
                .labelNames(MetricLabels.names("subtask", "gpu"))
                .callback(callback -> GPUS.values().forEach(gpu -> callback.call(gpu.source().getAsInt(), gpu.labels())))
                .register(REGISTRY);
    }

    // ---- decode memory, read from the JVM's budget at scrape time ----
    private static final Map<MetricLabels, MemoryBudget> BUDGETS = new ConcurrentHashMap<>();

    static {
        budget("vqrae_decode_memory_capacity_bytes", "Heap this JVM lets decodes hold together.", MemoryBudget::capacityBytes);
        budget("vqrae_decode_memory_held_bytes", "Heap running decodes hold now.", MemoryBudget::heldBytes);
        budget("vqrae_decode_memory_waiting_decodes", "Decodes waiting for decode memory now.", MemoryBudget::waiting);
        CounterWithCallback.builder().name("vqrae_decode_memory_wait_seconds")
                .help("Time decodes spent waiting for decode memory, summed over decodes.").labelNames(MetricLabels.names())
                .callback(callback -> BUDGETS.forEach((labels, budget) -> callback.call(budget.waitedSeconds(), labels.values())))
                .register(REGISTRY);
    }

    private static final Object LOCK = new Object();
    private static int leases; // guarded by LOCK
    private static HTTPServer server; // guarded by LOCK
    private static volatile LiveView liveView; // written under LOCK
    private static RunReportLog reportLog; // guarded by LOCK

    private PipelineMetrics() {}

    /**
     * A lease on the JVM's metrics: unless they run already, starts the endpoint on the first port of
     * {@code metrics.port} that is free (with the live view when {@code metrics.preview}) and the run report log.
     * Close it when done.
     */
    public static Lease acquire(MetricsSpec spec) {
        synchronized (LOCK) {
            if (leases++ == 0) {
                if (spec.config().firstPort() > 0) {
                    server = start(spec.config());
                }
                reportLog = RunReportLog.start(spec.report(), () -> (long) total("vqrae_images_consumed", null));
            }
            return new Lease();
        }
    }

    /** The endpoint's port, or -1 when this JVM has none. */
    public static int port() {
        synchronized (LOCK) {
            return server == null ? -1 : server.getPort();
        }
    }

    /**
     * The value of counter {@code name} (without {@code _total}) summed over all series of {@code job} in this
     * JVM (of every job when null), for progress lines and run reports.
     */
    public static double total(String name, String job) {
        return REGISTRY.scrape(name::equals).stream()
                .flatMap(snapshot -> snapshot.getDataPoints().stream())
                .filter(point -> job == null || job.equals(point.getLabels().get("job")))
                .mapToDouble(point -> ((CounterSnapshot.CounterDataPointSnapshot) point).getValue())
                .sum();
    }

    /**
     * Publishes a bounded run's progress: its inputs in all ({@code total}, negative while unknown) and done, its
     * rate and the seconds it still needs (negative while unknown).
     */
    public static void runProgress(MetricLabels labels, long total, long done, double imagesPerSecond, double etaSeconds) {
        gauge(RUN_INPUTS, labels, "total").set(total);
        gauge(RUN_INPUTS, labels, "done").set(done);
        gauge(RUN_RATE, labels).set(imagesPerSecond);
        gauge(RUN_ETA, labels).set(etaSeconds);
    }

    /** The codebook-health tracker of {@code labels}, made on first use for a codebook of {@code manifest}. */
    static CodebookHealth health(MetricLabels labels, ModelManifest manifest, int window) {
        return HEALTH.computeIfAbsent(labels, l -> new CodebookHealth(manifest.codebookSize(), window));
    }


    /** Starts serving the encoder busy time of {@code owner}'s subtask; {@link #forget} stops. */
    static BusyTime busy(JobMetrics owner, MetricLabels labels, String subtask) {
        return BUSY.computeIfAbsent(owner, o -> new Served<>(labels.values(subtask), new BusyTime())).source();
    }

    /** Starts serving which GPU {@code owner}'s subtask holds and how many subtasks of this TaskManager hold it. */
    static void gpu(JobMetrics owner, MetricLabels labels, String subtask, int device, IntSupplier holders) {
        GPUS.put(owner, new Served<>(labels.values(subtask, Integer.toString(device)), holders));
    }

    /** {@code owner} closed: its busy time and GPU are no longer served. */
    static void forget(JobMetrics owner) {
        BUSY.remove(owner);
        GPUS.remove(owner);
    }

    /** The health windows of this JVM's jobs. */
    static Map<MetricLabels, CodebookHealth> healthWindows() {
        return HEALTH;
    }

    /** Shows a sample on the live view, when it runs: uint8 [3, height, width] input and reconstruction. */
    static void previewSample(MetricLabels labels, byte[] input, byte[] reconstruction, int height, int width, double psnr) {
        LiveView view = liveView;
        if (view != null) {
            view.sampled(labels, input, reconstruction, height, width, psnr);
        }
    }

    /** Serves {@code budget} (one per JVM) as the decode-memory series of {@code labels}' job. */
    static void decodeMemory(MetricLabels labels, MemoryBudget budget) {
        BUDGETS.put(labels, budget);
    }

    /** Mean PSNR (dB) of the sampled reconstructions of {@code labels}' job in this JVM, or null when none were sampled. */
    public static Double sampledPsnr(MetricLabels labels) {
        return REGISTRY.scrape("vqrae_reconstruction_psnr_db"::equals).stream()
                .flatMap(snapshot -> snapshot.getDataPoints().stream())
                .map(point -> (HistogramSnapshot.HistogramDataPointSnapshot) point)
                .filter(point -> point.getLabels().equals(Labels.of(MetricLabels.NAMES, labels.values())))
                .filter(point -> point.getCount() > 0)
                .map(point -> point.getSum() / point.getCount())
                .findFirst().orElse(null);
    }


    /** A share of the JVM's metrics endpoint; closing the last stops it. Idempotent. */
    public static final class Lease implements AutoCloseable {
        private boolean closed;

        private Lease() {}

        @Override
        public void close() {
            synchronized (LOCK) {
                if (closed) {
                    return;
                }
                closed = true;
                if (--leases == 0) {
                    if (server != null) {
                        server.stop();
                        server = null;
                    }
                    if (liveView != null) {
                        closeQuietly(liveView);
                        liveView = null;
                    }
                    if (reportLog != null) {
                        closeQuietly(reportLog);
                        reportLog = null;
                    }
                    // No job runs here any more: drop its series and health windows, so a TaskManager that
                    // runs job after job does not keep every finished job's series and windows.
                    HEALTH.clear();
                    BUDGETS.clear();
                    STATEFUL.forEach(StatefulMetric::clear);
                }
            }
        }
    }

    static CounterDataPoint counter(Counter counter, MetricLabels labels, String... more) {
        return counter.labelValues(labels.values(more));
    }

    static DistributionDataPoint histogram(Histogram histogram, MetricLabels labels) {
        return histogram.labelValues(labels.values());
    }

    static GaugeDataPoint gauge(Gauge gauge, MetricLabels labels, String... more) {
        return gauge.labelValues(labels.values(more));
    }

    private static HTTPServer start(MetricsConfig config) {
        InetAddress address;
        try {
            address = InetAddress.getByName(config.address());
        } catch (IOException e) {
            LOG.warn("metrics.address {} does not resolve here ({}); this JVM serves no metrics", config.address(), e.toString());
            return null;
        }
        LiveView view = config.preview() ? new LiveView() : null;
        if (view != null && address.isAnyLocalAddress()) {
            LOG.warn("The live view (metrics.preview) shows sampled images to anyone who reaches this host's metrics port;"
                    + " metrics.address: 127.0.0.1 keeps it to this host");
        }
        for (int port = config.firstPort(); port <= config.lastPort(); port++) {
            try {
                HTTPServer.Builder builder = HTTPServer.builder()
                        .inetAddress(address)
                        .port(port)
                        .registry(REGISTRY)
                        .metricsHandlerPath("/metrics");
                if (view != null) {
                    // Every path but /metrics (and the exporter's health check) comes here; it serves LiveView.PATH.
                    builder.defaultHandler(view);
                }
                HTTPServer started = builder.buildAndStart();
                LOG.info("Prometheus metrics on {} port {} at /metrics{}", config.address(), started.getPort(),
                        view == null ? "" : ", live view at " + LiveView.PATH);
                liveView = view;
                return started;
            } catch (IOException e) {
                LOG.debug("Port {} is taken: {}", port, e.toString());
            }
        }
        LOG.warn("No free port in {} for the Prometheus endpoint; this JVM serves no metrics", config.port());
        if (view != null) {
            closeQuietly(view);
        }
        return null;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("Closing {} failed", closeable, e);
        }
    }

    private static Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(MetricLabels.names(labels)).register(REGISTRY);
    }

    private static Histogram histogram(String name, String help, double... buckets) {
        return Histogram.builder().name(name).help(help).classicOnly().classicUpperBounds(buckets)
                .labelNames(MetricLabels.names()).register(REGISTRY);
    }

    private static void budget(String name, String help, ToDoubleFunction<MemoryBudget> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(MetricLabels.names())
                .callback(callback -> BUDGETS.forEach((labels, budget) -> callback.call(value.applyAsDouble(budget), labels.values())))
                .register(REGISTRY);
    }

    private static void health(String name, String help, Function<CodebookHealth.Snapshot, Double> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(MetricLabels.names())
                .callback(callback -> HEALTH.forEach((labels, health) -> {
                    double v = value.apply(health.snapshot());
                    if (!Double.isNaN(v)) {
                        callback.call(v, labels.values());
                    }
                }))
                .register(REGISTRY);
    }
}
