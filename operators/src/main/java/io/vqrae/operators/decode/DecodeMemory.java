package io.vqrae.operators.decode;

import io.vqrae.operators.metrics.MemoryBudget;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * The heap that decodes in this JVM may hold at once. {@code limits.max-pixels} bounds one decode; a
 * TaskManager runs several (one per decode slot, all in one heap), and two decodes of images just under the
 * default limit do not fit a 1 GiB heap together although each fits alone. So every decode first reserves what
 * its image will take, by the size its header declares, and waits while other decodes hold too much: large
 * images are decoded one after another instead of running the TaskManager out of memory.
 *
 * <p>Measured with {@code DecodeHeapProbe}: preparing one 8192x8191 PNG (the costliest format: ImageIO's raster,
 * the RGB array, the resampler) fits a 512 MiB heap, two at once do not fit 1 GiB (G1 allocates their arrays
 * as humongous objects) but fit 2 GiB. Hence {@value #BYTES_PER_PIXEL} bytes a pixel, against
 * {@value #HEAP_SHARE} of the heap; the rest is Flink's, Kafka's and the tokenizer's.
 *
 * <p>What is held, what waits and the time spent waiting are the {@code vqrae_decode_memory_*} series (the decode
 * stage registers this budget with its metrics): decodes waiting for long means the budget, not the CPU, limits
 * decoding.
 */
public final class DecodeMemory implements MemoryBudget {
    static final int BYTES_PER_PIXEL = 7;
    static final double HEAP_SHARE = 0.6;
    private static final long MIB = 1 << 20;
    private static final DecodeMemory SHARED = new DecodeMemory((long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE));

    private final long capacityBytes;
    private final int capacityPermits;
    /** In MiB, fair: a large image waiting is not overtaken forever by small ones. */
    private final Semaphore available;
    /** Time decodes spent in {@link #reserve}, for the wait counter an alert watches. */
    private final LongAdder waitedNanos = new LongAdder();

    DecodeMemory(long capacityBytes) {
        this.capacityBytes = capacityBytes;
        this.capacityPermits = mebibytes(capacityBytes);
        this.available = new Semaphore(capacityPermits, true);
    }

    /** The budget of this JVM, shared by every decode slot (and every job) in it. */
    public static DecodeMemory shared() {
        return SHARED;
    }

    /** Whether an image of {@code pixels} can be decoded here at all, with no other decode running. */
    public boolean fits(long pixels) {
        return cost(pixels) <= capacityBytes;
    }

    /** What decoding {@code pixels} takes, in bytes. */
    public static long cost(long pixels) {
        return pixels * BYTES_PER_PIXEL;
    }

    @Override
    public long capacityBytes() {
        return capacityBytes;
    }

    /** What running decodes hold now, in bytes (whole MiB per decode). */
    @Override
    public long heldBytes() {
        return (long) (capacityPermits - available.availablePermits()) * MIB;
    }

    @Override
    public double waitedSeconds() {
        return waitedNanos.sum() / 1e9;
    }

    /**
     * Reserves the memory to decode an image of {@code pixels}, waiting until other decodes have released enough;
     * the wait does not end on interruption, since every holder releases within one decode. 0 pixels (a header
     * that does not say) reserves nothing.
     *
     * @throws IllegalArgumentException if the image does not {@link #fits fit} at all
     */
    public Reservation reserve(long pixels) {
        if (!fits(pixels)) {
            throw new IllegalArgumentException(pixels + " pixels need " + (cost(pixels) / MIB) + " MiB, more than the "
                    + capacityBytes / MIB + " MiB decodes may hold");
        }
        if (pixels == 0) {
            return new Reservation(0); // not even a place in the queue: a fair semaphore queues a request for 0 too
        }
        int permits = Math.max(1, mebibytes(cost(pixels)));
        // Timed whether it waits or not: an uncontended acquire adds tens of nanoseconds, and a tryAcquire first
        // would ignore the fairness that keeps a large image from being overtaken forever.
        long start = System.nanoTime();
        available.acquireUninterruptibly(permits);
        waitedNanos.add(System.nanoTime() - start);
        return new Reservation(permits);
    }

    /** Decodes waiting for memory now. */
    @Override
    public int waiting() {
        return available.getQueueLength();
    }

    private static int mebibytes(long bytes) {
        return (int) Math.min(Integer.MAX_VALUE, (bytes + MIB - 1) / MIB);
    }

    /** Memory held for one decode, released on {@link #close}. */
    public final class Reservation implements AutoCloseable {
        private final int permits;

        private Reservation(int permits) {
            this.permits = permits;
        }

        @Override
        public void close() {
            available.release(permits);
        }
    }
}
