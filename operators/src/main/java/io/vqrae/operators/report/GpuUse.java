package io.vqrae.operators.report;

import java.util.HashMap;
import java.util.Map;

/**
 * GPU time of this JVM: device-seconds during which at least one tokenizer session held each device, for the GPU
 * side of a run's cost. Two sessions on one device count it once.
 */
public final class GpuUse {
    /** Device -> sessions holding it and since when it is held; guarded by itself. */
    private static final Map<Integer, long[]> HELD = new HashMap<>();
    private static long releasedNanos; // guarded by HELD

    private GpuUse() {}

    /** Counts {@code device} as in use until the hold is closed. */
    public static Hold hold(int device) {
        synchronized (HELD) {
            long[] held = HELD.computeIfAbsent(device, d -> new long[] {0, System.nanoTime()});
            held[0]++;
            return new Hold(device);
        }
    }

    /** Device-seconds held since this JVM started, the holds still open included. */
    public static double seconds() {
        synchronized (HELD) {
            long now = System.nanoTime();
            long nanos = releasedNanos;
            for (long[] held : HELD.values()) {
                nanos += now - held[1];
            }
            return nanos / 1e9;
        }
    }

    /** One session's use of a device; closing it twice releases once. */
    public static final class Hold implements AutoCloseable {
        private final int device;
        private boolean closed;

        private Hold(int device) {
            this.device = device;
        }

        @Override
        public void close() {
            synchronized (HELD) {
                if (closed) {
                    return;
                }
                closed = true;
                long[] held = HELD.get(device);
                if (--held[0] == 0) {
                    releasedNanos += System.nanoTime() - held[1];
                    HELD.remove(device);
                }
            }
        }
    }
}
