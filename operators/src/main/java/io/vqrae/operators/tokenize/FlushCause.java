package io.vqrae.operators.tokenize;

import java.util.Locale;

/**
 * Why a batch was sent to the model: the {@code cause} of {@code vqrae_batch_flushes_total}. Whether batches fill
 * up (throughput-bound) or are cut by the timer, checkpoints or watermarks (latency-bound) is what tuning
 * {@code batching.max-size} and {@code batching.max-delay} needs.
 */
enum FlushCause {
    FULL,
    TIMER,
    CHECKPOINT,
    WATERMARK,
    END_OF_INPUT;

    /** The metric's label value: {@code full}, ..., {@code end_of_input}. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
