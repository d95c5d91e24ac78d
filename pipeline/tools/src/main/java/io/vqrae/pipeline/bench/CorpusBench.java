package io.vqrae.pipeline.bench;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.operators.metrics.PipelineMetrics;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusJob;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.files.FileTokenizer;
import io.vqrae.pipeline.job.JobPlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code tokenize-corpus} against {@code tokenize} on the same folder, and what deduplication costs, each
 * once warm: after an untimed run of each side in this JVM (the JIT's warm-up), images/s after the first
 * quarter of the images ({@link JobBench#WARM_UP_SHARE}), so neither the MiniCluster's nor the model
 * session's start-up counts. The corpus job's progress is its
 * tokenized-images counter. The folder is the photos as many times over as the job parts take images, each
 * copy with a JPEG comment segment that makes its bytes (and SHA-256) distinct and leaves its pixels alone, so
 * deduplication has nothing to drop and its cost is the digest, the keyBy and the state alone.
 */
final class CorpusBench {
    /**
     * Warm images/s of each side, medians over the rounds.
     *
     * @param photos photos in the folder
     * @param tokenize {@code vqrae tokenize}'s engine ({@link FileTokenizer})
     * @param corpus the corpus job, WebDataset output with the configured features
     * @param corpusDedup the same with {@code corpus.dedup}
     */
    record Rates(int photos, double tokenize, double corpus, double corpusDedup) {}

    /**
     * A corpus soak.
     *
     * @param photos inputs of the soaked run (more than it gets through)
     * @param warmUpRate images/s of the warm-up run its input count came from
     * @param samples memory of this JVM over the soaked run
     */
    record Soak(int photos, double warmUpRate, List<JobBench.MemorySample> samples) {}

    private final Map<String, String> settings;
    private final ModelManifest manifest;
    private final int cores;

    /** @param settings the job's config keys, {@code model.dir} included */
    CorpusBench(Map<String, String> settings, ModelManifest manifest, int cores) {
        this.settings = Map.copyOf(settings);
        this.manifest = manifest;
        this.cores = cores;
    }

    /** @param images photos in the folder: {@code jpegs} over and over, rounded up to whole copies */
    Rates run(List<Path> jpegs, int images, int rounds) throws Exception {
        Path work = Files.createTempDirectory("vqrae-bench-corpus-");
        try {
            Path folder = Files.createDirectories(work.resolve("photos"));
            int copies = Math.max(1, (images + jpegs.size() - 1) / jpegs.size());
            for (int copy = 0; copy < copies; copy++) {
                for (int i = 0; i < jpegs.size(); i++) {
                    Files.write(folder.resolve(String.format("%d-%05d.jpg", copy, i)),
                            distinct(Files.readAllBytes(jpegs.get(i)), copy * jpegs.size() + i));
                }
            }
            int photos = copies * jpegs.size();
            // One untimed run of each side first: the JIT compiles far more of Flink than of the tokenize loop
            // (C2 threads took 11 s of CPU in a cold 1,600-photo corpus run, 1.9 s in tokenize), and on two
            // cores that compilation slows a first run even after its first quarter.
            tokenizeRate(folder, photos);
            corpusRate(folder, photos, work, false, -1);
            corpusRate(folder, photos, work, true, -1);
            List<Double> tokenize = new ArrayList<>();
            List<Double> corpus = new ArrayList<>();
            List<Double> dedup = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                tokenize.add(tokenizeRate(folder, photos));
                corpus.add(corpusRate(folder, photos, work, false, round));
                dedup.add(corpusRate(folder, photos, work, true, round));
            }
            return new Rates(photos, Timing.median(tokenize), Timing.median(corpus), Timing.median(dedup));
        } finally {
            delete(work);
        }
    }

    /**
     * One {@code tokenize-corpus} run (WebDataset output) for {@code length}, this JVM's memory sampled every
     * {@code every}, cancelled at the end of it. Its inputs are links to {@code jpegs} over and over (no
     * deduplication, so equal bytes are fine), three times as many as a warm-up run's rate would get through,
     * so the run lasts the soak even when the machine gets quieter; it ends early only if they run out.
     */
    Soak soak(List<Path> jpegs, Duration length, Duration every) throws Exception {
        Path work = Files.createTempDirectory("vqrae-bench-corpus-soak-");
        try {
            Path warmUp = links(jpegs, 4 * jpegs.size(), Files.createDirectories(work.resolve("warm-up")));
            double rate = corpusRate(warmUp, 4 * jpegs.size(), work, false, -1);
            int photos = (int) Math.ceil(3 * rate * length.toSeconds());
            Path folder = links(jpegs, photos, Files.createDirectories(work.resolve("photos")));
            String jobName = "bench-corpus-soak";
            List<JobBench.MemorySample> samples = new ArrayList<>();
            long start = System.nanoTime();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(cores);
            new CorpusJob(JobPlan.forFiles(JobConfig.fromMap(settings), jobName),
                    CorpusInputs.resolve(List.of(folder.toString())), work.resolve("out").toString()).attach(env);
            JobClient client = env.executeAsync(jobName);
            long end = start + length.toNanos();
            while (System.nanoTime() < end && !client.getJobStatus().get().isGloballyTerminalState()) {
                samples.add(JobBench.sample((System.nanoTime() - start) / 1e9,
                        (long) PipelineMetrics.total("vqrae_images_tokenized", jobName)));
                Thread.sleep(Math.min(every.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            }
            samples.add(JobBench.sample((System.nanoTime() - start) / 1e9,
                    (long) PipelineMetrics.total("vqrae_images_tokenized", jobName)));
            if (!client.getJobStatus().get().isGloballyTerminalState()) {
                client.cancel().get(1, TimeUnit.MINUTES);
            }
            return new Soak(photos, rate, samples);
        } finally {
            delete(work);
        }
    }

    private static Path links(List<Path> jpegs, int count, Path folder) throws IOException {
        for (int i = 0; i < count; i++) {
            Files.createSymbolicLink(folder.resolve(String.format("%08d.jpg", i)), jpegs.get(i % jpegs.size()).toAbsolutePath());
        }
        return folder;
    }

    /** {@code jpeg} with a comment segment holding {@code index} right after its SOI marker. */
    static byte[] distinct(byte[] jpeg, int index) {
        byte[] comment = String.format("vqrae-bench %08d", index).getBytes(StandardCharsets.US_ASCII);
        int length = comment.length + 2;
        byte[] out = new byte[jpeg.length + 2 + length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        out[2] = (byte) 0xFF;
        out[3] = (byte) 0xFE;
        out[4] = (byte) (length >> 8);
        out[5] = (byte) length;
        System.arraycopy(comment, 0, out, 6, comment.length);
        System.arraycopy(jpeg, 2, out, 6 + comment.length, jpeg.length - 2);
        return out;
    }

    private double tokenizeRate(Path folder, int photos) throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.sorted().toList();
        }
        Progress progress = new Progress(photos);
        new FileTokenizer(JobConfig.fromMap(settings), manifest, cores).run(files, new FileTokenizer.Listener() {
            @Override
            public void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos) {
                progress.update(progress.count + 1);
            }

            @Override
            public void rejected(Path file, ReasonCode reason, String message) {
                throw new IllegalStateException("The bench photo " + file + " was rejected: " + reason + ": " + message);
            }
        });
        return progress.warmRate();
    }

    /** A whole {@code tokenize-corpus} run as the command runs it (a local environment of one slot per core), timed warm. */
    private double corpusRate(Path folder, int photos, Path work, boolean dedup, int round) throws Exception {
        Map<String, String> run = new LinkedHashMap<>(settings);
        run.put("corpus.dedup", Boolean.toString(dedup));
        String jobName = "bench-corpus-" + (dedup ? "dedup-" : "") + (round < 0 ? "warm-up" : round);
        Path out = work.resolve(jobName);
        Progress progress = new Progress(photos);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        // The tokenized-images counter of this job (a name of its own): sampled, since nothing calls back per image.
        sampler.scheduleAtFixedRate(() -> progress.update((long) PipelineMetrics.total("vqrae_images_tokenized", jobName)),
                0, 20, TimeUnit.MILLISECONDS);
        try {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(cores);
            new CorpusJob(JobPlan.forFiles(JobConfig.fromMap(run), jobName), CorpusInputs.resolve(List.of(folder.toString())),
                    out.toString()).attach(env);
            env.execute(jobName);
        } finally {
            sampler.shutdownNow();
            sampler.awaitTermination(1, TimeUnit.SECONDS);
        }
        progress.update((long) PipelineMetrics.total("vqrae_images_tokenized", jobName));
        delete(out);
        return progress.warmRate();
    }

    /** When a run passed the end of its warm-up and when it had them all. */
    private static final class Progress {
        private final long total;
        private final long warmUp;
        private volatile long count;
        private long warmAt;
        private long doneAt;

        Progress(long total) {
            this.total = total;
            this.warmUp = (long) (total * JobBench.WARM_UP_SHARE);
        }

        synchronized void update(long now) {
            long time = System.nanoTime();
            if (count < warmUp && now >= warmUp) {
                warmAt = time;
            }
            if (count < total && now >= total) {
                doneAt = time;
            }
            count = Math.max(count, now);
        }

        double warmRate() {
            if (count < total) {
                throw new IllegalStateException("The run tokenized " + count + " of " + total + " photos");
            }
            return (total - warmUp) / ((doneAt - warmAt) / 1e9);
        }
    }

    private static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
