package io.vqrae.operators.tokenize;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import java.io.Serializable;
import java.time.Duration;

/**
 * Micro-batch bounds of the tokenizer: the {@code batching} section of a job's configuration, and the batch
 * size of {@code vqrae tokenize}.
 *
 * @param maxSize images per encoder run, at most {@value #MAX_SIZE}; a buffer that reaches it is flushed at once
 * @param maxDelay longest an image waits in a partial batch before the batch is flushed anyway; at most
 *     {@link Integer#MAX_VALUE} milliseconds, so a timer deadline of now plus the delay cannot overflow
 */
@RecordBuilder
public record Batching(int maxSize, Duration maxDelay) implements Serializable, BatchingBuilder.With {
    private static final long serialVersionUID = 1L;

    /**
     * Largest {@code maxSize}. Batches far beyond what fills an accelerator only add latency and memory, and
     * the session copies a batch into one buffer of at most 2 GiB: 4096 images of 384 x 384.
     */
    public static final int MAX_SIZE = 4096;

    /** Batches of 16, or whatever arrived within 50 ms. */
    public static final Batching DEFAULT = BatchingBuilder.builder().maxSize(16).maxDelay(Duration.ofMillis(50)).build();

    public Batching {
        InvalidSettingException.requireBetween("max-size", maxSize, 1, MAX_SIZE);
        InvalidSettingException.requireSet("max-delay", maxDelay);
        if (maxDelay.isNegative() || maxDelay.isZero() || maxDelay.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            throw new InvalidSettingException("max-delay", "must be between 1ms and " + Integer.MAX_VALUE + "ms, got " + maxDelay);
        }
    }
}
