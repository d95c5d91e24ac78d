package io.vqrae.pipeline.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.operators.report.RunReport;
import io.vqrae.operators.report.Stage;
import io.vqrae.pipeline.cli.NoUsableInputException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.files.FileTokenizer;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code vqrae bench}: where the time goes, in one table. Each part measures one limit of the pipeline on the
 * same photos and prints its row as soon as it has it; the ratios that matter (the job against the ideal
 * pipelined rate, Java decode against Pillow, batching's gain) are computed from sides measured in the same
 * run. Results go to a JSON report and a throughput-against-batch plot as well.
 */
public final class Benchmark {
    /** The parts, in the order they run. */
    public enum Part { ENGINE, DECODE, CEILING, STEADY, BATCH1, SERIALIZATION, SOAK, CORPUS, CORPUS_RUNS, DRAFT, CORPUS_SOAK }

    private static final Duration SOAK_SAMPLE_EVERY = Duration.ofSeconds(10);

    /** Batch sizes of the engine part. */
    static final List<Integer> BATCH_SIZES = List.of(1, 2, 4, 8, 16, 32, 64);

    /**
     * What to measure.
     *
     * @param model the real model (parts engine, steady, batch1, soak)
     * @param nullModel the null model: the real one's inputs and outputs at no cost (part ceiling)
     * @param images photos; files in sub-folders are grouped by folder (a {@code vqrae.formats corpus}),
     *     others by their extension. The job parts use the {@code jpeg} group when there is one, else every file
     * @param parts the parts to run
     * @param seconds length of one timed measurement
     * @param rounds alternating rounds of each two-sided comparison
     * @param jobImages images through the job per steady-state run
     * @param soak length of each soak (part soak, part corpus-soak)
     * @param soakRate images/s fed to the streaming job in part soak; 0 for 70 % of part steady's rate (50 without it)
     * @param corpusRuns consecutive {@code tokenize-corpus} runs of part corpus-runs
     * @param largePhotos JPEG photos of several megapixels, for part draft (Debian's wallpapers)
     * @param python interpreter with Pillow, for the Pillow side of the decode part and the ideal
     * @param pythonPath {@code models/python}
     * @param jobSettings job config keys for every job part (e.g. {@code batching.max-size})
     * @param report where the JSON report goes, or null
     * @param plot where the plot goes, or null
     */
    public record Options(Path model, Path nullModel, Path images, Set<Part> parts, double seconds, int rounds,
            int jobImages, Duration soak, double soakRate, int corpusRuns, Path largePhotos, String python, Path pythonPath, Map<String, String> jobSettings, Path report,
            Path plot) {
        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(images, "images");
            parts = parts.isEmpty() ? EnumSet.noneOf(Part.class) : EnumSet.copyOf(parts);
            jobSettings = Map.copyOf(jobSettings);
            if (parts.contains(Part.CEILING) && nullModel == null) {
                throw new IllegalArgumentException("The ceiling part needs the null model (--null-model)");
            }
        }
    }

    private final Options options;
    private final PrintStream out;
    private final ModelManifest manifest;
    private final Map<String, List<Path>> groups;
    private final List<Path> jobFiles;
    private final List<byte[]> jobPhotos;
    private final int cores = Runtime.getRuntime().availableProcessors();
    private final Map<String, Object> report = new LinkedHashMap<>();

    private Benchmark(Options options, PrintStream out) throws Exception {
        this.options = options;
        this.out = out;
        this.manifest = JobConfig.fromMap(Map.of("model.dir", options.model().toString())).model().loadManifest();
        this.groups = group(options.images());
        requireImages(groups, manifest, out);
        this.jobFiles = groups.getOrDefault("jpeg", groups.values().stream().flatMap(List::stream).toList());
        this.jobPhotos = new ArrayList<>();
        for (Path file : jobFiles) {
            jobPhotos.add(Files.readAllBytes(file));
        }
    }

    /**
     * Refuses photos the model's decoder cannot decode, each named with its reason: a benchmark of files that
     * are no images would measure rejections.
     *
     * @throws NoUsableInputException if any photo does not decode
     */
    private static void requireImages(Map<String, List<Path>> groups, ModelManifest manifest, PrintStream out) throws IOException {
        ImageDecoder decoder = manifest.imageDecoder().build();
        long photos = 0;
        long unusable = 0;
        for (List<Path> files : groups.values()) {
            for (Path file : files) {
                photos++;
                try {
                    decoder.decode(Files.readAllBytes(file));
                } catch (ImageDecodeException e) {
                    out.printf("bench: %s is not a photo the model decodes (%s)%n", file, e.getMessage());
                    unusable++;
                }
            }
        }
        if (unusable > 0) {
            throw new NoUsableInputException(photos == 1 ? "the photo could not be decoded (reason above)"
                    : unusable == photos ? "none of the " + photos + " photos could be decoded (reasons above)"
                    : unusable + " of " + photos + " photos could not be decoded (reasons above)");
        }
    }

    public static Map<String, Object> run(Options options, PrintStream out) throws Exception {
        return new Benchmark(options, out).run();
    }

    private Map<String, Object> run() throws Exception {
        report.put("machine", Map.of("cores", cores, "java", System.getProperty("java.version"),
                "os", System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                "max_heap_bytes", Runtime.getRuntime().maxMemory()));
        report.put("model", manifest.modelId() + " " + manifest.modelVersion());
        report.put("images", Map.of("folder", options.images().toString(), "job_photos", jobPhotos.size()));
        out.printf(Locale.ROOT, "vqrae bench: %s, %d photos for the job (%s), %d cores, %.0f s x %d rounds per comparison%n%n",
                manifest.modelId(), jobPhotos.size(), options.images(), cores, options.seconds(), options.rounds());
        out.println("| part | measure | result | against |");
        out.println("|---|---|---|---|");

        List<EngineBench.Rates> engine = options.parts().contains(Part.ENGINE) ? engine() : List.of();
        DecodeLimit.Rates decodeAllCores = options.parts().contains(Part.DECODE) ? decode() : null;
        if (options.parts().contains(Part.CEILING)) {
            ceiling();
        }
        JobBench.Steady steady = null;
        if (options.parts().contains(Part.STEADY)) {
            steady = steady(engine, decodeAllCores);
        }
        JobBench.Steady batchOne = null;
        if (options.parts().contains(Part.BATCH1)) {
            batchOne = batchOne(steady, engine);
        }
        if (options.parts().contains(Part.SERIALIZATION)) {
            serialization();
        }
        if (options.parts().contains(Part.SOAK)) {
            soak(steady);
        }
        if (options.parts().contains(Part.CORPUS)) {
            corpus();
        }
        if (options.parts().contains(Part.CORPUS_RUNS)) {
            corpusRuns();
        }
        if (options.parts().contains(Part.DRAFT)) {
            draft();
        }
        if (options.parts().contains(Part.CORPUS_SOAK)) {
            corpusSoak();
        }
        if (options.plot() != null && !engine.isEmpty()) {
            plot(engine, steady, batchOne);
        }
        if (options.report() != null) {
            Path parent = options.report().toAbsolutePath().getParent();
            Files.createDirectories(parent);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.report().toFile(), report);
            out.println();
            out.println("report: " + options.report());
        }
        return report;
    }

    private List<EngineBench.Rates> engine() throws Exception {
        JobConfig config = jobConfig(options.model());
        SessionConfig session = config.model().session(manifest, 0);
        List<EngineBench.Rates> rates = new EngineBench(manifest, session).run(BATCH_SIZES, options.seconds(), options.rounds());
        for (EngineBench.Rates r : rates) {
            row("1 engine", "encoder graph, batch " + r.batchSize() + ", pre-made uint8",
                    fmt("bare ORT %.0f images/s", r.bare()),
                    fmt("TokenizerSession %.0f (%.2fx)", r.session(), r.session() / r.bare()));
        }
        report.put("engine", rates);
        return rates;
    }

    private DecodeLimit.Rates decode() throws Exception {
        Path folders = Files.createTempDirectory("vqrae-bench-groups-");
        try (DecodeLimit limit = new DecodeLimit(manifest, options.python(), options.pythonPath(), cores, options.seconds())) {
            Map<String, List<byte[]>> payloads = new TreeMap<>();
            Map<String, Path> groupFolders = new TreeMap<>();
            for (Map.Entry<String, List<Path>> group : groups.entrySet()) {
                List<byte[]> bytes = new ArrayList<>();
                Path folder = Files.createDirectories(folders.resolve(group.getKey()));
                for (Path file : group.getValue()) {
                    bytes.add(Files.readAllBytes(file));
                    Files.createSymbolicLink(folder.resolve(Integer.toString(bytes.size())), file.toAbsolutePath());
                }
                payloads.put(group.getKey(), bytes);
                groupFolders.put(group.getKey(), folder);
            }
            limit.warmUp(new ArrayList<>(payloads.values()));
            List<DecodeLimit.Rates> perThread = new ArrayList<>();
            for (String group : payloads.keySet()) {
                DecodeLimit.Rates r = limit.measure(group, payloads.get(group), groupFolders.get(group), options.seconds(),
                        options.rounds(), 1);
                perThread.add(r);
                row("2 decode", "decode + preprocess, " + group + " (" + r.files() + " files), 1 thread",
                        fmt("Java %.0f images/s", r.java()), fmt("Pillow %.0f (Java/Pillow %.2f)", r.pillow(), r.ratio()));
            }
            String jobGroup = groups.containsKey("jpeg") ? "jpeg" : groups.keySet().iterator().next();
            DecodeLimit.Rates all = limit.measure(jobGroup, payloads.get(jobGroup), groupFolders.get(jobGroup),
                    options.seconds(), options.rounds(), cores);
            row("2 decode", "decode + preprocess, " + jobGroup + ", " + cores + " threads / processes",
                    fmt("Java %.0f images/s", all.java()), fmt("Pillow %.0f (Java/Pillow %.2f)", all.pillow(), all.ratio()));
            report.put("decode_per_thread", perThread);
            report.put("decode_all_cores", all);
            return all;
        } finally {
            try (Stream<Path> walk = Files.walk(folders)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void ceiling() throws Exception {
        JobBench.Steady s = new JobBench(options.nullModel(), jobPhotos, options.jobSettings()).steadyState(options.jobImages());
        row("3 ceiling", "whole job, null model, steady state",
                fmt("%.0f images/s, %.0f per core (CPU-second)", s.imagesPerSecond(), s.imagesPerCoreSecond()),
                fmt("target >= 200 per core: %s", s.imagesPerCoreSecond() >= 200 ? "met" : "NOT met"));
        cpuRows("3 ceiling", s);
        report.put("ceiling", steadyMap(s, runReport(s)));
    }

    /**
     * Where a job run's CPU went, in ms per image: by stage with the cost per million images at the
     * {@code report.*} prices, then per kind of thread, the five largest.
     */
    private void cpuRows(String part, JobBench.Steady s) {
        RunReport run = runReport(s);
        Map<Stage, Double> perImage = run.cpuSecondsPerImage();
        row(part, "  CPU per image by stage", String.join(", ", perImage.entrySet().stream()
                        .map(e -> fmt("%s %.2f ms", e.getKey().label(), e.getValue() * 1000)).toList()),
                run.costPerMillionImages() == null ? "cost not priced (--set report.core-hour-price=...)"
                        : fmt("cost per million images %.4f", run.costPerMillionImages()));
        s.cpu().cpuByKind().entrySet().stream().limit(5).forEach(e -> row(part, "  CPU of " + e.getKey(),
                fmt("%.2f ms per image", e.getValue() * 1000 / s.images()), ""));
    }

    /** The run report of a steady state, at the prices of the job settings. */
    private RunReport runReport(JobBench.Steady s) {
        return new RunReport(s.images(), s.cpu(), jobConfig(options.model()).report());
    }

    private JobBench.Steady steady(List<EngineBench.Rates> engine, DecodeLimit.Rates decode) throws Exception {
        JobBench.Steady s = new JobBench(options.model(), jobPhotos, options.jobSettings()).steadyState(options.jobImages());
        Map<String, Object> entry = steadyMap(s, runReport(s));
        String against = "ideal not computed (needs the engine and decode parts)";
        int batch = jobConfig(options.model()).batching().maxSize();
        EngineBench.Rates atBatch = engine.stream().filter(r -> r.batchSize() == batch).findFirst().orElse(null);
        if (atBatch != null && decode != null) {
            // One shared CPU: per image, the engine's time plus Pillow's decode time on all cores.
            double ideal = 1 / (1 / atBatch.bare() + 1 / decode.pillow());
            entry.put("ideal_images_per_second", ideal);
            entry.put("ratio_to_ideal", s.imagesPerSecond() / ideal);
            against = fmt("ideal 1/(1/%.0f + 1/%.0f) = %.0f: %.2f (target >= 0.9)", atBatch.bare(), decode.pillow(), ideal,
                    s.imagesPerSecond() / ideal);
        }
        long peakRss = JobBench.peakResidentSetBytes();
        entry.put("peak_rss_bytes", peakRss);
        row("4 steady", "whole job, " + manifest.modelId() + " (" + manifest.graph("encoder").precision() + "), batch "
                        + batch + ", after warm-up",
                fmt("%.1f images/s (%s; %.0f s run incl. start-up; peak RSS %d MiB)", s.imagesPerSecond(),
                        s.wholeRun() ? "whole run: one commit carried most images" : "between commits",
                        s.wallSeconds(), peakRss >> 20),
                against);
        cpuRows("4 steady", s);
        report.put("steady", entry);

        double tokenize = tokenizeRate();
        Map<String, Object> tokenizeEntry = new LinkedHashMap<>();
        tokenizeEntry.put("images_per_second", tokenize);
        String tokenizeAgainst = "";
        if (entry.containsKey("ideal_images_per_second")) {
            double ideal = (double) entry.get("ideal_images_per_second");
            tokenizeEntry.put("ratio_to_ideal", tokenize / ideal);
            tokenizeAgainst = fmt("ideal %.0f: %.2f (target >= 0.9)", ideal, tokenize / ideal);
        }
        row("4 steady", "vqrae tokenize (files, no Kafka/Flink), " + cores + " decode threads, after warm-up",
                fmt("%.1f images/s", tokenize), tokenizeAgainst);
        report.put("tokenize", tokenizeEntry);
        return s;
    }

    /**
     * Images/s of {@link FileTokenizer} (what {@code vqrae tokenize} runs) on the job's photos, as many times over
     * as the job takes images, timed after the first quarter like the job.
     */
    private double tokenizeRate() throws Exception {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < options.jobImages(); i++) {
            files.add(jobFiles.get(i % jobFiles.size()));
        }
        JobConfig config = jobConfig(options.model());
        long warmUp = (long) (files.size() * JobBench.WARM_UP_SHARE);
        long[] start = {0};
        long[] count = {0};
        new FileTokenizer(config, manifest, cores).run(files, new FileTokenizer.Listener() {
            @Override
            public void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos) {
                if (++count[0] == warmUp) {
                    start[0] = System.nanoTime();
                }
            }

            @Override
            public void rejected(Path file, ReasonCode reason, String message) {
                throw new IllegalStateException("The bench photo " + file + " was rejected: " + reason + ": " + message);
            }
        });
        return (count[0] - warmUp) / ((System.nanoTime() - start[0]) / 1e9);
    }

    private JobBench.Steady batchOne(JobBench.Steady batched, List<EngineBench.Rates> engine) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(options.jobSettings());
        settings.put("batching.max-size", "1");
        JobBench.Steady s = new JobBench(options.model(), jobPhotos, settings).steadyState(options.jobImages());
        Map<String, Object> entry = steadyMap(s, runReport(s));
        String against = "";
        if (batched != null) {
            entry.put("batching_gain", batched.imagesPerSecond() / s.imagesPerSecond());
            against = fmt("batching gain %.2fx (job at batch %d)", batched.imagesPerSecond() / s.imagesPerSecond(),
                    jobConfig(options.model()).batching().maxSize());
        }
        row("5 batch-1", "whole job, one image per encoder run", fmt("%.0f images/s", s.imagesPerSecond()), against);
        engine.stream().filter(r -> r.batchSize() == 1).findFirst().ifPresent(one -> {
            EngineBench.Rates best = engine.stream().max(java.util.Comparator.comparingDouble(EngineBench.Rates::bare)).orElseThrow();
            row("5 batch-1", "engine, batch 1", fmt("%.0f images/s", one.bare()),
                    fmt("best batch %d: %.0f (%.2fx)", best.batchSize(), best.bare(), best.bare() / one.bare()));
        });
        report.put("batch1", entry);
        return s;
    }

    private void corpus() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(options.jobSettings());
        settings.put("model.dir", options.model().toString());
        CorpusBench.Rates r = new CorpusBench(settings, manifest, cores).run(jobFiles, options.jobImages(), options.rounds());
        String warm = r.photos() + " photos (" + jobFiles.size() + " JPEGs x " + r.photos() / jobFiles.size()
                + ", distinct bytes), after warm-up";
        row("8 corpus", "vqrae tokenize, " + warm, fmt("%.1f images/s", r.tokenize()), "");
        row("8 corpus", "tokenize-corpus (WebDataset, features " + jobConfig(options.model()).features().mode() + "), " + warm,
                fmt("%.1f images/s", r.corpus()), fmt("tokenize-corpus/tokenize %.2f (target >= 0.9)", r.corpus() / r.tokenize()));
        row("8 corpus", "tokenize-corpus --dedup, " + warm + " (no duplicates)",
                fmt("%.1f images/s", r.corpusDedup()), fmt("dedup/no dedup %.2f", r.corpusDedup() / r.corpus()));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("photos", r.photos());
        entry.put("tokenize_images_per_second", r.tokenize());
        entry.put("corpus_images_per_second", r.corpus());
        entry.put("corpus_dedup_images_per_second", r.corpusDedup());
        entry.put("corpus_to_tokenize", r.corpus() / r.tokenize());
        entry.put("dedup_to_no_dedup", r.corpusDedup() / r.corpus());
        report.put("corpus", entry);
    }

    private void corpusRuns() throws Exception {
        int photos = 1_600;
        List<CorpusRunsBench.Run> runs = new CorpusRunsBench(options.model(), options.jobSettings())
                .run(jobFiles, photos, options.corpusRuns());
        List<Double> seconds = runs.stream().map(CorpusRunsBench.Run::seconds).toList();
        double median = Timing.median(seconds);
        double max = seconds.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        long slow = seconds.stream().filter(t -> t > 1.5 * median).count();
        int failures = runs.stream().mapToInt(CorpusRunsBench.Run::taskFailures).sum();
        row("9 corpus runs", runs.size() + " x bin/vqrae tokenize-corpus --dedup, " + photos + " loose photos + a shard of "
                        + CorpusRunsBench.SHARD_COPIES + " captioned copies, JVM start to exit",
                fmt("median %.1f s, max %.1f s (%.2fx)", median, max, max / median),
                fmt("%d runs above 1.5x the median; %d task failures", slow, failures));
        out.println("  runs (s): " + seconds.stream().map(t -> fmt("%.1f", t)).collect(java.util.stream.Collectors.joining(" ")));
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("photos", photos + CorpusRunsBench.SHARD_COPIES);
        entry.put("seconds", seconds);
        entry.put("median_seconds", median);
        entry.put("max_to_median", max / median);
        entry.put("runs_above_1_5x_median", slow);
        entry.put("task_failures", failures);
        report.put("corpus_runs", entry);
    }

    private void draft() throws Exception {
        List<DraftBench.Row> rows = new DraftBench(manifest, options.model(), options.python(), options.pythonPath())
                .run(options.largePhotos(), options.seconds(), options.rounds());
        for (DraftBench.Row r : rows) {
            String what = "JPEG " + r.group() + " (" + r.photos() + " photos), 1 thread";
            row("10 draft", "decode + preprocess, " + what, fmt("Java exact %.1f, draft %.1f images/s (%.1fx)",
                    r.exact().java(), r.draft().java(), r.draft().java() / r.exact().java()),
                    fmt("Pillow exact %.1f, draft %.1f (%.1fx)", r.exact().pillow(), r.draft().pillow(), r.draft().pillow() / r.exact().pillow()));
            row("10 draft", "tokens, JPEG " + r.group() + ": draft against exact (Java)", fmt("%.1f %% of positions equal", 100 * r.sameAsExact()),
                    fmt("Java draft against PyTorch on Pillow's draft: %.1f %%", 100 * r.sameAsPillowDraft()));
        }
        report.put("draft", rows);
    }

    private void serialization() throws Exception {
        SerializationBench bench = new SerializationBench();
        List<SerializationBench.Codec> codecs = bench.codecs(options.seconds());
        for (SerializationBench.Codec c : codecs) {
            row("6 serialization", "Avro single-object " + c.record() + ", " + c.bytes() + " bytes",
                    fmt("encode %.0f MB/s", c.encodeMegabytesPerSecond()), fmt("decode %.0f MB/s", c.decodeMegabytesPerSecond()));
        }
        List<SerializationBench.Produce> produce = bench.produce(options.seconds(),
                List.of(JobConfig.Compression.NONE, JobConfig.Compression.LZ4, JobConfig.Compression.ZSTD));
        for (SerializationBench.Produce p : produce) {
            row("6 serialization", "produce 576 KiB feature records to the embedded broker, " + p.compression(),
                    fmt("%.0f records/s, %.0f MB/s", p.recordsPerSecond(), p.megabytesPerSecond()), "");
        }
        report.put("serialization", Map.of("codecs", codecs, "produce", produce));
    }

    private void soak(JobBench.Steady steady) throws Exception {
        // Fed below capacity, so the soak measures memory under a steady load rather than a growing backlog.
        double rate = options.soakRate() > 0 ? options.soakRate() : steady != null ? 0.7 * steady.imagesPerSecond() : 50;
        List<JobBench.MemorySample> samples = new JobBench(options.model(), jobPhotos, options.jobSettings())
                .soak(rate, options.soak(), SOAK_SAMPLE_EVERY);
        memoryRows("7 soak", fmt("%.0f s at %.0f images/s fed", samples.get(samples.size() - 1).atSeconds(), rate), samples);
        report.put("soak", Map.of("fed_images_per_second", rate, "committed", samples.get(samples.size() - 1).committed(),
                "rss_growth", rssGrowth(samples), "samples", samples));
    }

    private void corpusSoak() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(options.jobSettings());
        settings.put("model.dir", options.model().toString());
        CorpusBench.Soak soak = new CorpusBench(settings, manifest, cores).soak(jobFiles, options.soak(), SOAK_SAMPLE_EVERY);
        List<JobBench.MemorySample> samples = soak.samples();
        JobBench.MemorySample last = samples.get(samples.size() - 1);
        memoryRows("11 corpus soak", fmt("tokenize-corpus to WebDataset, %,d photos in %.0f s", last.committed(), last.atSeconds()),
                samples);
        report.put("corpus_soak", Map.of("photos", soak.photos(), "warm_up_images_per_second", soak.warmUpRate(),
                "rss_growth", rssGrowth(samples), "samples", samples));
    }

    /**
     * The memory row of a soak: growth from the end of the settling time (a tenth of the soak, at most 10
     * minutes: JIT, heap sizing and buffers settle first) to the end.
     */
    private void memoryRows(String part, String what, List<JobBench.MemorySample> samples) {
        JobBench.MemorySample first = settled(samples);
        JobBench.MemorySample last = samples.get(samples.size() - 1);
        double rssGrowth = rssGrowth(samples);
        long peakRss = samples.stream().mapToLong(JobBench.MemorySample::rssBytes).max().orElse(0);
        row(part, what + fmt(", sampled every %d s, from minute %.0f", SOAK_SAMPLE_EVERY.toSeconds(), first.atSeconds() / 60),
                fmt("RSS %d -> %d MiB (%+.1f%%), peak %d MiB", first.rssBytes() >> 20, last.rssBytes() >> 20, rssGrowth * 100, peakRss >> 20),
                fmt("RSS beyond the committed heap %d -> %d MiB (%+.1f%%); heap committed %d -> %d, after GC %d -> %d, direct %d -> %d MiB; "
                        + "target RSS growth <= 1 %%: %s",
                        (first.rssBytes() - first.heapCommittedBytes()) >> 20, (last.rssBytes() - last.heapCommittedBytes()) >> 20,
                        100.0 * ((last.rssBytes() - last.heapCommittedBytes()) - (first.rssBytes() - first.heapCommittedBytes()))
                                / (first.rssBytes() - first.heapCommittedBytes()),
                        first.heapCommittedBytes() >> 20, last.heapCommittedBytes() >> 20,
                        first.heapAfterGcBytes() >> 20, last.heapAfterGcBytes() >> 20, first.directBytes() >> 20,
                        last.directBytes() >> 20, rssGrowth <= 0.01 ? "met" : "NOT met"));
    }

    private static JobBench.MemorySample settled(List<JobBench.MemorySample> samples) {
        double length = samples.get(samples.size() - 1).atSeconds();
        double settle = Math.min(600, length / 10.0);
        return samples.stream().filter(s -> s.atSeconds() >= settle).findFirst().orElse(samples.get(0));
    }

    private static double rssGrowth(List<JobBench.MemorySample> samples) {
        JobBench.MemorySample first = settled(samples);
        JobBench.MemorySample last = samples.get(samples.size() - 1);
        return (double) (last.rssBytes() - first.rssBytes()) / first.rssBytes();
    }

    private void plot(List<EngineBench.Rates> engine, JobBench.Steady steady, JobBench.Steady batchOne) throws IOException {
        List<BenchPlot.Series> series = new ArrayList<>();
        series.add(new BenchPlot.Series("bare ONNX Runtime", new Color(0x33, 0x66, 0xcc),
                engine.stream().map(r -> new double[] {r.batchSize(), r.bare()}).toList()));
        series.add(new BenchPlot.Series("TokenizerSession", new Color(0xee, 0x88, 0x22),
                engine.stream().map(r -> new double[] {r.batchSize(), r.session()}).toList()));
        List<double[]> job = new ArrayList<>();
        if (batchOne != null) {
            job.add(new double[] {1, batchOne.imagesPerSecond()});
        }
        if (steady != null) {
            job.add(new double[] {jobConfig(options.model()).batching().maxSize(), steady.imagesPerSecond()});
        }
        if (!job.isEmpty()) {
            series.add(new BenchPlot.Series("whole job (steady)", new Color(0x22, 0x99, 0x44), job));
        }
        BenchPlot.write(fmt("%s on %d cores: images/s against batch size", manifest.modelId(), cores), series, options.plot());
        out.println("plot: " + options.plot());
    }

    private JobConfig jobConfig(Path model) {
        Map<String, String> settings = new LinkedHashMap<>(options.jobSettings());
        settings.put("model.dir", model.toString());
        return JobConfig.fromMap(settings);
    }

    private static Map<String, Object> steadyMap(JobBench.Steady s, RunReport run) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("images_per_second", s.imagesPerSecond());
        map.put("images_per_core_second", s.imagesPerCoreSecond());
        map.put("measured_images", s.images());
        map.put("measured_seconds", s.seconds());
        map.put("wall_seconds", s.wallSeconds());
        map.put("whole_run", s.wholeRun());
        map.put("cpu_seconds_by_thread", s.cpu().cpuByKind());
        map.put("run_report", run.toJson());
        return map;
    }

    private void row(String part, String measure, String result, String against) {
        out.printf("| %s | %s | %s | %s |%n", part, measure, result, against);
        out.flush();
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    private static String extension(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String extension = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "other";
        return extension.equals("jpg") ? "jpeg" : extension;
    }

    /** Files by group: the first folder under {@code root}, or for files directly in it, their extension. */
    static Map<String, List<Path>> group(Path root) throws IOException {
        Map<String, List<Path>> groups = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
            for (Path file : walk.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
                Path relative = root.relativize(file);
                String group = relative.getNameCount() > 1 ? relative.getName(0).toString() : extension(file);
                groups.computeIfAbsent(group, g -> new ArrayList<>()).add(file);
            }
        }
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("No image files under " + root);
        }
        return groups;
    }
}
