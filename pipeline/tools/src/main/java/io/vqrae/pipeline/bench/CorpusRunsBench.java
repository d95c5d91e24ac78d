package io.vqrae.pipeline.bench;

import io.vqrae.pipeline.cli.VqraeCli;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.flink.util.FileUtils;

/**
 * {@code tokenize-corpus} as a user runs it, again and again: consecutive runs of the command, each in a JVM
 * of its own (this one's options and class path), each timed from its start to its exit. The corpus is what
 * made runs misbehave before: loose photos plus a shard of captioned copies of some of them, with
 * {@code --dedup} and WebDataset output. A run that stalls (a shutdown waiting for a timeout) or restarts shows
 * as one far above the median; restarts are also counted from the run's log.
 */
final class CorpusRunsBench {
    /** Copies in the captioned shard. */
    static final int SHARD_COPIES = 200;

    /**
     * One run.
     *
     * @param seconds from start to exit
     * @param exitCode the command's exit code
     * @param taskFailures task failures its log reports (each one a restart)
     */
    record Run(double seconds, int exitCode, int taskFailures) {}

    private final Path model;
    private final Map<String, String> settings;

    CorpusRunsBench(Path model, Map<String, String> settings) {
        this.model = model;
        this.settings = Map.copyOf(settings);
    }

    /** {@code runs} runs over {@code photos} loose photos ({@code jpegs} over and over, distinct bytes) and the shard. */
    List<Run> run(List<Path> jpegs, int photos, int runs) throws Exception {
        Path work = Files.createTempDirectory("vqrae-bench-corpus-runs-");
        try {
            Path loose = Files.createDirectories(work.resolve("photos"));
            List<byte[]> written = new ArrayList<>();
            for (int i = 0; i < photos; i++) {
                byte[] photo = CorpusBench.distinct(Files.readAllBytes(jpegs.get(i % jpegs.size())), i);
                Files.write(loose.resolve(String.format("%05d.jpg", i)), photo);
                written.add(photo);
            }
            Path shard = work.resolve("captioned-00000.tar");
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(shard))) {
                for (int i = 0; i < SHARD_COPIES; i++) {
                    String key = String.format("%09d", i);
                    member(tar, key + ".jpg", written.get(i * (photos / SHARD_COPIES)));
                    member(tar, key + ".txt", ("a photo, number " + i).getBytes(StandardCharsets.UTF_8));
                }
            }
            List<Run> results = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Path out = work.resolve("out-" + i);
                Path log = work.resolve("run-" + i + ".log");
                long start = System.nanoTime();
                Process process = new ProcessBuilder(command(List.of(shard.toString(), loose.toString()), out))
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!process.waitFor(30, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("tokenize-corpus run " + i + " did not end within 30 minutes; log " + log);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                int failures = (int) Files.readAllLines(log).stream().filter(line -> line.contains("FAILED with failure cause")).count();
                if (process.exitValue() != 0) {
                    throw new IllegalStateException("tokenize-corpus run " + i + " exited " + process.exitValue() + "; log " + log);
                }
                results.add(new Run(seconds, process.exitValue(), failures));
                FileUtils.deleteDirectory(out.toFile());
            }
            return results;
        } finally {
            FileUtils.deleteDirectory(work.toFile());
        }
    }

    private List<String> command(List<String> inputs, Path out) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), VqraeCli.class.getName(),
                "tokenize-corpus", "--dedup", "--model", model.toString(), "--output", out.toString()));
        settings.forEach((key, value) -> command.addAll(List.of("--set", key + "=" + value)));
        command.addAll(inputs);
        return command;
    }

    private static void member(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
