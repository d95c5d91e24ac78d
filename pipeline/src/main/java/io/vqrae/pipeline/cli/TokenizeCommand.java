package io.vqrae.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.files.FileTokenizer;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.progress.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vqrae tokenize [--model DIR] FILE|DIR...}: tokenizes image files without Kafka or Flink, one JSON
 * line per file on stdout, a summary on stderr. It reads the job's configuration (defaults, {@code --config},
 * {@code --set}) and decodes through the job's own {@link ImagePreparer}, so it accepts, rejects and
 * tokenizes exactly as the job does. Files are read and decoded ahead on {@code --decode-threads} threads while
 * the encoder runs ({@link FileTokenizer}). A file that cannot be read or decoded gets a line with its reason
 * code; the exit code is 0 when every file was handled either way.
 */
@Command(
        name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {"Tokenizes image files without Kafka or Flink, one JSON line per file.",
            "Folders are searched recursively. Each line is {\"file\", \"source_size\", \"grid\", \"token_ids\",",
            "\"mean_quant_error\", \"timing_ms\"} or {\"file\", \"error\": {\"reason\", \"message\"}}.",
            "Limits, batch size and model settings are the job's (docs/pipeline.md)."})
public final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json, local or a Flink filesystem URI (model.dir; default: the shipped tiny model).")
    String model;

    @Option(names = "--batch-size", paramLabel = "N", description = "Images per ONNX Runtime run (batching.max-size; default: the job's, 16).")
    Integer batchSize;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads, 0 = one per core (model.intra-op-threads).")
    Integer threads;

    @Option(names = "--provider", paramLabel = "cpu|cuda", description = "Execution provider (model.provider; default: cpu).")
    ExecutionProvider provider;

    @Option(names = "--decode-threads", paramLabel = "N",
            description = "Threads that read and decode files while the encoder runs (default: one per core).")
    Integer decodeThreads;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Image files or folders.")
    List<Path> inputs;

    private final PrintStream out;
    private final PrintStream err;
    private final ObjectMapper json = new ObjectMapper();

    public TokenizeCommand() {
        this(System.out, System.err);
    }

    TokenizeCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() throws IOException {
        JobConfig jobConfig = jobConfig();
        List<Path> files = expand(inputs);
        ModelManifest manifest = JobPlan.loadModel(jobConfig);
        int threads = decodeThreads != null ? decodeThreads : Runtime.getRuntime().availableProcessors();
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "--decode-threads must be at least 1, got " + threads);
        }
        Summary summary = new Summary();
        long start = System.nanoTime();
        try (Progress progress = Progress.start(err, files.size(), summary::handled, summary::rejectedCount)) {
            new FileTokenizer(jobConfig, manifest, threads).run(files, new FileTokenizer.Listener() {
                @Override
                public void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos) {
                    print(file, manifest, prepared, batch, index, encodeNanos);
                    summary.tokenized = summary.tokenized + 1;
                }

                @Override
                public void rejected(Path file, String reason, String message) {
                    reject(file, reason, message, summary);
                }
            });
        } catch (ModelLoadException e) {
            throw new ConfigException("model.dir", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        summary.print(err, manifest, (System.nanoTime() - start) / 1e9);
        out.flush();
        return 0;
    }

    /** The job's configuration with this command's options applied as the keys they stand for. */
    private JobConfig jobConfig() {
        Map<String, String> options = new LinkedHashMap<>();
        if (batchSize != null) {
            options.put("batching.max-size", batchSize.toString());
        }
        if (threads != null) {
            options.put("model.intra-op-threads", threads.toString());
        }
        if (provider != null) {
            options.put("model.provider", provider.name());
        }
        return config.load(options, model);
    }

    private void print(Path file, ModelManifest manifest, ImagePreparer.Prepared p, EncodedBatch encoded, int i, long encodeNanos) {
        ObjectNode line = json.createObjectNode();
        line.put("file", file.toString());
        line.putArray("source_size").add(p.sourceWidth()).add(p.sourceHeight());
        line.putArray("grid").add(manifest.gridHeight()).add(manifest.gridWidth());
        var ids = line.putArray("token_ids");
        for (int id : encoded.tokenIds(i)) {
            ids.add(id);
        }
        line.put("mean_quant_error", encoded.meanQuantError(i));
        ObjectNode timing = line.putObject("timing_ms");
        timing.put("decode", round(p.decodeNanos() / 1e6));
        timing.put("preprocess", round(p.preprocessNanos() / 1e6));
        timing.put("encode", round(encodeNanos / 1e6 / encoded.size()));
        print(line);
    }

    private void reject(Path file, String reason, String message, Summary summary) {
        ObjectNode line = json.createObjectNode();
        line.put("file", file.toString());
        line.putObject("error").put("reason", reason).put("message", message);
        print(line);
        summary.rejected.merge(reason, 1, Integer::sum);
    }

    private void print(ObjectNode line) {
        try {
            out.println(json.writeValueAsString(line));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double round(double ms) {
        return Math.round(ms * 100) / 100.0;
    }

    /** Files as given, folders replaced by their regular, non-hidden files in path order. */
    static List<Path> expand(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                try (Stream<Path> walk = Files.walk(input)) {
                    walk.filter(Files::isRegularFile)
                            .filter(file -> !file.getFileName().toString().startsWith("."))
                            .sorted()
                            .forEach(files::add);
                }
            } else {
                files.add(input);
            }
        }
        return files;
    }

    /** Counts so far; read by the progress thread, written by the command's. */
    private static final class Summary {
        volatile int tokenized;
        final Map<String, Integer> rejected = new ConcurrentSkipListMap<>();

        long rejectedCount() {
            return rejected.values().stream().mapToInt(Integer::intValue).sum();
        }

        long handled() {
            return tokenized + rejectedCount();
        }

        void print(PrintStream err, ModelManifest manifest, double seconds) {
            long rejectedCount = rejectedCount();
            long total = tokenized + rejectedCount;
            err.printf("%d files: %d tokenized, %d rejected%s in %.2f s (%.1f images/s) with %s %s, %dx%d tokens%n",
                    total, tokenized, rejectedCount, rejected.isEmpty() ? "" : " " + rejected, seconds,
                    seconds > 0 ? tokenized / seconds : 0.0, manifest.modelId(), manifest.modelVersion(),
                    manifest.gridHeight(), manifest.gridWidth());
        }
    }
}
