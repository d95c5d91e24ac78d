package io.vqrae.operators.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.operators.data.ReasonCode;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * One operator instance's view of the pipeline's Prometheus metrics ({@link PipelineMetrics}): the series
 * of its job and subtask, resolved once, and a lease on the JVM's endpoint. Made in an operator's
 * {@code open}, closed in its {@code close}.
 */
public final class JobMetrics implements AutoCloseable {
    private static final double NANOS = 1e9;

    private final MetricsSpec spec;
    private final MetricLabels labels;
    private final String subtask;
    private final PipelineMetrics.Lease lease;
    // The series of fixed labels, resolved once; only those labelled by a value (cause, reason, topic) go
    // through the map.
    private final CounterDataPoint consumed;
    private final CounterDataPoint decoded;
    private final CounterDataPoint tokenizedImages;
    private final DistributionDataPoint decodeSeconds;
    private final DistributionDataPoint batchSize;
    private final DistributionDataPoint inferenceBatchSeconds;
    private final DistributionDataPoint inferenceImageSeconds;
    private final DistributionDataPoint batchWaitSeconds;
    private final DistributionDataPoint endToEndSeconds;
    private final DistributionDataPoint encodeSeconds;
    private final GaugeDataPoint buffered;
    private final CounterDataPoint batchRefusals;
    private final CounterDataPoint deadLettersTrimmed;
    private CounterDataPoint duplicates;
    private final Map<String, CounterDataPoint> counters = new ConcurrentHashMap<>();
    private CodebookHealth health;
    private ReconstructionSampler sampler;
    private long tokenized;

    private JobMetrics(MetricsSpec spec, int subtask, boolean holdEndpoint) {
        this.spec = spec;
        this.labels = spec.labels();
        this.subtask = Integer.toString(subtask);
        this.lease = holdEndpoint ? PipelineMetrics.acquire(spec) : null;
        // Resolving a series creates it at 0, so rate() sees the first images as an increase (Prometheus does
        // not count a series' first appearance as one).
        this.consumed = PipelineMetrics.counter(PipelineMetrics.IMAGES_CONSUMED, labels, this.subtask);
        this.decoded = PipelineMetrics.counter(PipelineMetrics.IMAGES_DECODED, labels, this.subtask);
        this.tokenizedImages = PipelineMetrics.counter(PipelineMetrics.IMAGES_TOKENIZED, labels, this.subtask);
        this.decodeSeconds = PipelineMetrics.histogram(PipelineMetrics.DECODE, labels);
        this.batchSize = PipelineMetrics.histogram(PipelineMetrics.BATCH_SIZE, labels);
        this.inferenceBatchSeconds = PipelineMetrics.histogram(PipelineMetrics.INFERENCE_BATCH, labels);
        this.inferenceImageSeconds = PipelineMetrics.histogram(PipelineMetrics.INFERENCE_IMAGE, labels);
        this.batchWaitSeconds = PipelineMetrics.histogram(PipelineMetrics.BATCH_WAIT, labels);
        this.endToEndSeconds = PipelineMetrics.histogram(PipelineMetrics.END_TO_END, labels);
        this.encodeSeconds = PipelineMetrics.histogram(PipelineMetrics.ENCODE, labels);
        this.buffered = PipelineMetrics.gauge(PipelineMetrics.BUFFERED_IMAGES, labels, this.subtask);
        this.batchRefusals = PipelineMetrics.counter(PipelineMetrics.BATCH_REFUSALS, labels);
        this.deadLettersTrimmed = PipelineMetrics.counter(PipelineMetrics.DEAD_LETTERS_TRIMMED, labels);
    }

    /** For an operator with a lifecycle: its series, and a lease on the JVM's endpoint until {@link #close}. */
    public static JobMetrics open(MetricsSpec spec, int subtask) {
        return new JobMetrics(Objects.requireNonNull(spec, "spec"), subtask, true);
    }

    /**
     * For code that is never closed (Kafka (de)serialization schemas have no close hook): the series only.
     * Its values are served by the endpoint the operators in the same JVM hold.
     */
    public static JobMetrics withoutEndpoint(MetricsSpec spec, int subtask) {
        return new JobMetrics(Objects.requireNonNull(spec, "spec"), subtask, false);
    }

    /**
     * Turns on the tokenizer's health tracking (when {@code metrics.health}) and PSNR sampling (when
     * {@code metrics.psnr-every} > 0, with a decoder session like {@code session} on the CPU), whose samples the
     * live view shows (when {@code metrics.preview}).
     */
    public JobMetrics withTokenizerHealth(ModelManifest manifest, SessionConfig session) throws ModelLoadException {
        if (spec.config().health()) {
            health = PipelineMetrics.health(labels, manifest, spec.config().healthWindow());
        }
        if (spec.config().psnrEvery() > 0) {
            ReconstructionSampler.Listener preview = spec.config().preview()
                    ? (input, reconstruction, db) -> PipelineMetrics.previewSample(labels, input, reconstruction,
                            manifest.imageHeight(), manifest.imageWidth(), db)
                    : null;
            sampler = new ReconstructionSampler(session, PipelineMetrics.histogram(PipelineMetrics.PSNR, labels),
                    PipelineMetrics.counter(PipelineMetrics.PSNR_SKIPPED, labels), preview);
        }
        return this;
    }

