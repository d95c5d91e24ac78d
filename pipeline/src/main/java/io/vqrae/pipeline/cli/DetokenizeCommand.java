package io.vqrae.pipeline.cli;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.render.ChwImages;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.schemas.TokenRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vqrae detokenize}: token ids to images with the model's decoder graph, for generation jobs that
 * produce token sequences and need pixels. Reads {@code TokenRecord}s from a Kafka topic
 * ({@code read_committed}, up to its current end) or from Avro container files, or bare grids from
 * {@code KEY.tokens.npy} files (uint16/uint32, [grid_h, grid_w], the WebDataset layout); writes one PNG per
 * id.
 */
@Command(
        name = "detokenize",
        mixinStandardHelpOptions = true,
        description = {"Decodes token ids into images: TokenRecords from a Kafka topic (--topic) or Avro files,",
            "or KEY.tokens.npy files; one PNG per id. Records of another codebook are refused."})
final class DetokenizeCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json (model.dir; default: the shipped tiny model).")
    Path model;

    @Option(names = "--topic", paramLabel = "TOPIC", description = "Read TokenRecords from this Kafka topic.")
    String topic;

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Overrides kafka.bootstrap-servers (with --topic).")
    String bootstrapServers;

    @Option(names = "--allow-other-codebook", description = "Decode records whose codebook_sha256 is not the model's (their ids mean other codes).")
    boolean allowOtherCodebook;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/detokenize", description = "Where the PNGs go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Parameters(arity = "0..*", paramLabel = "FILE", description = "Avro files of TokenRecords (.avro) or .tokens.npy files, or folders of them.")
    List<Path> inputs = new ArrayList<>();

    private final PrintStream stdout;
    private final PrintStream stderr;

    DetokenizeCommand() {
        this(System.out, System.err);
    }

    DetokenizeCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** One token grid to decode; {@code codebookSha256} is null where the source carries no stamps (.npy). */
    record Grid(String id, int[] tokenIds, String codebookSha256) {}

    @Override
    public Integer call() throws IOException {
        if ((topic == null) == inputs.isEmpty()) {
            throw new ConfigException("--topic", "give either --topic or files, not both or neither");
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (bootstrapServers != null) {
            options.put("kafka.bootstrap-servers", bootstrapServers);
        }
        JobConfig jobConfig = config.load(options, model);
        ModelManifest manifest = JobPlan.loadModel(jobConfig);
        List<Grid> grids = topic != null ? fromTopic(jobConfig) : fromFiles();
        int decoded = 0;
        int refused = 0;
        Set<String> written = new HashSet<>();
        try (DetokenizerSession decoder = DetokenizerSession.open(jobConfig.model().session(manifest, 0))) {
            for (Grid grid : grids) {
                String problem = problem(grid, manifest);
                if (problem != null) {
                    stdout.printf("%s: refused (%s)%n", grid.id(), problem);
                    refused++;
                    continue;
                }
                byte[] pixels = decoder.decode(List.of(grid.tokenIds())).get(0);
                String name = OutputNames.safe(grid.id());
                for (int n = 2; !written.add(name); n++) {
                    name = OutputNames.safe(grid.id()) + "-" + n;
                }
                Path png = out.resolve(name + ".png");
                ChwImages.writeGrid(List.of(List.of(pixels)), manifest.imageHeight(), manifest.imageWidth(), png);
                stdout.printf("%s -> %s%n", grid.id(), png);
                decoded++;
            }
        } catch (ModelLoadException e) {
            throw new ConfigException("model.dir", e.getMessage());
        }
        stderr.printf("%d token grids: %d decoded, %d refused, with %s %s%n", grids.size(), decoded, refused,
                manifest.modelId(), manifest.modelVersion());
        return refused == 0 ? 0 : 1;
    }

    /** Why {@code grid} cannot be decoded by this model, or null. */
    private String problem(Grid grid, ModelManifest manifest) {
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

    private List<Grid> fromTopic(JobConfig jobConfig) {
        List<Grid> grids = new ArrayList<>();
        for (TokenRecord record : OutputReader.read(jobConfig.kafka(), topic, ReleasedSchemas.decoder(TokenRecord.class), Duration.ofMinutes(1))) {
            grids.add(grid(record));
        }
        return grids;
    }

    private List<Grid> fromFiles() throws IOException {
        List<Grid> grids = new ArrayList<>();
        for (Path file : TokenizeCommand.expand(inputs)) {
            String name = file.getFileName().toString();
            if (name.endsWith(".tokens.npy")) {
                grids.add(new Grid(name.substring(0, name.length() - ".tokens.npy".length()), Npy.read(file).ids(), null));
            } else if (name.endsWith(".avro")) {
                try (DataFileReader<TokenRecord> reader = new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(TokenRecord.class))) {
                    for (TokenRecord record : reader) {
                        grids.add(grid(record));
                    }
                }
            } else {
                stderr.println("skipping " + file + " (neither .avro nor .tokens.npy)");
            }
        }
        return grids;
    }

    private static Grid grid(TokenRecord record) {
        return new Grid(record.getId(), TokenIds.decode(record.getTokenIds(), record.getDtype()), record.getCodebookSha256());
    }
}
