package io.vqrae.pipeline.bench;

import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.preprocess.PreprocessSpec;
import io.vqrae.models.preprocess.Preprocessor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The decode limit: images/s of decode + preprocess to the model's input, Java ({@link ImageDecoder} +
 * {@link Preprocessor}) against Pillow ({@code python -m vqrae.formats bench}: the reference's own decode and
 * preprocess), on the same files, from memory, in alternating rounds so that a noisy machine slows both alike.
 * Per thread (one Java thread, one Python process) and on every core (as many threads, as many processes).
 * Either side can decode JPEGs as drafts for the model's input ({@code limits.jpeg-draft}, Pillow's {@code draft}).
 */
final class DecodeLimit implements AutoCloseable {
    /** Long enough for G1 to grow and touch its heap: before that, fresh pages make Java allocations slow. */
    private static final double WARM_UP_SECONDS = 8;

    private final ModelManifest manifest;
    private final boolean draft;
    private final List<Process> pillows = new ArrayList<>();
    private final List<PrintWriter> toPillow = new ArrayList<>();
    private final List<BufferedReader> fromPillow = new ArrayList<>();
    private final ExecutorService threads;
    private final int cores;

    /**
     * Starts {@code cores} Pillow benchmark processes (they take folders on stdin and answer with a rate).
     *
     * @param python the interpreter that has Pillow and {@code models/python} on its path
     */
    DecodeLimit(ModelManifest manifest, String python, Path pythonPath, int cores, double seconds) throws IOException {
        this(manifest, python, pythonPath, cores, seconds, false);
    }

    /** As above; with {@code draft} both sides decode JPEGs as drafts for the model's input size. */
    DecodeLimit(ModelManifest manifest, String python, Path pythonPath, int cores, double seconds, boolean draft) throws IOException {
        this.manifest = manifest;
        this.draft = draft;
        this.cores = cores;
        this.threads = Executors.newFixedThreadPool(cores, runnable -> {
            Thread thread = new Thread(runnable, "bench-decode");
            thread.setDaemon(true);
            return thread;
        });
        PreprocessSpec spec = manifest.preprocessing();
        for (int i = 0; i < cores; i++) {
            List<String> args = new ArrayList<>(List.of(python, "-m", "vqrae.formats", "bench",
                    "--size", String.valueOf(spec.height()), String.valueOf(spec.width()),
                    "--filter", spec.filter().name().toLowerCase(Locale.ROOT), "--seconds", String.valueOf(seconds)));
            if (draft) {
                args.add("--draft");
            }
            ProcessBuilder command = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.INHERIT);
            command.environment().put("PYTHONPATH", pythonPath.toString());
            Process process = command.start();
            pillows.add(process);
            toPillow.add(new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8));
            fromPillow.add(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)));
        }
    }

    /** Java and Pillow images/s of one group of files: medians over rounds, and of the per-round ratios. */
    record Rates(String group, int files, double java, double pillow, double ratio) {}

    void warmUp(List<List<byte[]>> groups) throws Exception {
        Worker worker = new Worker();
        long end = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
        while (System.nanoTime() < end) {
            for (List<byte[]> payloads : groups) {
                worker.rate(payloads, 0);
            }
        }
    }

    /**
     * Rates of one group, alternating Java and Pillow for {@code rounds}.
     *
     * @param folder a folder holding exactly the group's files (what the Pillow processes read)
     * @param parallel how many Java threads and Pillow processes run at once (1 = per thread; the Java rate is
     *     their sum)
     */
    Rates measure(String group, List<byte[]> payloads, Path folder, double seconds, int rounds, int parallel)
            throws Exception {
        List<Double> java = new ArrayList<>();
        List<Double> pillow = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            double javaRate = javaRate(payloads, seconds, parallel);
            double pillowRate = pillowRate(folder, parallel);
            java.add(javaRate);
            pillow.add(pillowRate);
            ratios.add(javaRate / pillowRate);
        }
        return new Rates(group, payloads.size(), Timing.median(java), Timing.median(pillow),
                Timing.median(ratios));
    }

    private double javaRate(List<byte[]> payloads, double seconds, int parallel) throws Exception {
        List<Future<Double>> rates = new ArrayList<>();
        for (int i = 0; i < parallel; i++) {
            Worker worker = new Worker();
            rates.add(threads.submit(() -> worker.rate(payloads, seconds)));
        }
        double sum = 0;
        for (Future<Double> rate : rates) {
            sum += rate.get();
        }
        return sum;
    }

    private double pillowRate(Path folder, int parallel) throws IOException {
        if (parallel > cores) {
            throw new IllegalArgumentException("Only " + cores + " Pillow processes were started");
        }
        for (int i = 0; i < parallel; i++) {
            toPillow.get(i).println(folder.toAbsolutePath());
        }
        double sum = 0;
        for (int i = 0; i < parallel; i++) {
            String line = fromPillow.get(i).readLine();
            if (line == null) {
                throw new IOException("A Pillow benchmark process ended (its error output is above)");
            }
            sum += Double.parseDouble(line.trim());
        }
        return sum;
    }

    @Override
    public void close() {
        threads.shutdownNow();
        toPillow.forEach(PrintWriter::close);
        pillows.forEach(Process::destroy);
    }

    /** One thread's decoder and preprocessor (neither is shared between threads). */
    private final class Worker {
        private final ImageDecoder decoder = draft
                ? manifest.imageDecoder().draft(manifest.imageWidth(), manifest.imageHeight()).build()
                : manifest.imageDecoder().build();
        private final Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());

        /** Images/s over {@code payloads}, repeated until {@code seconds} have passed (at least one pass). */
        double rate(List<byte[]> payloads, double seconds) throws Exception {
            return Timing.rate(payloads.size(), seconds, () -> {
                for (byte[] payload : payloads) {
                    preprocessor.toChw(decoder.decode(payload));
                }
            });
        }
    }
}