    /** Serves the decode memory budget of this JVM (the decode stage's) with this job's labels. */
    public JobMetrics withDecodeMemory(MemoryBudget budget) {
        PipelineMetrics.decodeMemory(labels, Objects.requireNonNull(budget, "budget"));
        return this;
    }

    /** Counts this subtask's {@link #duplicate duplicates}, from 0: for the deduplication stage. */
    public JobMetrics withDuplicates() {
        duplicates = PipelineMetrics.counter(PipelineMetrics.DUPLICATES, labels, subtask);
        return this;
    }

    /** Whether {@link #tokenizedImage} wants the feature norm (computing it costs a pass over the features). */
    public boolean tracksHealth() {
        return health != null;
    }

    public void consumed() {
        consumed.inc();
    }

    public void decoded(long nanos) {
        decoded.inc();
        decodeSeconds.observe(nanos / NANOS);
    }

    /** A batch ran: why it was flushed, its size, how long the graph took. */
    public void batch(String cause, int size, long inferenceNanos) {
        counter("flush-" + cause, () -> PipelineMetrics.counter(PipelineMetrics.BATCH_FLUSHES, labels, cause)).inc();
        batchSize.observe(size);
        inferenceBatchSeconds.observe(inferenceNanos / NANOS);
        for (int i = 0; i < size; i++) {
            inferenceImageSeconds.observe(inferenceNanos / NANOS / size);
        }
    }

    /** The encoder session refused a batch as model input; its images are retried one by one. */
    public void batchRefused() {
        batchRefusals.inc();
    }

    /** The encoder's busy time of this tokenizer subtask, served as {@code vqrae_tokenizer_busy_ratio} until {@link #close}. */
    public BusyTime encoderBusy() {
        return PipelineMetrics.busy(this, labels, subtask);
    }

    /**
     * This tokenizer subtask runs on GPU {@code device}, which {@code holders} subtasks of the TaskManager hold:
     * served as {@code vqrae_tokenizer_gpu_holders} until {@link #close}.
     */
    public void gpu(int device, IntSupplier holders) {
        PipelineMetrics.gpu(this, labels, subtask, device, holders);
    }

    /** An image waited this long in the tokenizer's buffer before its batch ran. */
    public void waited(long nanos) {
        batchWaitSeconds.observe(nanos / NANOS);
    }

    public void buffered(int images) {
        buffered.set(images);
    }

    /**
     * One image tokenized: counted, added to the health window, and every {@code psnr-every}-th offered for
     * a reconstruction sample.
     */
    public void tokenizedImage(int[] tokenIds, float meanQuantError, float meanFeatureNorm, byte[] chw) {
        tokenizedImages.inc();
        if (health != null) {
            health.add(tokenIds, meanQuantError, meanFeatureNorm);
        }
        tokenized++;
        if (sampler != null && tokenized % spec.config().psnrEvery() == 0) {
            sampler.offer(tokenIds, chw);
        }
    }

    /** A dead letter shed detail to fit the sink's record limit. */
    public void deadLetterTrimmed() {
        deadLettersTrimmed.inc();
    }

    /** An input repeated an earlier image's bytes (needs {@link #withDuplicates}). */
    public void duplicate() {
        duplicates.inc();
    }

    public void deadLetter(ReasonCode reason) {
        counter("dead-" + reason.code(), () -> PipelineMetrics.counter(PipelineMetrics.DEAD_LETTERS, labels, reason.stage().name(),
                reason.code())).inc();
    }

    /**
     * An output left the encoder {@code latencyMillis} after its input record's timestamp (null when the
     * source gave none; negative values, from clock skew, count as 0); the encode took {@code encodeNanos}.
     */
    public void emitted(Long latencyMillis, long encodeNanos) {
        if (latencyMillis != null) {
            endToEndSeconds.observe(Math.max(0, latencyMillis) / 1e3);
        }
        encodeSeconds.observe(encodeNanos / NANOS);
    }

    public void written(String topic, int bytes) {
        counter("records-" + topic, () -> PipelineMetrics.counter(PipelineMetrics.RECORDS_WRITTEN, labels, topic)).inc();
        counter("bytes-" + topic, () -> PipelineMetrics.counter(PipelineMetrics.BYTES_WRITTEN, labels, topic)).inc(bytes);
    }

    public void lag(String topic, int partition, long records) {
        PipelineMetrics.gauge(PipelineMetrics.CONSUMER_LAG, labels, topic, Integer.toString(partition)).set(records);
    }

    @Override
    public void close() throws InterruptedException {
        PipelineMetrics.forget(this);
        try {
            if (sampler != null) {
                sampler.close();
            }
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
    }

    private CounterDataPoint counter(String key, Supplier<CounterDataPoint> make) {
        return counters.computeIfAbsent(key, k -> make.get());
    }
}
