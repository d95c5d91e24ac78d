package io.vqrae.pipeline.cli;

import io.vqrae.operators.encode.RecordKind;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.PipelineMetrics;
import io.vqrae.operators.report.RunReport;
import io.vqrae.operators.report.ThreadCpu;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusJob;
import io.vqrae.pipeline.corpus.CorpusManifest;
import io.vqrae.pipeline.corpus.CorpusRun;
import io.vqrae.pipeline.corpus.format.CorpusFormats;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.sink.internal.OutputCounter;
import io.vqrae.pipeline.corpus.source.CorpusCount;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.progress.Progress;
import io.vqrae.pipeline.storage.ObjectStores;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
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
            "Tokenizes image files and WebDataset .tar shards into WebDataset shards, Avro or Parquet files.",
            "A bounded Flink job (a local MiniCluster, or the cluster under `flink run`) writes them exactly once, with dead"
                + " letters and DIR/_SUCCESS.json when the run completes (docs/corpora.md). Resumable: run the same command again"
                + " after a stop, a crash or Ctrl-C (which stops with a savepoint) and it continues where the run was."
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

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the run keeps its checkpoints and savepoints (default: DIR/_state under --output).")
    String stateDir;

    @Option(names = "--format", paramLabel = "webdataset|avro|parquet", description = "Output format (corpus.format; default: webdataset).")
    String format;

    @Option(names = "--features", paramLabel = "per-token|pooled|off", description = "Semantic features written (features.mode; default: per-token).")
    String features;

    @Option(names = "--dedup", description = "Tokenize each distinct image (by SHA-256) once; later copies become duplicate records (corpus.dedup).")
    Boolean dedup;

    @Mixin
    ModelOption model = new ModelOption();

    @Mixin
    EncoderOptions encoder = new EncoderOptions();

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
        encoder.putInto(options);
        JobConfig jobConfig = config.load(options, model);
        List<String> paths = new ArrayList<>(inputs.all());
        paths.addAll(Arrays.asList(output, stateDir == null ? output : stateDir, jobConfig.model().dir()));
        ObjectStores.requireBuckets(paths, jobConfig.s3());
        CorpusInputs corpus = inputs.resolve();
        JobPlan plan = JobPlan.forFiles(jobConfig, jobName);
        CorpusRun run = CorpusRun.of(output, stateDir);
        CorpusRun.Identity identity = CorpusRun.Identity.of(corpus, plan.manifest(), jobConfig);

        CorpusRun.Identity stored = run.stored();
        if (stored != null) {
            String change = stored.change(identity).orElse(null);
            if (change != null) {
                throw new ParameterException(spec.commandLine(), "--output " + output + " holds a " + (run.completed() ? "completed" : "stopped")
                        + " run of something else (" + change + "): rerun it unchanged, or choose another --output");
            }
        }
        if (run.completed()) {
            err.println("tokenize-corpus: " + output + " holds this run, completed (" + new Path(output, CorpusManifest.FILE_NAME)
                    + "): nothing to do");
            return 0;
        }
        // A local run updates its progress once a second: accumulators travel with TaskManager heartbeats.
        Configuration settings = new Configuration();
        settings.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(1));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(settings);
        // `flink run -s SAVEPOINT` restores a job explicitly: it continues its own output, as given.
        String snapshot = env.getConfiguration().getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElse(null);
        if (snapshot == null && stored != null) {
            snapshot = run.latestSnapshot().orElse(null);
            err.println(snapshot != null
                    ? "tokenize-corpus: resuming the run in " + output + " from " + snapshot
                    : "tokenize-corpus: the earlier attempt in " + output + " completed no checkpoint; starting it again");
        } else if (snapshot == null) {
            requireEmpty(output, run);
            run.store(identity);
        }
        env.configure(run.checkpointSettings(snapshot));
        new CorpusJob(plan, corpus, output).attach(env);

        long start = System.nanoTime();
        // The run report is this JVM's CPU: the job's on a local MiniCluster, not under `flink run`; and the whole
        // run's only when this attempt did not resume one.
        boolean measured = snapshot == null && "local".equals(env.getConfiguration().get(DeploymentOptions.TARGET));
        JobClient client = env.executeAsync(jobName);
        JobExecutionResult result = null;
        ThreadCpu.Usage usage = null;
        String signal;
        Savepoint savepoint = new Savepoint();
        MetricLabels labels = plan.metrics().labels();
        try (ThreadCpu.Recorder cpu = measured ? ThreadCpu.Recorder.start() : null;
                PipelineMetrics.Lease metrics = PipelineMetrics.acquire(plan.metrics());
                CorpusCount count = CorpusCount.start(corpus.splits());
                StopOnSignal stop = StopOnSignal.install(() -> savepoint.stop(client, run),
                        () -> err.println(System.lineSeparator() + "tokenize-corpus: stopped without a savepoint; run the same command"
                                + " again to resume from the last checkpoint"));
                Progress progress = Progress.start(err, "images", () -> progress(client, count),
                        (counts, rate, eta) -> PipelineMetrics.runProgress(labels, counts.total(), counts.done(), rate, eta))) {
            try {
                result = client.getJobExecutionResult().get();
            } catch (ExecutionException e) {
                if (stop.received() == null) {
                    throw e;
                }
            }
            signal = stop.received();
            usage = cpu == null || result == null ? null : cpu.stop();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (signal != null) {
            err.printf(Locale.ROOT, "tokenize-corpus: stopped on SIG%s %s; to resume, run the same command again: %s%n", signal,
                    savepoint.path != null
                            ? "after " + String.format(Locale.ROOT, "%,d", done(counts(result.getAllAccumulatorResults()))) + " inputs, with a savepoint"
                            : "before a savepoint could be taken (the run resumes from its last completed checkpoint, if any)",
                    commandLine());
            return StopOnSignal.exitCode(signal);
        }
        CorpusManifest manifest = CorpusManifest.of(result, jobConfig, plan.manifest());
        if (usage != null) {
            manifest = manifest.withReport(new RunReport(manifest.counts().inputs(), usage, jobConfig.report()));
        }
        CorpusFormats.of(jobConfig.corpus().format()).complete(new Path(output), jobName);
        manifest.write(output);
        run.finish();
        CorpusManifest.Counts counts = manifest.counts();
        err.printf(Locale.ROOT, "tokenize-corpus: %,d inputs -> %,d tokenized, %,d dead letters, %,d duplicates in %.1f s (%.1f images/s); %s%n",
                counts.inputs(), counts.tokens(), counts.deadLetters(), counts.duplicates(), seconds, counts.inputs() / seconds,
                new Path(output, CorpusManifest.FILE_NAME));
        if (manifest.report() != null) {
            err.print(manifest.report().summary());
        }
        if (counts.tokens() == 0) {
            throw new NoUsableInputException(counts.inputs(), "in " + new Path(output, OutputFolders.DEAD_LETTERS));
        }
        return 0;
    }

    /** The stop of a run on a signal: a savepoint in the run's state folder, then the job ends and {@link #call} reports it. */
    private final class Savepoint {
        volatile String path;

        void stop(JobClient client, CorpusRun run) {
            err.println(System.lineSeparator() + "tokenize-corpus: stopping with a savepoint (Ctrl-C again to stop at once)...");
            long deadline = System.nanoTime() + CorpusRun.STOP_TIMEOUT.toNanos();
            while (true) {
                try {
                    path = client.stopWithSavepoint(false, run.savepoints().toString(), SavepointFormatType.CANONICAL)
                            .get(CorpusRun.STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                } catch (Exception e) {
                    // A job still deploying its tasks cannot take a savepoint yet: try again in a moment.
                    boolean starting = String.valueOf(e.getMessage()).contains("Not all required tasks are currently running");
                    if (!starting || System.nanoTime() > deadline) {
                        err.println("tokenize-corpus: no savepoint (" + e.getMessage() + "); cancelling the job");
                        client.cancel();
                        return;
                    }
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The last counts the job reported. */
    private volatile Map<String, Long> reported = Map.of();

    /** The counts so far, from the job's accumulators (TaskManagers report them with each heartbeat). */
    private Progress.Counts progress(JobClient client, CorpusCount count) {
        try {
            reported = counts(client.getAccumulators().get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            // The job is starting or has ended: the last counts stand.
        }
        Map<String, Long> counts = reported;
        CorpusCount.Total total = count.total();
        Map<String, Long> others = new LinkedHashMap<>();
        others.put("dead letters", counts.getOrDefault(OutputCounter.accumulator(RecordKind.DEAD_LETTER), 0L));
        others.put("duplicates", counts.getOrDefault(OutputCounter.accumulator(RecordKind.DUPLICATE), 0L));
        return new Progress.Counts(done(counts), total.inputs(), total.estimated(), others);
    }

    private static Map<String, Long> counts(Map<String, Object> accumulators) {
        return accumulators.entrySet().stream()
                .filter(entry -> entry.getValue() instanceof Long)
                .collect(Collectors.toMap(Map.Entry::getKey, entry -> (Long) entry.getValue()));
    }

    /** Inputs handled: tokenized, dead-lettered or recognised as duplicates. */
    private static long done(Map<String, Long> counts) {
        return List.of(RecordKind.TOKENS, RecordKind.DEAD_LETTER, RecordKind.DUPLICATE).stream()
                .mapToLong(kind -> counts.getOrDefault(OutputCounter.accumulator(kind), 0L))
                .sum();
    }

    /** This command as it was run, to be run again. */
    private String commandLine() {
        String vqrae = System.getProperty("vqrae.home") != null ? "bin/vqrae" : "vqrae";
        return vqrae + " " + spec.commandLine().getParseResult().originalArgs().stream()
                .map(arg -> arg.isEmpty() || arg.chars().anyMatch(c -> " '\"*?$\\".indexOf(c) >= 0) ? "'" + arg.replace("'", "'\\''") + "'" : arg)
                .collect(Collectors.joining(" "));
    }

    /** A fresh run writes into a new or empty folder (its own state folder aside). */
    private void requireEmpty(String folder, CorpusRun run) throws IOException {
        Path path = new Path(folder);
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            return;
        }
        FileStatus[] children = fs.listStatus(path);
        for (FileStatus child : children == null ? new FileStatus[0] : children) {
            if (!child.getPath().makeQualified(fs).equals(run.stateFolder())) {
                throw new ParameterException(spec.commandLine(), "--output " + folder + " is not empty and holds no run of"
                        + " tokenize-corpus to resume: a fresh run writes into a new or empty folder");
            }
        }
    }
}
