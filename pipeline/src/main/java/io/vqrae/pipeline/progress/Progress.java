package io.vqrae.pipeline.progress;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress line for bounded runs on stderr: done/total, images/s, ETA and dead letters. On a terminal it
 * is rewritten in place at most once a second; otherwise (a log file, CI) a new line is printed every 10 s.
 * Close it to print the final line.
 */
public final class Progress implements AutoCloseable {
    private final PrintStream err;
    private final long total;
    private final String unit;
    private final LongSupplier done;
    private final LongSupplier deadLetters;
    private final String deadLettersLabel;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private final Thread thread;
    private volatile boolean running = true;

    private Progress(
            PrintStream err, long total, String unit, LongSupplier done, LongSupplier deadLetters, String deadLettersLabel,
            boolean terminal) {
        this.err = err;
        this.total = total;
        this.unit = unit;
        this.done = done;
        this.deadLetters = deadLetters;
        this.deadLettersLabel = deadLettersLabel;
        this.terminal = terminal;
        this.thread = new Thread(this::run, "vqrae-progress");
        thread.setDaemon(true);
    }

    /**
     * Starts reporting on {@code err}; {@code done} counts inputs handled either way (tokenized or dead-lettered),
     * {@code deadLetters} those dead-lettered.
     */
    public static Progress start(PrintStream err, long total, LongSupplier done, LongSupplier deadLetters) {
        return start(err, total, "images", done, deadLetters, "dead letters");
    }

    /** As {@link #start(PrintStream, long, LongSupplier, LongSupplier)}, counting {@code unit} and naming the failures. */
    public static Progress start(
            PrintStream err, long total, String unit, LongSupplier done, LongSupplier failures, String failuresLabel) {
        Progress progress = new Progress(err, total, unit, done, failures, failuresLabel, System.console() != null);
        progress.thread.start();
        return progress;
    }

    /** The line for the current counts, e.g. {@code 120/400 images (30%), 38.2 images/s, ETA 7 s, 2 dead letters}. */
    static String line(long done, long total, long deadLetters, double seconds) {
        return line(done, total, "images", deadLetters, "dead letters", seconds);
    }

    static String line(long done, long total, String unit, long failures, String failuresLabel, double seconds) {
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 && done < total ? formatSeconds((total - done) / rate) : done >= total ? "done" : "unknown";
        return String.format(Locale.ROOT, "%d/%d %s (%d%%), %.1f %s/s, ETA %s, %d %s",
                done, total, unit, total == 0 ? 100 : 100 * done / total, rate, unit, eta, failures, failuresLabel);
    }

    private static String formatSeconds(double seconds) {
        Duration d = Duration.ofSeconds(Math.round(seconds));
        return d.toHours() > 0 ? String.format(Locale.ROOT, "%dh%02dm", d.toHours(), d.toMinutesPart())
                : d.toMinutes() > 0 ? String.format(Locale.ROOT, "%dm%02ds", d.toMinutes(), d.toSecondsPart())
                : d.toSeconds() + " s";
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

    private synchronized void print(boolean last) {
        String text = "progress: " + line(done.getAsLong(), total, unit, deadLetters.getAsLong(), deadLettersLabel, (System.nanoTime() - start) / 1e9);
        if (terminal) {
            err.print("\r" + text + (last ? System.lineSeparator() : ""));
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
