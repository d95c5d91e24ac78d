package io.vqrae.operators.tokenize;

import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.tokenize.TokenizerMetrics.FlushCause;
import io.vqrae.schemas.FailureStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
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
 * <p>If the model fails on a batch, each image is retried alone, so one poisonous image (or a transient
 * failure) cannot take its batch-mates with it; images that still fail go to {@link #REJECTED} with reason
 * {@value #TOKENIZER_FAILED}. Timers run in the task's mailbox thread, so the buffer needs no locking.
 */
public final class BatchingTokenizerOperator extends AbstractStreamOperator<TokenizedImage>
        implements OneInputStreamOperator<PreprocessedImage, TokenizedImage>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    /** Images the model failed on, even when run alone. */
    public static final OutputTag<Rejection> REJECTED = new OutputTag<>("tokenize-rejected") {};

    /** Reason code for an image the model failed on. */
    public static final String TOKENIZER_FAILED = "tokenizer_failed";

    private final TokenizerOptions options;

    private transient TokenizerSession session;
    private transient TokenizerMetrics metrics;
    private transient List<PreprocessedImage> buffer;
    private transient ScheduledFuture<?> timer;
    /** Processing time by which the current buffer must be flushed; stale timers fire before it and are ignored. */
    private transient long deadline;

    public BatchingTokenizerOperator(TokenizerOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public void open() throws Exception {
        super.open();
        metrics = new TokenizerMetrics(getMetricGroup());
        buffer = new ArrayList<>(options.maxBatchSize());
        session = TokenizerSession.open(options.sessionConfig());
    }

    @Override
    public void processElement(StreamRecord<PreprocessedImage> element) {
        if (buffer.isEmpty()) {
            deadline = getProcessingTimeService().getCurrentProcessingTime() + options.maxBatchDelay().toMillis();
            timer = getProcessingTimeService().registerTimer(deadline, this);
        }
        buffer.add(element.getValue());
        if (buffer.size() >= options.maxBatchSize()) {
            flush(FlushCause.FULL);
        }
    }

    @Override
    public void onProcessingTime(long time) {
        if (!buffer.isEmpty() && time >= deadline) {
            flush(FlushCause.TIMER);
        }
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
        } finally {
            super.close();
        }
    }

    /** The operator's counters; read by tests in this package through the operator instance. */
    TokenizerMetrics metrics() {
        return metrics;
    }

    private void flush(FlushCause cause) {
        cancelTimer();
        List<PreprocessedImage> batch = List.copyOf(buffer);
        buffer.clear();
        metrics.flushCounter(cause).inc();
        metrics.batchSize.update(batch.size());
        List<TokenizedImage> results;
        try {
            results = tokenize(batch);
        } catch (RuntimeException batchFailure) {
            metrics.failedBatches.inc();
            LOG.warn("Encoder failed on a batch of {}; retrying its images one by one", batch.size(), batchFailure);
            for (PreprocessedImage image : batch) {
                tokenizeAlone(image);
            }
            return;
        }
        emit(results);
    }

    private void tokenizeAlone(PreprocessedImage image) {
        List<TokenizedImage> result;
        try {
            result = tokenize(List.of(image));
        } catch (RuntimeException e) {
            metrics.imagesRejected.inc();
            output.collect(REJECTED, new StreamRecord<>(Rejection.withoutOriginal(
                    image.id(), FailureStage.tokenize, TOKENIZER_FAILED, e.toString(), image.origin(),
                    System.currentTimeMillis())));
            return;
        }
        emit(result);
    }

    /**
     * Runs the model and builds every result before any is emitted, so a failure part-way leaves nothing
     * emitted and the retry cannot duplicate an image.
     */
    private List<TokenizedImage> tokenize(List<PreprocessedImage> batch) {
        List<byte[]> pixels = new ArrayList<>(batch.size());
        for (PreprocessedImage image : batch) {
            pixels.add(image.chw());
        }
        long start = System.nanoTime();
        EncodedBatch encoded = session.encode(pixels);
        metrics.encodeMillis.update((System.nanoTime() - start) / 1_000_000);
        long now = System.currentTimeMillis();
        List<TokenizedImage> results = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            PreprocessedImage image = batch.get(i);
            byte[] features = switch (options.featureMode()) {
                case PER_TOKEN -> encoded.features(i, options.featureDtype());
                case POOLED -> encoded.pooledFeatures(i, options.featureDtype());
                case OFF -> null;
            };
            results.add(new TokenizedImage(
                    image.id(), image.sha256(), image.origin(), encoded.tokenIds(i), encoded.meanQuantError(i), features,
                    now));
        }
        return results;
    }

    private void emit(List<TokenizedImage> results) {
        for (TokenizedImage result : results) {
            output.collect(new StreamRecord<>(result));
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
