package io.vqrae.operators.data;

import io.vqrae.schemas.FailureStage;
import java.util.Arrays;
import java.util.Objects;

/**
 * An input a stage gave up on; becomes one dead-letter record. Stages emit rejections on a side output
 * rather than throwing, so one bad image never restarts the job.
 *
 * @param id image id, or null when unknown
 * @param reason why; its {@link ReasonCode#stage() stage} is the stage that rejected the input
 * @param message human-readable detail
 * @param original the rejected input cut to a bounded size, or null when the stage no longer holds it
 * @param originalSize size of the input before the cut, or null when {@code original} is null
 * @param origin where the input was read from
 * @param failedAtMillis wall-clock time of the rejection, epoch milliseconds
 */
public record Rejection(
        String id,
        ReasonCode reason,
        String message,
        byte[] original,
        Integer originalSize,
        Origin origin,
        long failedAtMillis) {

    public Rejection {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(origin, "origin");
        if (!reason.deadLetter()) {
            throw new IllegalArgumentException(reason + " never becomes a dead letter");
        }
    }

    /** The stage that rejected the input: its reason's. */
    public FailureStage stage() {
        return reason.stage();
    }

    /**
     * A rejection that keeps at most {@code maxOriginalBytes} of the input, so a dead letter for a huge
     * input still fits in a record.
     */
    public static Rejection withOriginal(
            String id, ReasonCode reason, String message, byte[] input, int maxOriginalBytes, Origin origin, long failedAtMillis) {
        byte[] kept = input.length <= maxOriginalBytes ? input : Arrays.copyOf(input, maxOriginalBytes);
        return new Rejection(id, reason, message, kept, input.length, origin, failedAtMillis);
    }

    /** A rejection from a stage that no longer holds the input; the origin identifies it. */
    public static Rejection withoutOriginal(String id, ReasonCode reason, String message, Origin origin, long failedAtMillis) {
        return new Rejection(id, reason, message, null, null, origin, failedAtMillis);
    }
}
