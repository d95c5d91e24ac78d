package io.vqrae.pipeline.bench;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusJob;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.files.FileTokenizer;
import io.vqrae.pipeline.job.JobPlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code tokenize-corpus} against {@code tokenize} on the same folder, and what deduplication costs, each
 * once warm: every side runs on the folder ({@code n} photos) and on {@code 4n} distinct photos, and its warm
 * rate is the {@code 3n} images of the difference over the difference in time, which cancels start-up (the
 * MiniCluster, the model session) the way a long corpus run would. The extra photos are the folder's JPEGs
 * with a JPEG comment segment that makes their bytes (and SHA-256) distinct and their pixels the same, so
 * deduplication has nothing to drop and its cost is the keyBy, digest and state alone.
 */
final class CorpusBench {
    static final int COPIES = 4;

    /**
     * Warm images/s of each side, medians over the rounds.
     *
     * @param photos photos in the folder ({@code n})
     * @param tokenize {@code vqrae tokenize}'s engine ({@link FileTokenizer})
     * @param corpus the corpus job, WebDataset output with the configured features
     * @param corpusDedup the same with {@code corpus.dedup}
     */
    record Rates(int photos, double tokenize, double corpus, double corpusDedup) {}

    private final Map<String, String> settings;
    private final ModelManifest manifest;
    private final int cores;

    /** @param settings the job's config keys, {@code model.dir} included */
    CorpusBench(Map<String, String> settings, ModelManifest manifest, int cores) {
        this.settings = Map.copyOf(settings);
        this.manifest = manifest;
        this.cores = cores;
    }

    Rates run(List<Path> jpegs, int rounds) throws Exception {
        Path work = Files.createTempDirectory("vqrae-bench-corpus-");
        try {
            Path first = Files.createDirectories(work.resolve("first"));
            Path all = Files.createDirectories(work.resolve("all"));
            for (int copy = 0; copy < COPIES; copy++) {
                for (int i = 0; i < jpegs.size(); i++) {
                    Path file = all.resolve(String.format("%d-%05d.jpg", copy, i));
                    Files.write(file, distinct(Files.readAllBytes(jpegs.get(i)), copy * jpegs.size() + i));
                    if (copy == 0) {
                        Files.createSymbolicLink(first.resolve(file.getFileName()), file);
                    }
                }
            }
            List<Double> tokenize = new ArrayList<>();
            List<Double> corpus = new ArrayList<>();
            List<Double> dedup = new ArrayList<>();
            int extra = (COPIES - 1) * jpegs.size();
            for (int round = 0; round < rounds; round++) {
                tokenize.add(extra / (tokenizeSeconds(all) - tokenizeSeconds(first)));
                corpus.add(extra / (corpusSeconds(all, work, false) - corpusSeconds(first, work, false)));
                dedup.add(extra / (corpusSeconds(all, work, true) - corpusSeconds(first, work, true)));
            }
            return new Rates(jpegs.size(), Timing.median(tokenize), Timing.median(corpus), Timing.median(dedup));
        } finally {
            delete(work);
        }
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

    private double tokenizeSeconds(Path folder) throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.sorted().toList();
        }
        long start = System.nanoTime();
        new FileTokenizer(JobConfig.fromMap(settings), manifest, cores).run(files, new FileTokenizer.Listener() {
            @Override
            public void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos) {}

            @Override
            public void rejected(Path file, String reason, String message) {
                throw new IllegalStateException("The bench photo " + file + " was rejected: " + reason + ": " + message);
            }
        });
        return (System.nanoTime() - start) / 1e9;
    }

    /** One whole {@code tokenize-corpus} run as the command runs it: a local environment of one slot per core. */
    private double corpusSeconds(Path folder, Path work, boolean dedup) throws Exception {
        Map<String, String> run = new LinkedHashMap<>(settings);
        run.put("corpus.dedup", Boolean.toString(dedup));
        JobConfig runConfig = JobConfig.fromMap(run);
        Path out = work.resolve("out-" + System.nanoTime());
        long start = System.nanoTime();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(cores);
        new CorpusJob(JobPlan.forFiles(runConfig, "bench-corpus"), CorpusInputs.resolve(List.of(folder.toString())), out.toString())
                .attach(env);
        env.execute("bench-corpus");
        double seconds = (System.nanoTime() - start) / 1e9;
        delete(out);
        return seconds;
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
