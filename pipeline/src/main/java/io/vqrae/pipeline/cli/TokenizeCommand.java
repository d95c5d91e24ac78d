package io.vqrae.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vqrae tokenize [--model DIR] FILE|DIR...}: tokenizes image files without Kafka or Flink, one JSON
 * line per file on stdout, a summary on stderr. It reads the job's configuration (defaults, {@code --config},
 * {@code --set}) and decodes through the job's own {@link ImagePreparer}, so it accepts, rejects and
 * tokenizes exactly as the job does. A file that cannot be read or decoded gets a line with its reason
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
    /** Reason code for a file the command could not read (the decoder's codes cover everything after that). */
    static final String UNREADABLE_FILE = "unreadable_file";

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json (model.dir; default: the shipped tiny model).")
    Path model;

    @Option(names = "--batch-size", paramLabel = "N", description = "Images per ONNX Runtime run (batching.max-size; default: the job's, 16).")
    Integer batchSize;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads, 0 = one per core (model.intra-op-threads).")
    Integer threads;

    @Option(names = "--provider", paramLabel = "cpu|cuda", description = "Execution provider (model.provider; default: cpu).")
    ExecutionProvider provider;

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
        ImagePreparer preparer = new ImagePreparer(manifest, jobConfig.limits());
        int batchLimit = jobConfig.batching().maxSize();
        Summary summary = new Summary();
        long start = System.nanoTime();
        try (TokenizerSession session = TokenizerSession.open(jobConfig.model().session(manifest, 0));
                Progress progress = Progress.start(err, files.size(), summary::handled, summary::rejectedCount)) {
            List<ImagePreparer.Prepared> batch = new ArrayList<>(batchLimit);
            List<Path> batchFiles = new ArrayList<>(batchLimit);
            for (Path file : files) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (IOException e) {
                    reject(file, UNREADABLE_FILE, e.toString(), summary);
                    continue;
                }
                ImagePreparer.Outcome outcome = preparer.prepare(InputImage.of(file.toString(), bytes, new Origin(null, null, null)));
                if (outcome instanceof ImagePreparer.Rejected rejected) {
                    reject(file, rejected.rejection().reason(), rejected.rejection().message(), summary);
                } else if (outcome instanceof ImagePreparer.Prepared prepared) {
                    batch.add(prepared);
                    batchFiles.add(file);
                    if (batch.size() == batchLimit) {
                        encode(session, batch, batchFiles, summary);
                    }
                }
            }
            if (!batch.isEmpty()) {
                encode(session, batch, batchFiles, summary);
            }
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

    private void encode(TokenizerSession session, List<ImagePreparer.Prepared> batch, List<Path> files, Summary summary) {
        long t0 = System.nanoTime();
        EncodedBatch encoded = session.encode(batch.stream().map(p -> p.image().chw()).toList());
        double encodeMsPerImage = (System.nanoTime() - t0) / 1e6 / batch.size();
        ModelManifest manifest = session.manifest();
        for (int i = 0; i < batch.size(); i++) {
            ImagePreparer.Prepared p = batch.get(i);
            ObjectNode line = json.createObjectNode();
            line.put("file", files.get(i).toString());
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
            timing.put("encode", round(encodeMsPerImage));
            print(line);
            summary.tokenized = summary.tokenized + 1;
        }
        batch.clear();
        files.clear();
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
