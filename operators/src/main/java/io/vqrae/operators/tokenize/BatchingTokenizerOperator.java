package io.vqrae.operators.tokenize;

import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.operators.data.FeatureTensor;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.tokenize.TokenizerMetrics.FlushCause;
import io.vqrae.schemas.FailureStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Groups preprocessed images into micro-batches and runs the encoder graph once per batch.
 *
 * <p>A batch is flushed when it reaches {@code maxBatchSize} images, when its oldest image has waited
 * {@code maxBatchDelay} (processing-time timer), before every checkpoint barrier
 * ({@link #prepareSnapshotPreBarrier}) and at end of input ({@link #finish}). Flushing before the barrier
 * is the pattern of Flink's {@code AbstractMapBundleOperator}: the buffer is always empty when state is
 * snapshotted, so it needs no state of its own, and an image is never both in a checkpoint's buffer and
 * in its emitted output. A restart replays exactly the images after the last checkpoint.
 *
 * <p>A watermark also flushes the buffer before it is forwarded, so it never overtakes a buffered image,
 * and every result keeps the timestamp of its input record.
 *
 * <p>Only failures that are the input's fault are handled here: when the session refuses a batch with an
 * {@link IllegalArgumentException} (an image that is not a valid model input), each image is retried
 * alone, so one poisonous image cannot take its batch-mates with it, and the images it still refuses go
 * to {@link #REJECTED} with reason {@value #TOKENIZER_FAILED}. Any other exception (ONNX Runtime failing,
 * a lost GPU, out of memory) says nothing about the images: it is rethrown so Flink restarts from the last
 * checkpoint and the images are tokenized again, instead of the whole stream being dead-lettered and
 * committed. Timers run in the task's mailbox thread, so the buffer needs no locking.
 */
public final class BatchingTokenizerOperator extends AbstractStreamOperator<TokenizedImage>
        implements OneInputStreamOperator<PreprocessedImage, TokenizedImage>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    /** Images the session refused as model inputs, even when run alone. */
    public static final OutputTag<Rejection> REJECTED = new OutputTag<>("tokenize-rejected") {};

    /** Reason code for an image the session refused as a model input. */
    public static final String TOKENIZER_FAILED = "tokenizer_failed";

    private final TokenizerSpec spec;

    private transient TokenizerSession session;
    private transient TokenizerMetrics metrics;
    private transient JobMetrics jobMetrics;
    /** Buffered inputs as copies of their stream records, so each result can carry its input's timestamp. */
    private transient List<StreamRecord<PreprocessedImage>> buffer;
    /** {@link System#nanoTime} at which each buffered input arrived, for the batch-wait histogram. */
    private transient List<Long> arrivals;
    private transient ScheduledFuture<?> timer;
    /** Processing time by which the current buffer must be flushed; stale timers fire before it and are ignored. */
    private transient long deadline;

    public BatchingTokenizerOperator(TokenizerSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    @Override
    public void open() throws Exception {
        super.open();
        metrics = new TokenizerMetrics(getMetricGroup());
        buffer = new ArrayList<>(spec.batching().maxSize());
        arrivals = new ArrayList<>(spec.batching().maxSize());
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        session = TokenizerSession.open(spec.session(subtask));
        jobMetrics = JobMetrics.open(spec.metrics(), subtask)
                .withTokenizerHealth(spec.manifest(), SessionConfig.cpu(spec.manifest()));
    }

    @Override
    public void processElement(StreamRecord<PreprocessedImage> element) {
        if (buffer.isEmpty()) {
            deadline = getProcessingTimeService().getCurrentProcessingTime() + spec.batching().maxDelay().toMillis();
            timer = getProcessingTimeService().registerTimer(deadline, this);
        }
        // Copied because the runtime may reuse the StreamRecord instance for the next element.
        buffer.add(element.copy(element.getValue()));
        arrivals.add(System.nanoTime());
        jobMetrics.buffered(buffer.size());
        if (buffer.size() >= spec.batching().maxSize()) {
            flush(FlushCause.FULL);
        }
    }

    @Override
    public void onProcessingTime(long time) {
        if (!buffer.isEmpty() && time >= deadline) {
            flush(FlushCause.TIMER);
        }
    }

    /** Flushes first, like {@code AbstractMapBundleOperator}: a watermark must not pass the images before it. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (!buffer.isEmpty()) {
            flush(FlushCause.WATERMARK);
        }
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        if (!buffer.isEmpty()) {
            flush(FlushCause.CHECKPOINT);
        }
    }

    @Override
    public void finish() throws Exception {
        if (!buffer.isEmpty()) {
            flush(FlushCause.END_OF_INPUT);
        }
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            cancelTimer();
            if (session != null) {
                session.close();
                session = null;
            }
            if (jobMetrics != null) {
                jobMetrics.close();
                jobMetrics = null;
            }
        } finally {
            super.close();
        }
    }

    /** The operator's counters; read by tests in this package through the operator instance. */
    TokenizerMetrics metrics() {
        return metrics;
    }

    /** The operator's session; tests in this package close it to make the runtime fail under the operator. */
    TokenizerSession session() {
        return session;
    }

    private void flush(FlushCause cause) {
        cancelTimer();
        List<StreamRecord<PreprocessedImage>> batch = List.copyOf(buffer);
        long runStart = System.nanoTime();
        for (long arrival : arrivals) {
            jobMetrics.waited(runStart - arrival);
        }
        buffer.clear();
        arrivals.clear();
        jobMetrics.buffered(0);
        metrics.flushCounter(cause).inc();
        metrics.batchSize.update(batch.size());
        Encoded results;
        try {
            results = tokenize(batch);
            jobMetrics.batch(cause.name().toLowerCase(Locale.ROOT), batch.size(), results.inferenceNanos());
        } catch (IllegalArgumentException refused) {
            metrics.failedBatches.inc();
            LOG.warn("Encoder refused a batch of {}; retrying its images one by one", batch.size(), refused);
            for (StreamRecord<PreprocessedImage> image : batch) {
                tokenizeAlone(image);
            }
            return;
        }
        emit(batch, results);
    }

    private void tokenizeAlone(StreamRecord<PreprocessedImage> record) {
        List<StreamRecord<PreprocessedImage>> alone = List.of(record);
        Encoded result;
        try {
            result = tokenize(alone);
        } catch (IllegalArgumentException refused) {
            PreprocessedImage image = record.getValue();
            metrics.imagesRejected.inc();
            output.collect(REJECTED, record.replace(Rejection.withoutOriginal(
                    image.id(), FailureStage.tokenize, TOKENIZER_FAILED, refused.toString(), image.origin(),
                    System.currentTimeMillis())));
            return;
        }
        emit(alone, result);
    }

    /**
     * A batch's results, with what the health metrics need besides them.
     *
     * @param results one per input, in order
     * @param featureNorms each image's mean token-feature norm (0 when health tracking is off)
     * @param inferenceNanos how long the encoder graph ran
     */
    private record Encoded(List<TokenizedImage> results, float[] featureNorms, long inferenceNanos) {}

    /**
     * Runs the model and builds every result before any is emitted, so a failure part-way leaves nothing
     * emitted and the retry cannot duplicate an image.
     *
     * @throws IllegalArgumentException if the session refuses an image of the batch as model input
     */
    private Encoded tokenize(List<StreamRecord<PreprocessedImage>> batch) {
        List<byte[]> pixels = new ArrayList<>(batch.size());
        for (StreamRecord<PreprocessedImage> record : batch) {
            pixels.add(record.getValue().chw());
        }
        long start = System.nanoTime();
        EncodedBatch encoded = session.encode(pixels);
        long inferenceNanos = System.nanoTime() - start;
        metrics.encodeMillis.update(inferenceNanos / 1_000_000);
        float[] featureNorms = new float[batch.size()];
        long now = System.currentTimeMillis();
        FeatureOutput output = spec.features();
        int[] shape = output.shape(spec.manifest());
        List<TokenizedImage> results = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            PreprocessedImage image = batch.get(i).getValue();
            FeatureTensor features = switch (output.mode()) {
                case PER_TOKEN -> new FeatureTensor(output.mode(), output.dtype(), shape, encoded.features(i, output.dtype()));
                case POOLED -> new FeatureTensor(output.mode(), output.dtype(), shape, encoded.pooledFeatures(i, output.dtype()));
                case OFF -> null;
            };
            results.add(new TokenizedImage(
                    image.id(), image.sha256(), image.origin(), encoded.tokenIds(i), encoded.meanQuantError(i), features,
                    now));
            if (jobMetrics.tracksHealth()) {
                featureNorms[i] = encoded.meanFeatureNorm(i);
            }
        }
        return new Encoded(results, featureNorms, inferenceNanos);
    }

    /** Emits each result with the timestamp of its input. */
    private void emit(List<StreamRecord<PreprocessedImage>> inputs, Encoded encoded) {
        List<TokenizedImage> results = encoded.results();
        for (int i = 0; i < results.size(); i++) {
            TokenizedImage result = results.get(i);
            // Read before replace(), which puts the result into the same StreamRecord.
            byte[] chw = inputs.get(i).getValue().chw();
            output.collect(inputs.get(i).replace(result));
            jobMetrics.tokenizedImage(result.tokenIds(), result.meanQuantError(), encoded.featureNorms()[i], chw);
        }
        metrics.imagesTokenized.inc(results.size());
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
