package io.vqrae.pipeline.cli;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.render.ChwImages;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.storage.ObjectStores;
import io.vqrae.schemas.TokenRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vqrae detokenize}: token ids to images with the model's decoder graph, for generation jobs that
 * produce token sequences and need pixels, and to look at what a run wrote. Reads every output this project
 * writes: {@code TokenRecord}s from a Kafka topic ({@code read_committed}, up to its current end), and the
 * files of {@link TokenInputs}: a {@code tokenize-corpus} output folder of any format, WebDataset shards,
 * Avro and Parquet files, {@code KEY.tokens.npy} grids. Writes one PNG per grid, named after the image's id
 * ({@link PngNames}).
 */
@Command(
        name = "detokenize",
        mixinStandardHelpOptions = true,
        description = {"Decodes token ids into images, one PNG per token grid, named after the image's id.",
            "Reads TokenRecords from a Kafka topic (--topic), or files: the output folder of a tokenize-corpus run (WebDataset,"
                + " Avro or Parquet), WebDataset .tar shards, Avro or Parquet files of TokenRecords, KEY.tokens.npy grids, or"
                + " folders of them. Grids of another codebook are refused. Exits 1 when it decoded nothing (docs/cli.md)."})
final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Mixin
    ModelOption model = new ModelOption();

    @Option(names = "--topic", paramLabel = "TOPIC", description = "Read TokenRecords from this Kafka topic (e.g. vqrae.tokens) instead of files.")
    String topic;

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Overrides kafka.bootstrap-servers (with --topic).")
    String bootstrapServers;

    @Option(names = "--allow-other-codebook", description = "Decode records whose codebook_sha256 is not the model's (their ids mean other codes).")
    boolean allowOtherCodebook;

    @Option(names = {"--output", "--out"}, paramLabel = "DIR", defaultValue = "out/detokenize",
            description = "Where the PNGs go (default: ${DEFAULT-VALUE}); --out is its old name, still accepted.")
    Path out;

    @Parameters(arity = "0..*", paramLabel = "PATH",
            description = "tokenize-corpus output folders, .tar shards, .avro or .parquet files, .tokens.npy files, or folders of them;"
                    + " local or any Flink filesystem URI.")
    List<String> inputs = new ArrayList<>();

    private final PrintStream stdout;
    private final PrintStream stderr;

    DetokenizeCommand() {
        this(System.out, System.err);
    }

    DetokenizeCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws IOException, ModelLoadException {
        if ((topic == null) == inputs.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give either --topic or PATHs, not both or neither");
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (bootstrapServers != null) {
            options.put("kafka.bootstrap-servers", bootstrapServers);
        }
        // Loading the configuration sets up this JVM's filesystems (s3.*): only then can an s3:// input be looked at.
        JobConfig jobConfig = config.load(options, model);
        List<String> stored = new ArrayList<>(inputs);
        stored.add(jobConfig.model().dir());
        ObjectStores.requireBuckets(stored, jobConfig.s3());
        List<org.apache.flink.core.fs.Path> files = topic == null ? TokenInputs.resolve(spec, inputs) : List.of();
        ModelManifest manifest = JobPlan.loadModel(jobConfig);
        Counts counts = new Counts();
        try (DetokenizerSession decoder = DetokenizerSession.open(jobConfig.model().session(manifest, 0))) {
            Decoding decoding = new Decoding(decoder, manifest, counts);
            if (topic != null) {
                try {
                    OutputReader.forEach(jobConfig.kafka(), topic, ReleasedSchemas.decoder(TokenRecord.class), Duration.ofMinutes(1),
                            record -> decoding.accept(TokenInputs.grid(record)));
                } catch (IllegalArgumentException e) {
                    throw InputPaths.badInput(spec, e.getMessage() + " on " + jobConfig.kafka().bootstrapServers());
                }
            }
            for (org.apache.flink.core.fs.Path file : files) {
                try {
                    TokenInputs.read(file, decoding);
                } catch (DecodingFailed e) {
                    throw e;
                } catch (IOException | RuntimeException e) {
                    // Avro and Parquet report a corrupt file as runtime exceptions of their own.
                    stdout.printf("%s: unreadable (%s)%n", file, e.getMessage() != null ? e.getMessage() : e.toString());
                    counts.unreadable++;
                }
            }
        } catch (DecodingFailed e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw (RuntimeException) e.getCause();
        }
        stderr.printf("%d token grids: %d decoded, %d refused%s, with %s %s%n", counts.grids, counts.decoded, counts.refused,
                counts.unreadable == 0 ? "" : "; " + counts.unreadable + " of " + files.size() + " inputs unreadable",
                manifest.modelId(), manifest.modelVersion());
        if (counts.decoded == 0) {
            throw counts.grids == 0 && counts.unreadable == 0
                    ? new NoUsableInputException("no token grid in " + (topic != null ? "topic " + topic : "the inputs"))
                    : new NoUsableInputException(topic != null ? counts.grids : files.size(), "above");
        }
        return counts.refused == 0 ? 0 : 1;
    }

    /** What was read and decoded so far. */
    private static final class Counts {
        long grids;
        long decoded;
        long refused;
        long unreadable;
    }

    /** Decodes each grid it is handed into its PNG, or refuses it. */
    private final class Decoding implements java.util.function.Consumer<TokenInputs.Grid> {
        private final DetokenizerSession decoder;
        private final ModelManifest manifest;
        private final Counts counts;
        private final PngNames names = new PngNames(out);

        Decoding(DetokenizerSession decoder, ModelManifest manifest, Counts counts) {
            this.decoder = decoder;
            this.manifest = manifest;
            this.counts = counts;
        }

        @Override
        public void accept(TokenInputs.Grid grid) {
            counts.grids++;
            String problem = problem(grid, manifest);
            if (problem != null) {
                stdout.printf("%s: refused (%s)%n", grid.id(), problem);
                counts.refused++;
                return;
            }
            Path png = names.next(grid.id());
            try {
                byte[] pixels = decoder.decode(List.of(grid.tokenIds())).get(0);
                ChwImages.writeGrid(List.of(List.of(pixels)), manifest.imageHeight(), manifest.imageWidth(), png);
            } catch (IOException | RuntimeException e) {
                throw new DecodingFailed(e);
            }
            stdout.printf("%s -> %s%n", grid.id(), png);
            counts.decoded++;
        }
    }

    /** A failure of decoding or writing a grid, which ends the command (it is not the input's). */
    private static final class DecodingFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DecodingFailed(Exception cause) {
            super(cause);
        }
    }

    /** Why {@code grid} cannot be decoded by this model, or null. */
    private String problem(TokenInputs.Grid grid, ModelManifest manifest) {
        if (grid.codebookSha256() != null && !grid.codebookSha256().equals(manifest.codebookSha256()) && !allowOtherCodebook) {
            return "codebook " + grid.codebookSha256().substring(0, 12) + " is not the model's " + manifest.codebookSha256().substring(0, 12)
                    + "; --allow-other-codebook decodes it anyway";
        }
        if (grid.tokenIds().length != manifest.numTokens()) {
            return grid.tokenIds().length + " token ids; the model takes " + manifest.numTokens();
        }
        for (int id : grid.tokenIds()) {
            if (id < 0 || id >= manifest.codebookSize()) {
                return "token id " + id + " is outside [0, " + manifest.codebookSize() + ")";
            }
        }
        return null;
    }
}
