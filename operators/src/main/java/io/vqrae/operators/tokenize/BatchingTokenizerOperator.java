package io.vqrae.operators.tokenize;

import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.operators.data.FeatureTensor;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.metrics.BusyTime;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.report.GpuUse;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.operators.MailboxExecutor;
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
 * <p>The encoder runs on a thread of its own, not the task's mailbox thread: while it encodes one batch, the
 * mailbox thread takes in (deserializes) the next images and emits the previous batch's results, so an
 * accelerator is not left waiting for the CPU work around it. At most {@value #MAX_IN_FLIGHT} batches are
 * handed over and not yet emitted; a full buffer past that waits ({@link MailboxExecutor#yield}), which back-
 * pressures the input. Results come back as mailbox mails, in batch order, so emission stays in the mailbox
 * thread and in input order. Before a checkpoint barrier, a watermark and at end of input every batch in flight
 * is waited for and emitted, so the invariant above holds for them too.
 *
 * <p>Only failures that are the input's fault are handled here: when the session refuses a batch with an
 * {@link IllegalArgumentException} (an image that is not a valid model input), each image is retried
 * alone, so one poisonous image cannot take its batch-mates with it, and the images it still refuses go
 * to {@link #REJECTED} with reason {@code tokenizer_failed} ({@link ReasonCode#TOKENIZER_FAILED}). Any other exception (ONNX Runtime failing,
 * a lost GPU, out of memory) says nothing about the images: it is rethrown so Flink restarts from the last
 * checkpoint and the images are tokenized again, instead of the whole stream being dead-lettered and
 * committed. Timers and result mails run in the task's mailbox thread, so the buffer and the in-flight count need
 * no locking; the inference thread touches only its batch and the session.
 */
public final class BatchingTokenizerOperator extends AbstractStreamOperator<TokenizedImage>
        implements OneInputStreamOperator<PreprocessedImage, TokenizedImage>, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    /** Images the session refused as model inputs, even when run alone. */
    public static final OutputTag<Rejection> REJECTED = new OutputTag<>("tokenize-rejected") {};

    /** Batches handed to the inference thread and not yet emitted: one encoding, one waiting behind it. */
    static final int MAX_IN_FLIGHT = 2;

    private final TokenizerSpec spec;

    private transient MailboxExecutor mailbox;
    /** The thread that runs the encoder; one per subtask. */
    private transient ExecutorService inference;
    /** Batches handed to {@link #inference} whose results are not yet emitted. Mailbox thread only. */
    private transient int inFlight;
    private transient TokenizerSession session;
    /** The GPU this subtask took from Flink's assignment, or null. */
    private transient GpuAssignment.Lease gpu;
    /** The session's device counted as in use, for the run report's GPU time. */
    private transient GpuUse.Hold gpuUse;
    private transient JobMetrics jobMetrics;
    /** The encoder's busy time, which Flink cannot see (the mailbox thread yields while the encoder runs). */
    private transient BusyTime encoderBusy;
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

    /** Called by the runtime before {@link #open}, with the executor of this operator's mailbox. */
    @Override
    public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
        super.setMailboxExecutor(mailboxExecutor);
        this.mailbox = mailboxExecutor;
    }

    @Override
    public void open() throws Exception {
        super.open();
        buffer = new ArrayList<>(spec.batching().maxSize());
        arrivals = new ArrayList<>(spec.batching().maxSize());
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        ModelManifest manifest = spec.localManifest();
        SessionConfig sessionConfig = spec.model().session(manifest, subtask);
        if (spec.model().gpusFromFlink()) {
            Set<ExternalResourceInfo> gpus = getRuntimeContext().getExternalResourceInfos(GpuAssignment.RESOURCE);
            if (gpus.isEmpty()) {
                LOG.warn("No '{}' external resource on this TaskManager and no model.device-ids: tokenizer subtask {} uses GPU 0",
                        GpuAssignment.RESOURCE, subtask);
            } else {
                gpu = GpuAssignment.acquire(gpus);
                sessionConfig = sessionConfig.onDevice(gpu.device());
                LOG.info("Tokenizer subtask {} uses GPU {} of this TaskManager's {}", subtask, gpu.device(), gpus.size());
            }
        }
        session = TokenizerSession.open(sessionConfig);
        if (sessionConfig.provider() == ExecutionProvider.CUDA) {
            gpuUse = GpuUse.hold(sessionConfig.deviceId());
        }
        jobMetrics = JobMetrics.open(spec.metrics(), subtask)
                .withTokenizerHealth(manifest, SessionConfig.cpu(manifest));
        encoderBusy = jobMetrics.encoderBusy();
        if (gpu != null) {
            jobMetrics.gpu(gpu.device(), gpu::holders);
        }
        String threadName = "vqrae-inference (" + (subtask + 1) + "/"
                + getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks() + ")";
        inference = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public void processElement(StreamRecord<PreprocessedImage> element) throws InterruptedException {
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
    public void onProcessingTime(long time) throws InterruptedException {
        if (!buffer.isEmpty() && time >= deadline) {
            flush(FlushCause.TIMER);
        }
    }

    /** Flushes first, like {@code AbstractMapBundleOperator}: a watermark must not pass the images before it. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flushAndDrain(FlushCause.WATERMARK);
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushAndDrain(FlushCause.CHECKPOINT);
    }

    @Override
    public void finish() throws Exception {
        flushAndDrain(FlushCause.END_OF_INPUT);
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            cancelTimer();
            if (inference != null) {
                // A batch may still be encoding (the task was cancelled or failed); the native session must
                // outlive it, so wait rather than close under it.
                inference.shutdownNow();
                while (!inference.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.info("Waiting for the encoder to finish its batch before closing the session");
                }
                inference = null;
            }
            if (session != null) {
                session.close();
                session = null;
            }
            if (gpu != null) {
                gpu.close();
                gpu = null;
            }
            if (gpuUse != null) {
                gpuUse.close();
                gpuUse = null;
            }
            if (jobMetrics != null) {
                jobMetrics.close();
                jobMetrics = null;
            }
        } finally {
            super.close();
        }
    }

    /** Batches handed to the encoder and not yet emitted; tests in this package wait for it to reach 0. */
    int inFlight() {
        return inFlight;
    }

    /** The operator's session; tests in this package close it to make the runtime fail under the operator. */
    TokenizerSession session() {
        return session;
    }

    /** Hands the buffer to the encoder, then waits until every batch in flight is emitted. */
    private void flushAndDrain(FlushCause cause) throws InterruptedException {
        if (!buffer.isEmpty()) {
            flush(cause);
        }
        while (inFlight > 0) {
            mailbox.yield();
        }
    }

    /** Hands the buffer to the inference thread; waits first while {@value #MAX_IN_FLIGHT} batches are in flight. */
    private void flush(FlushCause cause) throws InterruptedException {
        cancelTimer();
        List<StreamRecord<PreprocessedImage>> batch = List.copyOf(buffer);
        buffer.clear();
        jobMetrics.buffered(0);
        while (inFlight >= MAX_IN_FLIGHT) {
            mailbox.yield();
        }
        long handedOver = System.nanoTime();
        for (long arrival : arrivals) {
            jobMetrics.waited(handedOver - arrival);
        }
        arrivals.clear();
        inFlight++;
        inference.execute(() -> {
            Encoded encoded;
            try {
                encoded = tokenize(batch);
            } catch (IllegalArgumentException refused) {
                mailbox.execute(() -> retryAlone(batch, refused), "retry a refused batch image by image");
                return;
            } catch (Throwable failure) {
                // Not the images' fault: rethrown in the mailbox thread, it fails the task, and Flink restarts
                // from the last checkpoint.
                mailbox.execute(() -> {
                    inFlight--;
                    throw new TokenizerFailure("Encoding a batch of " + batch.size() + " images failed", failure);
                }, "fail the tokenizer");
                return;
            }
            mailbox.execute(() -> {
                inFlight--;
                jobMetrics.batch(cause.label(), batch.size(), encoded.inferenceNanos());
                emit(batch, encoded);
            }, "emit a tokenized batch");
        });
    }

    private void retryAlone(List<StreamRecord<PreprocessedImage>> batch, IllegalArgumentException refused) {
        inFlight--;
        jobMetrics.batchRefused();
        LOG.warn("Encoder refused a batch of {}; retrying its images one by one", batch.size(), refused);
        for (StreamRecord<PreprocessedImage> image : batch) {
            tokenizeAlone(image);
        }
    }

    /** A failure of the encoder that is not the input's fault. */
    static final class TokenizerFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TokenizerFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private void tokenizeAlone(StreamRecord<PreprocessedImage> record) {
        List<StreamRecord<PreprocessedImage>> alone = List.of(record);
        Encoded result;
        try {
            result = tokenize(alone);
        } catch (IllegalArgumentException refused) {
            PreprocessedImage image = record.getValue();
            output.collect(REJECTED, record.replace(Rejection.withoutOriginal(
                    image.id(), ReasonCode.TOKENIZER_FAILED, refused.toString(), image.origin(),
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
        EncodedBatch encoded;
        encoderBusy.begin();
        try {
            encoded = session.encode(pixels);
        } finally {
            encoderBusy.end();
        }
        long inferenceNanos = System.nanoTime() - start;
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
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
