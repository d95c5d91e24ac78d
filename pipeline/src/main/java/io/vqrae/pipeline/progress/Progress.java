package io.vqrae.pipeline.progress;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A progress line for bounded runs on stderr, e.g.
 * {@code progress: 1,200/160,000 images (0.8 %), 183 images/s, ETA 14 min, 3 dead letters, 12 duplicates}. On a
 * terminal it is rewritten in place once a second; otherwise (a log file, CI) a new line is printed every 10 s.
 * The rate is that of the last 30 s, so start-up does not drag the ETA and a resumed run's earlier inputs do not
 * inflate it. Close it to print the final line.
 */
public final class Progress implements AutoCloseable {
    /** The rate is measured over this window. */
    static final long RATE_WINDOW_NANOS = 30_000_000_000L;

    /**
     * What a line reports at one moment.
     *
     * @param done inputs handled
     * @param total inputs in all; negative while unknown
     * @param estimated whether {@code total} is an estimate
     * @param others further counts to show, by label, in order (e.g. {@code dead letters})
     */
    public record Counts(long done, long total, boolean estimated, Map<String, Long> others) {
        public Counts {
            others = new LinkedHashMap<>(others);
        }
    }

    /** Told each time the line is printed, e.g. to publish the same figures as metrics. */
    public interface Listener {
        /**
         * @param counts the counts printed
         * @param ratePerSecond the rate printed
         * @param etaSeconds the seconds the rest needs at that rate; negative while unknown
         */
        void printed(Counts counts, double ratePerSecond, double etaSeconds);
    }

    private final PrintStream err;
    private final String unit;
    private final Supplier<Counts> counts;
    private final Listener listener;
    private final boolean terminal;
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean running = true;
    private Counts last;

    private Progress(PrintStream err, String unit, Supplier<Counts> counts, Listener listener, boolean terminal) {
        this.err = err;
        this.unit = unit;
        this.counts = counts;
        this.listener = listener;
        this.terminal = terminal;
        this.thread = new Thread(this::run, "vqrae-progress");
        thread.setDaemon(true);
    }

    /** Starts reporting {@code counts} of {@code unit} on {@code err}, telling {@code listener} each line's figures. */
    public static Progress start(PrintStream err, String unit, Supplier<Counts> counts, Listener listener) {
        Progress progress = new Progress(err, unit, counts, listener, System.console() != null);
        progress.sample(System.nanoTime());
        progress.thread.start();
        return progress;
    }

    /**
     * Starts reporting images out of a known {@code total}; {@code done} counts inputs handled either way
     * (tokenized or dead-lettered), {@code deadLetters} those dead-lettered.
     */
    public static Progress start(PrintStream err, long total, LongSupplier done, LongSupplier deadLetters) {
        return start(err, total, "images", done, deadLetters, "dead letters");
    }

    /** As {@link #start(PrintStream, long, LongSupplier, LongSupplier)}, counting {@code unit} and naming the failures. */
    public static Progress start(
            PrintStream err, long total, String unit, LongSupplier done, LongSupplier failures, String failuresLabel) {
        return start(err, unit, () -> new Counts(done.getAsLong(), total, false, Map.of(failuresLabel, failures.getAsLong())),
                (counts, rate, eta) -> {});
    }

    /** The text of a line, without the {@code progress: } prefix. */
    static String line(Counts counts, String unit, double ratePerSecond) {
        StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "%,d", counts.done()));
        if (counts.total() >= 0) {
            long total = counts.total();
            line.append('/').append(counts.estimated() ? "~" : "").append(String.format(Locale.ROOT, "%,d", total));
            line.append(' ').append(unit);
            double percent = total == 0 ? 100 : Math.min(100, 100.0 * counts.done() / total);
            line.append(String.format(Locale.ROOT, " (%.1f %%)", percent));
        } else {
            line.append(' ').append(unit);
        }
        line.append(String.format(Locale.ROOT, ", %,.1f %s/s", ratePerSecond, unit));
        if (counts.total() < 0) {
            line.append(", counting the inputs");
        } else if (counts.done() >= counts.total()) {
            line.append(", done");
        } else if (ratePerSecond > 0) {
            line.append(", ETA ").append(duration(etaSeconds(counts, ratePerSecond)));
        } else {
            line.append(", ETA unknown");
        }
        counts.others().forEach((label, value) -> line.append(String.format(Locale.ROOT, ", %,d %s", value, label)));
        return line.toString();
    }

    /** Seconds the remaining inputs need at {@code ratePerSecond}: 0 when done, negative while unknown. */
    static double etaSeconds(Counts counts, double ratePerSecond) {
        if (counts.total() < 0 || (ratePerSecond <= 0 && counts.done() < counts.total())) {
            return -1;
        }
        return counts.done() >= counts.total() ? 0 : (counts.total() - counts.done()) / ratePerSecond;
    }

    /** {@code 42 s}, {@code 14 min}, {@code 3 h 05 min}, {@code 2 d 7 h}: as precise as an ETA deserves. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        long minutes = Math.round(seconds / 60);
        if (minutes < 60) {
            return minutes + " min";
        }
        long hours = minutes / 60;
        if (hours < 24) {
            return String.format(Locale.ROOT, "%d h %02d min", hours, minutes % 60);
        }
        return String.format(Locale.ROOT, "%d d %d h", hours / 24, hours % 24);
    }

    private void run() {
        long interval = terminal ? 1_000 : 10_000;
        while (running) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            print(false);
        }
    }

    /** Takes the counts now and returns the rate over the window. */
    private synchronized double sample(long now) {
        last = counts.get();
        samples.addLast(new long[] {now, last.done()});
        while (samples.size() > 2 && now - samples.peekFirst()[0] > RATE_WINDOW_NANOS) {
            samples.removeFirst();
        }
        long[] first = samples.peekFirst();
        double seconds = (now - first[0]) / 1e9;
        return seconds > 0 ? (last.done() - first[1]) / seconds : 0;
    }

    private synchronized void print(boolean last) {
        double rate = sample(System.nanoTime());
        String text = "progress: " + line(this.last, unit, rate);
        listener.printed(this.last, rate, etaSeconds(this.last, rate));
        if (terminal) {
            err.print("\r" + text + "\u001b[K" + (last ? System.lineSeparator() : ""));
        } else {
            err.println(text);
        }
        err.flush();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
        print(true);
    }
}
