package io.vqrae.pipeline.demo;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.render.CodebookPlot;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.operators.metrics.PipelineMetrics;
import io.vqrae.operators.report.RunReport;
import io.vqrae.operators.report.ThreadCpu;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.progress.Progress;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default, end to end with no external services: an in-JVM Kafka broker, the job on a local
 * MiniCluster with checkpointing (so output is committed exactly as in production), and the outputs read
 * back with {@code read_committed}.
 */
public final class DemoRunner {
    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);
    /** Broker-wide ceiling; each topic's own max.message.bytes is what the job sizes and relies on. */
    private static final int BROKER_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final int PREVIEW_COLUMNS = 8;
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(1);
    /** The demo job's name, also the {@code job} label of its metrics. */
    static final String JOB_NAME = "vqrae-demo";

    /**
     * What to run.
     *
     * @param imagesDir folder of images to load, or null for the generated samples
     * @param modelDir model directory
     * @param previewFile where the reconstruction preview PNG goes, or null for none
     * @param codebookPlotFile where the codebook-usage plot PNG goes, or null for none
     * @param sampleCount how many good samples to generate when {@code imagesDir} is null
     * @param jobSettings extra dotted config keys for the job (e.g. {@code batching.max-size})
     */
    public record Options(Path imagesDir, Path modelDir, Path previewFile, Path codebookPlotFile, int sampleCount,
            Map<String, String> jobSettings) {
        public Options {
            Objects.requireNonNull(modelDir, "modelDir");
            if (sampleCount < 1) {
                throw new IllegalArgumentException("sampleCount must be >= 1, got " + sampleCount);
            }
            jobSettings = Map.copyOf(jobSettings);
        }
    }

    private DemoRunner() {}

    public static DemoReport run(Options options) throws Exception {
        Path imagesDir = options.imagesDir();
        Path generated = null;
        if (imagesDir == null) {
            generated = Files.createTempDirectory("vqrae-samples-");
            SampleImages.write(generated, options.sampleCount());
            imagesDir = generated;
        }
        try (EmbeddedKafka broker = EmbeddedKafka.start(BROKER_MAX_MESSAGE_BYTES)) {
            Map<String, String> settings = new HashMap<>();
            settings.put("model.dir", options.modelDir().toString());
            settings.put("kafka.bootstrap-servers", broker.bootstrapServers());
            settings.put("kafka.bounded", "true");
            settings.put("kafka.starting-offsets", "earliest");
            settings.put("checkpoint.interval", "2s");
            settings.put("parallelism.decode", "2");
            settings.putAll(options.jobSettings());
            JobConfig config = JobConfig.fromMap(settings);
            JobPlan plan = JobPlan.resolve(config, JOB_NAME);
            TokenizeJob job = new TokenizeJob(plan);

            List<Path> files = listFiles(imagesDir);
            try (InputWriter writer = new InputWriter(config.kafka())) {
                for (Path file : files) {
                    writer.send(imagesDir.relativize(file).toString(), Files.readAllBytes(file), file.toUri().toString());
                }
            }
            LOG.info("Loaded {} files from {} into {}", files.size(), imagesDir, config.kafka().topics().input());

            int parallelism = Math.max(config.parallelism().decode(), config.parallelism().tokenizer());
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism);
            job.attach(env);
            long start = System.nanoTime();
            // The lease keeps this JVM's metrics endpoint up from before the job until the report is done.
            try (PipelineMetrics.Lease metrics = PipelineMetrics.acquire(plan.metrics())) {
                if (PipelineMetrics.port() > 0) {
                    LOG.info("Metrics at http://localhost:{}/metrics{}", PipelineMetrics.port(),
                            config.metrics().preview() ? ", live view at http://localhost:" + PipelineMetrics.port() + "/preview" : "");
                }
                ThreadCpu.Usage usage;
                try (Progress progress = Progress.start(System.err, files.size(),
                        () -> (long) (PipelineMetrics.total("vqrae_images_tokenized", JOB_NAME) + PipelineMetrics.total("vqrae_dead_letters", JOB_NAME)),
                        () -> (long) PipelineMetrics.total("vqrae_dead_letters", JOB_NAME));
                        ThreadCpu.Recorder cpu = ThreadCpu.Recorder.start()) {
                    env.execute(JOB_NAME);
                    usage = cpu.stop();
                }
                double jobSeconds = (System.nanoTime() - start) / 1e9;
                return report(options, plan, files, imagesDir, jobSeconds, new RunReport(files.size(), usage, config.report()));
            }
        } finally {
            if (generated != null) {
                FileUtils.deleteDirectory(generated.toFile());
            }
        }
    }

    private static DemoReport report(Options options, JobPlan plan, List<Path> files, Path imagesDir, double jobSeconds,
            RunReport runReport) throws Exception {
        JobConfig config = plan.config();
        OutputReader.Outputs outputs = OutputReader.readCommitted(config.kafka(), READ_TIMEOUT);
        ModelManifest manifest = plan.manifest();
        long[] codeCounts = new long[manifest.codebookSize()];
        double quantErrorSum = 0;
        for (TokenRecord record : outputs.tokens()) {
            for (int id : TokenIds.decode(record.getTokenIds(), record.getDtype())) {
                codeCounts[id]++;
            }
            quantErrorSum += record.getMeanQuantError();
        }
        CodebookUsage usage = CodebookUsage.of(codeCounts);
        Map<String, Integer> reasons = new TreeMap<>();
        for (DeadLetterRecord record : outputs.deadLetters()) {
            reasons.merge(record.getReason(), 1, Integer::sum);
        }
        Path preview = null;
        Double previewPsnr = null;
        if (options.previewFile() != null && !outputs.tokens().isEmpty()) {
            preview = options.previewFile();
            previewPsnr = PreviewWriter.write(manifest, previewPairs(imagesDir, outputs.tokens()), preview);
        }
        Path plot = null;
        if (options.codebookPlotFile() != null && !outputs.tokens().isEmpty()) {
            plot = options.codebookPlotFile();
            CodebookPlot.write(codeCounts, manifest.modelId() + " " + manifest.modelVersion(), plot);
        }
        return new DemoReport(
                files.size(),
                outputs.tokens().size(),
                outputs.features().size(),
                outputs.deadLetters().size(),
                new TreeMap<>(reasons),
                jobSeconds,
                usage,
                outputs.tokens().isEmpty() ? 0 : quantErrorSum / outputs.tokens().size(),
                previewPsnr,
                PipelineMetrics.sampledPsnr(plan.metrics().labels()),
                manifest.modelId(),
                preview,
                plot,
                PipelineMetrics.port(),
                runReport);
    }

    private static List<PreviewWriter.Pair> previewPairs(Path imagesDir, List<TokenRecord> tokens) throws IOException {
        List<TokenRecord> sorted = new ArrayList<>(tokens);
        sorted.sort(Comparator.comparing(TokenRecord::getId));
        List<PreviewWriter.Pair> pairs = new ArrayList<>();
        for (TokenRecord record : sorted.subList(0, Math.min(PREVIEW_COLUMNS, sorted.size()))) {
            pairs.add(new PreviewWriter.Pair(
                    Files.readAllBytes(imagesDir.resolve(record.getId())), TokenIds.decode(record.getTokenIds(), record.getDtype())));
        }
        return pairs;
    }

    private static List<Path> listFiles(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
