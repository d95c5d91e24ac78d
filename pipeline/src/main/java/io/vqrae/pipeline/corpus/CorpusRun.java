package io.vqrae.pipeline.corpus;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * What makes a corpus run resumable by running the same command again: its checkpoints and savepoints kept
 * durably in a state folder ({@code OUTPUT/_state} unless given), and {@code run.json}, what the run is (its
 * {@link Identity}). A rerun on the same output continues from the newest completed checkpoint or savepoint
 * there, exactly once; one whose inputs, model, format or features differ is refused, naming what changed.
 * When the run completes, its checkpoints are deleted and {@code run.json} stays, so a rerun knows the output
 * is complete and what it holds.
 */
public final class CorpusRun {
    /** The default state folder's name under the output folder; readers skip names starting with {@code _}. */
    public static final String STATE_FOLDER = "_state";
    private static final String RUN_FILE = "run.json";
    private static final String CHECKPOINTS = "checkpoints";
    private static final String SAVEPOINTS = "savepoints";
    private static final String METADATA = "_metadata";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path output;
    private final Path state;

    private CorpusRun(Path output, Path state) {
        this.output = output;
        this.state = state;
    }

    /**
     * The run writing into {@code output}.
     *
     * @param stateFolder where checkpoints are kept, or null for {@code OUTPUT/_state}
     */
    public static CorpusRun of(String output, String stateFolder) throws IOException {
        Path out = qualified(new Path(output));
        return new CorpusRun(out, stateFolder == null ? new Path(out, STATE_FOLDER) : qualified(new Path(stateFolder)));
    }

    /** Checkpoint folders need a scheme, and the same folder on a cluster as here. */
    private static Path qualified(Path path) throws IOException {
        return path.makeQualified(path.getFileSystem());
    }

    public Path stateFolder() {
        return state;
    }

    /**
     * What a run is: what must be the same for a rerun to continue it.
     *
     * @param inputs the inputs, as resolved URIs
     * @param model the model's id, version, codebook and encoder graph
     * @param format the output format
     * @param features the feature mode and type
     * @param dedup whether duplicates are recognised
     * @param tokenizerParallelism the parallelism of the encoder and of the shard writers, which name their shards
     * @param jpegDraft whether JPEGs are decoded at their output size ({@code limits.jpeg-draft}), which changes
     *     some tokens; a run.json written before the setting existed reads as {@code false}, as those runs were
     */
    public record Identity(
            List<String> inputs, String model, String format, String features, boolean dedup,
            @JsonProperty("tokenizer_parallelism") int tokenizerParallelism, @JsonProperty("jpeg_draft") boolean jpegDraft) {

        public Identity {
            inputs = List.copyOf(inputs);
        }

        /** The identity of a run of {@code config} over {@code inputs} with {@code model}. */
        public static Identity of(CorpusInputs inputs, ModelManifest model, JobConfig config) {
            String encoder = model.graphs().containsKey("encoder") ? model.graphs().get("encoder").sha256() : "none";
            return new Identity(inputs.roots(),
                    model.modelId() + " " + model.modelVersion() + " (codebook " + model.codebookSha256() + ", encoder " + encoder + ")",
                    config.corpus().format().name().toLowerCase(Locale.ROOT),
                    config.features().mode().name().toLowerCase(Locale.ROOT).replace('_', '-') + " "
                            + config.features().dtype().name().toLowerCase(Locale.ROOT),
                    config.corpus().dedup(), config.parallelism().tokenizer(), config.limits().jpegDraft());
        }

        /** How {@code now} differs from this stored identity, in a few words, or empty when it does not. */
        public Optional<String> change(Identity now) {
            List<String> changes = new ArrayList<>();
            compare(changes, "inputs", inputs, now.inputs);
            compare(changes, "model", model, now.model);
            compare(changes, "format", format, now.format);
            compare(changes, "features", features, now.features);
            compare(changes, "dedup", dedup, now.dedup);
            compare(changes, "parallelism.tokenizer", tokenizerParallelism, now.tokenizerParallelism);
            compare(changes, "limits.jpeg-draft", jpegDraft, now.jpegDraft);
            return changes.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", changes));
        }

        private static void compare(List<String> changes, String what, Object stored, Object now) {
            if (!Objects.equals(stored, now)) {
                changes.add(what + " was " + stored + ", now " + now);
            }
        }
    }

