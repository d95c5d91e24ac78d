package io.vqrae.operators.tokenize;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The batching tokenizer's Flink metrics, registered under {@code vqrae.tokenizer}. One counter per flush
 * cause tells whether batches fill up (throughput-bound) or are cut by the timer or checkpoints
 * (latency-bound) or watermarks, which is what tuning {@code maxBatchSize}/{@code maxBatchDelay} needs.
 */
final class TokenizerMetrics {
    private static final int HISTOGRAM_WINDOW = 1024;

    final Counter fullBatches;
    final Counter timerFlushes;
    final Counter checkpointFlushes;
    final Counter watermarkFlushes;
    final Counter endOfInputFlushes;
    final Counter imagesTokenized;
    final Counter imagesRejected;
    final Counter failedBatches;
    final Histogram batchSize;
    final Histogram encodeMillis;

    TokenizerMetrics(MetricGroup operatorGroup) {
        MetricGroup group = operatorGroup.addGroup("vqrae").addGroup("tokenizer");
        fullBatches = group.counter("fullBatches");
        timerFlushes = group.counter("timerFlushes");
        checkpointFlushes = group.counter("checkpointFlushes");
        watermarkFlushes = group.counter("watermarkFlushes");
        endOfInputFlushes = group.counter("endOfInputFlushes");
        imagesTokenized = group.counter("imagesTokenized");
        imagesRejected = group.counter("imagesRejected");
        failedBatches = group.counter("failedBatches");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        encodeMillis = group.histogram("encodeMillis", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
    }

    Counter flushCounter(FlushCause cause) {
        return switch (cause) {
            case FULL -> fullBatches;
            case TIMER -> timerFlushes;
            case CHECKPOINT -> checkpointFlushes;
            case WATERMARK -> watermarkFlushes;
            case END_OF_INPUT -> endOfInputFlushes;
        };
    }

    /** Why a batch was sent to the model. */
    enum FlushCause {
        FULL,
        TIMER,
        CHECKPOINT,
        WATERMARK,
        END_OF_INPUT
    }
}
