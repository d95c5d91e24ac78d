package io.vqrae.operators.metrics;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The share of the last minute one tokenizer subtask's encoder spent encoding: the gauge
 * {@code vqrae_tokenizer_busy_ratio}. Flink's own {@code busyTimeMsPerSecond} cannot see it: the encoder runs on a
 * thread of its own while the task's mailbox thread, the one Flink measures, waits in {@code yield} (as with
 * Flink's {@code AsyncWaitOperator}), so Flink reports the tokenizer idle until its input backs up. 1 here means
 * the accelerator is the bottleneck.
 *
 * <p>Encodes are intervals of a monotonic clock; the ratio is their overlap with the window ending now (an encode
 * still running counts up to now) over the window, or over the time since the subtask opened while that is
 * shorter. Called by the encoding thread ({@link #begin}, {@link #end}) and the scraping thread ({@link #ratio}).
 */
public final class BusyTime {
    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final LongSupplier clock;
    private final long opened;
    /** Finished encodes that end inside the window: {start, end}, oldest first. */
    private final Deque<long[]> finished = new ArrayDeque<>();
    /** When the running encode began; -1 when none runs. */
    private long running = -1;

    BusyTime(LongSupplier nanoClock) {
        this.clock = nanoClock;
        this.opened = nanoClock.getAsLong();
    }

    BusyTime() {
        this(System::nanoTime);
    }

    /** An encode starts. */
    public synchronized void begin() {
        running = clock.getAsLong();
    }

    /** The encode that {@link #begin} started ended, normally or not. */
    public synchronized void end() {
        if (running >= 0) {
            long now = clock.getAsLong();
            finished.addLast(new long[] {running, now});
            running = -1;
            forget(now);
        }
    }

    /** Busy time over wall time in the last {@value #WINDOW_NANOS} ns (or since the subtask opened), 0..1. */
    public synchronized double ratio() {
        long now = clock.getAsLong();
        forget(now);
        long from = Math.max(now - WINDOW_NANOS, opened);
        if (now <= from) {
            return 0;
        }
        long busy = 0;
        for (long[] encode : finished) {
            busy += encode[1] - Math.max(encode[0], from);
        }
        if (running >= 0) {
            busy += now - Math.max(running, from);
        }
        return Math.min(1.0, (double) busy / (now - from));
    }

    /** Drops encodes that ended before the window. */
    private void forget(long now) {
        while (!finished.isEmpty() && finished.peekFirst()[1] <= now - WINDOW_NANOS) {
            finished.removeFirst();
        }
    }
}
