package io.vqrae.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.image.DecodedImage;
import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.Preprocessor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vqrae tokenize [--model DIR] FILE|DIR...}: tokenizes image files without Kafka or Flink, one JSON
 * line per file on stdout, a summary on stderr. A file that cannot be read or decoded gets a line with its
 * reason code; the exit code is 0 when every file was handled either way.
 */
@Command(
        name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {"Tokenizes image files without Kafka or Flink, one JSON line per file.",
            "Folders are searched recursively. Each line is {\"file\", \"source_size\", \"grid\", \"token_ids\",",
            "\"mean_quant_error\", \"timing_ms\"} or {\"file\", \"error\": {\"reason\", \"message\"}}."})
public final class TokenizeCommand implements Callable<Integer> {
    /** Reason code for a file the command could not read (the decoder's codes cover everything after that). */
    static final String UNREADABLE_FILE = "unreadable_file";

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json (default: ${DEFAULT-VALUE}).")
    Path model = CliDefaults.modelDir();

    @Option(names = "--batch-size", paramLabel = "N", description = "Images per ONNX Runtime run (default: ${DEFAULT-VALUE}).")
    int batchSize = 8;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads, 0 = one per core (default: ${DEFAULT-VALUE}).")
    int threads = 0;

    @Option(names = "--provider", paramLabel = "cpu|cuda", converter = ProviderConverter.class,
            description = "Execution provider (default: cpu).")
    ExecutionProvider provider = ExecutionProvider.CPU;

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
    public Integer call() throws ModelLoadException, IOException {
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        }
        List<Path> files = expand(inputs);
        SessionConfig config = SessionConfig.builder().modelDir(model).provider(provider).intraOpThreads(threads).build();
        Summary summary = new Summary();
        long start = System.nanoTime();
        try (TokenizerSession session = TokenizerSession.open(config)) {
            ModelManifest manifest = session.manifest();
            ImageDecoder decoder = manifest.imageDecoder().build();
            Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());
            List<Prepared> batch = new ArrayList<>(batchSize);
            for (Path file : files) {
                Prepared prepared = prepare(file, decoder, preprocessor, summary);
                if (prepared != null) {
                    batch.add(prepared);
                    if (batch.size() == batchSize) {
                        encode(session, batch, summary);
                    }
                }
            }
            if (!batch.isEmpty()) {
                encode(session, batch, summary);
            }
            summary.print(err, manifest, (System.nanoTime() - start) / 1e9);
        }
        out.flush();
        return 0;
    }

    /** A decoded, preprocessed file waiting for its batch. */
    private record Prepared(Path file, byte[] chw, int width, int height, double decodeMs, double preprocessMs) {}

    private Prepared prepare(Path file, ImageDecoder decoder, Preprocessor preprocessor, Summary summary) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            reject(file, UNREADABLE_FILE, e.toString(), summary);
            return null;
        }
        long t0 = System.nanoTime();
        DecodedImage image;
        try {
            image = decoder.decode(bytes);
        } catch (ImageDecodeException e) {
            reject(file, e.reason().code(), e.getMessage(), summary);
            return null;
        }
        long t1 = System.nanoTime();
        byte[] chw = preprocessor.toChw(image);
        long t2 = System.nanoTime();
        return new Prepared(file, chw, image.width(), image.height(), (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    private void encode(TokenizerSession session, List<Prepared> batch, Summary summary) {
        long t0 = System.nanoTime();
        EncodedBatch encoded = session.encode(batch.stream().map(Prepared::chw).toList());
        double encodeMsPerImage = (System.nanoTime() - t0) / 1e6 / batch.size();
        ModelManifest manifest = session.manifest();
        for (int i = 0; i < batch.size(); i++) {
            Prepared p = batch.get(i);
            ObjectNode line = json.createObjectNode();
            line.put("file", p.file().toString());
            line.putArray("source_size").add(p.width()).add(p.height());
            line.putArray("grid").add(manifest.gridHeight()).add(manifest.gridWidth());
            var ids = line.putArray("token_ids");
            for (int id : encoded.tokenIds(i)) {
                ids.add(id);
            }
            line.put("mean_quant_error", encoded.meanQuantError(i));
            ObjectNode timing = line.putObject("timing_ms");
            timing.put("decode", round(p.decodeMs()));
            timing.put("preprocess", round(p.preprocessMs()));
            timing.put("encode", round(encodeMsPerImage));
            print(line);
            summary.tokenized++;
        }
        batch.clear();
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

    private static final class Summary {
        int tokenized;
        final Map<String, Integer> rejected = new TreeMap<>();

        void print(PrintStream err, ModelManifest manifest, double seconds) {
            int rejectedCount = rejected.values().stream().mapToInt(Integer::intValue).sum();
            int total = tokenized + rejectedCount;
            err.printf("%d files: %d tokenized, %d rejected%s in %.2f s (%.1f images/s) with %s %s, %dx%d tokens%n",
                    total, tokenized, rejectedCount, rejected.isEmpty() ? "" : " " + rejected, seconds,
                    seconds > 0 ? tokenized / seconds : 0.0, manifest.modelId(), manifest.modelVersion(),
                    manifest.gridHeight(), manifest.gridWidth());
        }
    }
}
