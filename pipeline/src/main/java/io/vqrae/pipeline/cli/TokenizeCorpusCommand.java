package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusJob;
import io.vqrae.pipeline.corpus.CorpusManifest;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.job.JobPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
        name = "tokenize-corpus",
        mixinStandardHelpOptions = true,
        description = {
            "Tokenizes image files and WebDataset .tar shards into files, as a bounded Flink job (a local MiniCluster,",
            "or the cluster under `flink run`): WebDataset shards, Avro or Parquet, exactly once, with dead letters",
            "and DIR/_SUCCESS.json when the run completes (docs/corpora.md)."
        })
final class TokenizeCorpusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Mixin
    CorpusInputOptions inputs = new CorpusInputOptions();

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Output folder (local or a Flink filesystem URI).")
    String output;

    @Option(names = "--format", paramLabel = "webdataset|avro|parquet", description = "Output format (corpus.format; default: webdataset).")
    String format;

    @Option(names = "--features", paramLabel = "per-token|pooled|off", description = "Semantic features written (features.mode; default: per-token).")
    String features;

    @Option(names = "--dedup", description = "Tokenize each distinct image (by SHA-256) once; later copies become duplicate records (corpus.dedup).")
    Boolean dedup;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json (model.dir; default: the shipped tiny model).")
    java.nio.file.Path model;

    @Option(names = "--job-name", defaultValue = "vqrae-tokenize-corpus", description = "Flink job name (default: ${DEFAULT-VALUE}).")
    String jobName;

    private final PrintStream err;

    TokenizeCorpusCommand() {
        this(System.err);
    }

    TokenizeCorpusCommand(PrintStream err) {
        this.err = err;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        if (format != null) {
            options.put("corpus.format", format);
        }
        if (features != null) {
            options.put("features.mode", features);
        }
        if (dedup != null) {
            options.put("corpus.dedup", dedup.toString());
        }
        JobConfig jobConfig = config.load(options, model);
        JobPlan plan = JobPlan.forFiles(jobConfig, jobName);
        CorpusInputs corpus = inputs.resolve();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // A job restored from a savepoint continues its own output folder; a fresh run must not mix into one.
        if (env.getConfiguration().getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isEmpty()) {
            requireEmpty(output);
        }
        new CorpusJob(plan, corpus, output).attach(env);
        long start = System.nanoTime();
        JobExecutionResult result = env.execute(jobName);
        double seconds = (System.nanoTime() - start) / 1e9;
        CorpusManifest manifest = CorpusManifest.of(result, jobConfig, plan.manifest());
        manifest.write(output);
        CorpusManifest.Counts counts = manifest.counts();
        err.printf(Locale.ROOT, "tokenize-corpus: %d inputs -> %d tokenized, %d dead letters, %d duplicates in %.1f s (%.1f images/s); %s%n",
                counts.inputs(), counts.tokens(), counts.deadLetters(), counts.duplicates(), seconds, counts.inputs() / seconds,
                new Path(output, CorpusManifest.FILE_NAME));
        return 0;
    }

    private void requireEmpty(String folder) throws IOException {
        Path path = new Path(folder);
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            return;
        }
        FileStatus[] children = fs.listStatus(path);
        if (children != null && children.length > 0) {
            throw new ParameterException(spec.commandLine(), "--output " + folder + " is not empty: a fresh run writes into a new"
                    + " or empty folder (a job restored from a savepoint continues its own)");
        }
    }
}
