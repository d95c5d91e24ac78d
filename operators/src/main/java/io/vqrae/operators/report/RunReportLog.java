package io.vqrae.operators.report;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the {@link RunReport} of this JVM every {@code report.log-every} while jobs run in it: the CPU its threads
 * used by stage, the GPU time of its tokenizer sessions, and the images its decode stage consumed, over the
 * interval. A TaskManager whose slots hold every stage (Flink's default slot sharing) reports the cost of its share
 * of the images; the cluster's is the sum over TaskManagers.
 */
public final class RunReportLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunReportLog.class);

    private final ReportConfig config;
    private final LongSupplier images;
    private final Thread thread;
    private volatile boolean running = true;

    private RunReportLog(ReportConfig config, LongSupplier images) {
        this.config = config;
        this.images = images;
        this.thread = new Thread(this::run, "vqrae-run-report");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Starts logging every {@code config.logEvery()}; null when that is 0.
     *
     * @param images the images handled in this JVM so far (a counter: the series live until the log stops)
     */
    public static RunReportLog start(ReportConfig config, LongSupplier images) {
        Objects.requireNonNull(images, "images");
        return config.logEvery().isZero() ? null : new RunReportLog(config, images);
    }

    private void run() {
        // Sampled ten times an interval (at most every 10 s), so the threads of a job that ends count too.
        Duration every = Duration.ofMillis(Math.max(1, Math.min(10_000, config.logEvery().toMillis() / 10)));
        try (ThreadCpu.Recorder cpu = ThreadCpu.Recorder.start(every)) {
            long previousImages = images.getAsLong();
            while (running) {
                Thread.sleep(config.logEvery().toMillis());
                ThreadCpu.Usage usage = cpu.lap();
                if (!running) {
                    return; // closed while reading: an interrupted read leaves threads out
                }
                long nowImages = images.getAsLong();
                LOG.info(new RunReport(nowImages - previousImages, usage, config).logLine("last " + text(config.logEvery())));
                previousImages = nowImages;
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    private static String text(Duration duration) {
        return duration.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join();
    }
}
