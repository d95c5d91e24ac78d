package io.vqrae.pipeline.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The timing loop and the median every two-sided comparison of the bench uses. */
final class Timing {
    private Timing() {}

    /** One timed unit of work. */
    interface Run {
        void once() throws Exception;
    }

    /** Items/s of {@code run}, each call counting {@code itemsPerRun}, repeated until {@code seconds} have passed (at least once). */
    static double rate(int itemsPerRun, double seconds, Run run) throws Exception {
        long start = System.nanoTime();
        long items = 0;
        long elapsed;
        do {
            run.once();
            items += itemsPerRun;
            elapsed = System.nanoTime() - start;
        } while (elapsed < seconds * 1e9);
        return items / (elapsed / 1e9);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int mid = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(mid) : (sorted.get(mid - 1) + sorted.get(mid)) / 2;
    }
}