    /** The stored identity, or null when no run was started on this output. */
    public Identity stored() throws IOException {
        Path file = new Path(state, RUN_FILE);
        FileSystem fs = file.getFileSystem();
        if (!fs.exists(file)) {
            return null;
        }
        try (InputStream in = fs.open(file)) {
            return JSON.readValue(in, Identity.class);
        }
    }

    /** Records {@code identity} as this output's run. */
    public void store(Identity identity) throws IOException {
        Path file = new Path(state, RUN_FILE);
        try (OutputStream out = file.getFileSystem().create(file, FileSystem.WriteMode.OVERWRITE)) {
            JSON.writeValue(out, identity);
        }
    }

    /** Whether the run completed ({@code _SUCCESS.json} was written). */
    public boolean completed() throws IOException {
        Path success = new Path(output, CorpusManifest.FILE_NAME);
        return success.getFileSystem().exists(success);
    }

    /**
     * The newest completed checkpoint or savepoint of this run: the folder whose {@code _metadata} is newest
     * (Flink writes a checkpoint's {@code _metadata} last, atomically, when the checkpoint completes).
     */
    public Optional<String> latestSnapshot() throws IOException {
        FileStatus newest = null;
        for (Path folder : List.of(new Path(state, CHECKPOINTS), new Path(state, SAVEPOINTS))) {
            for (FileStatus metadata : metadataFiles(folder, 2)) {
                if (newest == null || metadata.getModificationTime() > newest.getModificationTime()) {
                    newest = metadata;
                }
            }
        }
        return newest == null ? Optional.empty() : Optional.of(newest.getPath().getParent().toString());
    }

    /** {@code _metadata} files up to {@code depth} folders below {@code folder} (checkpoints sit in JOB_ID/chk-N). */
    private static List<FileStatus> metadataFiles(Path folder, int depth) throws IOException {
        List<FileStatus> found = new ArrayList<>();
        FileSystem fs = folder.getFileSystem();
        if (!fs.exists(folder)) {
            return found;
        }
        for (FileStatus child : fs.listStatus(folder)) {
            if (!child.isDir()) {
                continue;
            }
            Path metadata = new Path(child.getPath(), METADATA);
            if (fs.exists(metadata)) {
                found.add(fs.getFileStatus(metadata));
            } else if (depth > 1) {
                found.addAll(metadataFiles(child.getPath(), depth - 1));
            }
        }
        return found;
    }

    /**
     * The job settings that keep this run's checkpoints in the state folder after the job is cancelled or its
     * process dies, and that restore {@code snapshot} when given.
     */
    public Configuration checkpointSettings(String snapshot) {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, new Path(state, CHECKPOINTS).toString());
        conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints().toString());
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 1);
        if (snapshot != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, snapshot);
        }
        return conf;
    }

    /** Where savepoints of a stopped run go. */
    public Path savepoints() {
        return new Path(state, SAVEPOINTS);
    }

    /**
     * After the run completed: deletes its checkpoints and savepoints, and the hidden in-progress files that
     * interrupted attempts left in the output (never visible to readers, and never committed).
     */
    public void finish() throws IOException {
        FileSystem fs = state.getFileSystem();
        fs.delete(new Path(state, CHECKPOINTS), true);
        fs.delete(savepoints(), true);
        deleteLeftovers(output.getFileSystem(), output, 2);
    }

    private static void deleteLeftovers(FileSystem fs, Path folder, int depth) throws IOException {
        FileStatus[] children = fs.exists(folder) ? fs.listStatus(folder) : null;
        for (FileStatus child : children == null ? new FileStatus[0] : children) {
            String name = child.getPath().getName();
            if (child.isDir()) {
                if (depth > 1 && !name.startsWith("_")) {
                    deleteLeftovers(fs, child.getPath(), depth - 1);
                }
            } else if (name.startsWith(".") && name.contains(".inprogress")) {
                fs.delete(child.getPath(), false);
            }
        }
    }

    /** How long a stop with a savepoint may take before the command gives up waiting. */
    public static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);
}
