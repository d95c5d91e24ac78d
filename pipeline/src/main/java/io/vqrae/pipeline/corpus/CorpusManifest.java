package io.vqrae.pipeline.corpus;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.operators.report.RunReport;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.sink.internal.OutputCounter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * {@code DIR/_SUCCESS.json}: written once a bounded corpus run has completed and its outputs are committed,
 * so a trainer can tell a whole corpus from one still being written (or abandoned). Its counts are the
 * records the committed files hold ({@link OutputCounter}).
 *
 * @param format the layout of tokens and features
 * @param counts records per output; {@code inputs} is their sum over tokens, dead letters and duplicates
 * @param modelId the model's id
 * @param modelVersion the model's version
 * @param codebookSha256 the codebook's SHA-256: token ids are comparable only within one codebook
 * @param features the feature mode
 * @param completedAt when the run completed
 * @param report CPU-seconds per input by stage and the cost per million inputs, when the run was measured (null: not
 *     written)
 */
public record CorpusManifest(
        String format, Counts counts, @JsonProperty("model_id") String modelId, @JsonProperty("model_version") String modelVersion,
        @JsonProperty("codebook_sha256") String codebookSha256, String features, @JsonProperty("completed_at") String completedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) RunReport report) {

    /** The name under the output folder. */
    public static final String FILE_NAME = "_SUCCESS.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Records per output. */
    public record Counts(
            long inputs, long tokens, long features, @JsonProperty("dead_letters") long deadLetters, long duplicates) {}

    /** The manifest of a finished run, from its accumulators. */
    public static CorpusManifest of(JobExecutionResult result, JobConfig config, ModelManifest model) {
        return of(result.getAllAccumulatorResults(), config, model);
    }

    /** The manifest of a finished run, from its accumulators by name. */
    public static CorpusManifest of(Map<String, Object> accumulators, JobConfig config, ModelManifest model) {
        long tokens = count(accumulators, RecordKind.TOKENS);
        long deadLetters = count(accumulators, RecordKind.DEAD_LETTER);
        long duplicates = count(accumulators, RecordKind.DUPLICATE);
        return new CorpusManifest(config.corpus().format().name().toLowerCase(Locale.ROOT),
                new Counts(tokens + deadLetters + duplicates, tokens, count(accumulators, RecordKind.FEATURES), deadLetters, duplicates),
                model.modelId(), model.modelVersion(), model.codebookSha256(),
                config.features().mode().name().toLowerCase(Locale.ROOT).replace('_', '-'), Instant.now().toString(), null);
    }

    /** This manifest with the run's report. */
    public CorpusManifest withReport(RunReport runReport) {
        return new CorpusManifest(format, counts, modelId, modelVersion, codebookSha256, features, completedAt, runReport);
    }

    private static long count(Map<String, Object> accumulators, RecordKind kind) {
        Object count = accumulators.get(OutputCounter.accumulator(kind));
        return count == null ? 0 : (Long) count;
    }

    /** Writes {@code DIR/_SUCCESS.json}, replacing one of an earlier run. */
    public void write(String output) throws IOException {
        Path path = new Path(output, FILE_NAME);
        FileSystem fs = path.getFileSystem();
        try (OutputStream out = fs.create(path, FileSystem.WriteMode.OVERWRITE)) {
            JSON.writeValue(out, this);
        }
    }
}
