package io.vqrae.pipeline.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusReader;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.webdataset.ShardIndex;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardRecords;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.job.ImageStages;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.testing.FailOnceAfterCheckpoint;
import io.vqrae.pipeline.testing.ObservedRun;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code tokenize-corpus} end to end on a real MiniCluster: img2dataset shards and a folder in, files out. */
class CorpusJobTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path corpusDir;

    private static TestCorpus corpus;
    /** Token ids of each image's bytes (by SHA-256), from the engine of {@code bin/vqrae tokenize} ({@link TestCorpus#tokensBySha256}). */
    private static Map<String, int[]> tokensBySha;

    @BeforeAll
    static void writeCorpus() throws Exception {
        corpus = TestCorpus.write(corpusDir, 8, 4);
        tokensBySha = corpus.tokensBySha256(corpusDir.resolve("as-files"));
    }

    @ParameterizedTest
    @EnumSource(JobConfig.OutputFormat.class)
    void everyKeyEndsOnceWithTheTokensOfTokenizeAndItsMetadata(JobConfig.OutputFormat format, @TempDir Path out) throws Exception {
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--output", out.toString(),
                "--format", format.name().toLowerCase(Locale.ROOT), "--model", MODEL_DIR.toString(),
                "--set", "batching.max-size=4", "--set", "checkpoint.interval=500ms", "--set", "parallelism.source=2", "--input"));
        args.addAll(corpus.inputs());
        assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();

        Map<String, String> deadLetters = deadLetters(out);
        Map<String, String> expectedDeadLetters = new HashMap<>(corpus.broken());
        expectedDeadLetters.put(corpus.noImage(), "malformed_record");
        assertThat(deadLetters).isEqualTo(expectedDeadLetters);

        List<String> ids = new ArrayList<>();
        Map<String, int[]> tokens = new HashMap<>();
        CorpusReader.open(out.toString(), false, false).forEach(sample -> {
            ids.add(sample.id());
            tokens.put(sample.id(), sample.tokenIds());
            assertThat(sample.features().shape()).as(sample.id()).containsExactly(256, 128);
            assertMetadata(sample);
        });
        if (format == JobConfig.OutputFormat.PARQUET) {
            // The JVM reader (no Hadoop) agrees with parquet-avro's own over Hadoop's client.
            Map<String, int[]> byHadoop = new HashMap<>();
            for (TokenRecord record : ParquetFiles.readFolder(out.resolve(OutputFolders.TOKENS), TokenRecord.class)) {
                byHadoop.put(record.getId(), TokenIds.decode(record.getTokenIds(), record.getDtype()));
            }
            assertThat(byHadoop).containsOnlyKeys(tokens.keySet());
            byHadoop.forEach((id, expected) -> assertThat(tokens.get(id)).as(id).containsExactly(expected));
            assertThat(ParquetFiles.readFolder(out.resolve(OutputFolders.FEATURES), FeatureRecord.class))
                    .extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(corpus.decodable());
            assertCaptionsThroughDuckDb(out);
        }
        assertThat(ids).containsExactlyInAnyOrderElementsOf(corpus.decodable());
        for (String id : ids) {
            assertThat(tokens.get(id)).as(id).containsExactly(tokensBySha.get(TestCorpus.sha256(corpus.images().get(id))));
        }

        if (format == JobConfig.OutputFormat.WEBDATASET) {
            // The index names every shard with its samples; the shards hold exactly the tokenized ids.
            ShardIndex index = ShardIndex.read(new org.apache.flink.core.fs.Path(out.resolve(OutputFolders.WEBDATASET).toUri()));
            assertThat(index.samples()).isEqualTo(ids.size());
            assertThat(index.shards()).extracting(ShardRecords.Shard::url).allMatch(url -> url.matches("shard-\\d{3}-\\d{6}\\.tar"));
            assertThat(out.resolve(CorpusRun.STATE_FOLDER).resolve("checkpoints")).doesNotExist();
        }

        JsonNode manifest = JSON.readTree(out.resolve(CorpusManifest.FILE_NAME).toFile());
        assertThat(manifest.get("format").asText()).isEqualTo(format.name().toLowerCase(Locale.ROOT));
        assertThat(manifest.get("codebook_sha256").asText()).isEqualTo(TestPaths.tinyManifest().codebookSha256());
        assertThat(JSON.treeToValue(manifest.get("counts"), CorpusManifest.Counts.class)).isEqualTo(new CorpusManifest.Counts(
                corpus.images().size() + 1, ids.size(), ids.size(), expectedDeadLetters.size(), 0));
    }

    @ParameterizedTest
    @EnumSource(JobConfig.OutputFormat.class)
    void dedupTokenizesEachDistinctImageOnceAndEveryKeyEndsOnceAcrossAFailure(JobConfig.OutputFormat format, @TempDir Path out)
            throws Exception {
        JobConfig config = JobConfig.fromMap(Map.of(
                "model.dir", MODEL_DIR.toString(), "corpus.format", format.name(), "corpus.dedup", "true", "checkpoint.interval", "300ms",
                "batching.max-size", "4", "batching.max-delay", "1h", "parallelism.decode", "2"));
        JobPlan plan = JobPlan.forFiles(config, "corpus-failover");
        CorpusJob job = new CorpusJob(plan, CorpusInputs.resolve(corpus.inputs()), out.toString());

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
        ImageStages.configure(env, config);
        FailOnceAfterCheckpoint.reset();
        DataStream<InputImage> images = job.images(env).map(new FailOnceAfterCheckpoint()).setParallelism(1);
        job.write(images);
        JobExecutionResult result = env.execute("corpus-failover");
        assertThat(FailOnceAfterCheckpoint.FAILED.get()).as("failure was injected").isTrue();

        DedupOutcome outcome = DedupOutcome.read(out, format);
        outcome.assertEveryInputEndsOnce(CorpusManifest.of(result, config, plan.manifest()));
    }

    @ParameterizedTest
    @EnumSource(JobConfig.OutputFormat.class)
    void dedupOverDuplicateHeavyInputsWithParallelismAboveOneRunsWithoutARestart(JobConfig.OutputFormat format, @TempDir Path out)
            throws Exception {
        JobConfig config = JobConfig.fromMap(Map.of(
                "model.dir", MODEL_DIR.toString(), "corpus.format", format.name(), "corpus.dedup", "true", "checkpoint.interval", "200ms",
                "batching.max-size", "4", "parallelism.source", "2", "parallelism.decode", "2", "parallelism.tokenizer", "2",
                "corpus.samples-per-shard", "3"));
        JobPlan plan = JobPlan.forFiles(config, "corpus-dedup-parallel");
        CorpusJob job = new CorpusJob(plan, CorpusInputs.resolve(corpus.inputs()), out.toString());
        ObservedRun.Result run = ObservedRun.run(job::attach, "corpus-dedup-parallel", 2);

        assertThat(run.status()).isEqualTo(JobStatus.FINISHED);
        assertThat(run.restarts()).as("task restarts").isZero();
        DedupOutcome outcome = DedupOutcome.read(out, format);
        outcome.assertEveryInputEndsOnce(CorpusManifest.of(run.accumulators(), config, plan.manifest()));
        if (format == JobConfig.OutputFormat.WEBDATASET) {
            // Every input's own caption comes back beside its image's tokens, duplicates' too.
            for (String id : corpus.captions().keySet()) {
                CorpusSample sample = outcome.samples.get(id);
                if (sample == null) {
                    assertThat(outcome.deadLetters).as(id).containsKey(id);
                    continue;
                }
                assertThat(sample.text()).as(id).isEqualTo(corpus.captions().get(id));
                if (corpus.broken().containsKey(id)) {
                    assertThat(sample.tokenIds()).as("%s, a copy of a dead letter", id).isNull();
                } else {
                    assertThat(sample.tokenIds()).as(id).containsExactly(tokensBySha.get(TestCorpus.sha256(corpus.images().get(id))));
                }
            }
        }
    }

    /** What a dedup run wrote, read back: its samples by id (tokenized and duplicates) and dead letters by id. */
    private record DedupOutcome(Map<String, CorpusSample> samples, Map<String, String> deadLetters) {

        static DedupOutcome read(Path out, JobConfig.OutputFormat format) throws IOException {
            Map<String, CorpusSample> samples = new HashMap<>();
            for (CorpusSample sample : CorpusJobTest.samples(out, format)) {
                assertThat(samples.put(sample.id(), sample)).as("second sample of " + sample.id()).isNull();
            }
            return new DedupOutcome(samples, CorpusJobTest.deadLetters(out));
        }

        /**
         * Every input ends once, as a tokenized sample, a duplicate or a dead letter; one tokenized sample per
         * distinct decodable image, with tokenize's tokens; every duplicate names a first copy of its image (a
         * dead letter when that copy did not decode); and the counts agree.
         */
        void assertEveryInputEndsOnce(CorpusManifest manifest) {
            assertThat(samples.keySet()).doesNotContainAnyElementsOf(deadLetters.keySet());
            List<String> all = new ArrayList<>(samples.keySet());
            all.addAll(deadLetters.keySet());
            List<String> expectedIds = new ArrayList<>(corpus.images().keySet());
            expectedIds.add(corpus.noImage());
            assertThat(all).containsExactlyInAnyOrderElementsOf(expectedIds);

            Map<String, List<String>> idsBySha = corpus.decodable().stream()
                    .collect(Collectors.groupingBy(id -> TestCorpus.sha256(corpus.images().get(id))));
            List<CorpusSample> tokenized = samples.values().stream().filter(s -> s.duplicateOf() == null).toList();
            assertThat(tokenized).extracting(CorpusSample::imageSha256).containsExactlyInAnyOrderElementsOf(idsBySha.keySet());
            for (CorpusSample sample : tokenized) {
                assertThat(sample.tokenIds()).as(sample.id()).containsExactly(tokensBySha.get(sample.imageSha256()));
            }
            List<CorpusSample> duplicates = samples.values().stream().filter(s -> s.duplicateOf() != null).toList();
            for (CorpusSample duplicate : duplicates) {
                CorpusSample first = samples.get(duplicate.duplicateOf());
                if (first == null) {
                    // The broken image's other copy: the first one read is the dead letter, this one names it.
                    assertThat(deadLetters).as(duplicate.id()).containsKey(duplicate.duplicateOf());
                    assertThat(corpus.broken()).as(duplicate.id()).containsKeys(duplicate.id(), duplicate.duplicateOf());
                    assertThat(duplicate.tokenIds()).as(duplicate.id()).isNull();
                    continue;
                }
                assertThat(first.duplicateOf()).as(duplicate.id()).isNull();
                assertThat(first.imageSha256()).as(duplicate.id()).isEqualTo(duplicate.imageSha256());
            }
            // Every decodable copy beyond the first of its image, and the broken image's second copy.
            assertThat(duplicates).hasSize(corpus.decodable().size() - idsBySha.size() + 1);
            assertThat(deadLetters).hasSize(corpus.broken().size() - 1 + 1);
            assertThat(manifest.counts()).isEqualTo(new CorpusManifest.Counts(
                    expectedIds.size(), tokenized.size(), tokenized.size(), deadLetters.size(), duplicates.size()));
        }
    }

    /** Every sample of an output that lacks {@code _SUCCESS.json}: Parquet through parquet-avro, the rest through {@link CorpusReader}. */
    private static List<CorpusSample> samples(Path out, JobConfig.OutputFormat format) throws IOException {
        List<CorpusSample> samples = new ArrayList<>();
        CorpusReader reader = CorpusReader.open(out.toString(), true, false);
        if (format != JobConfig.OutputFormat.PARQUET) {
            reader.forEach(samples::add);
            return samples;
        }
        for (TokenRecord tokens : ParquetFiles.readFolder(out.resolve(OutputFolders.TOKENS), TokenRecord.class)) {
            samples.add(CorpusSample.of(tokens, null));
        }
        reader.duplicates().forEach(duplicate -> samples.add(CorpusSample.of(duplicate)));
        return samples;
    }

    /**
     * The Parquet files as DuckDB's JDBC driver (a reader nobody here wrote) reads them: each tokenized input's
     * caption and metadata in the token and the feature files, and the file it came from as its source URI.
     */
    private static void assertCaptionsThroughDuckDb(Path out) throws Exception {
        for (String folder : List.of(OutputFolders.TOKENS, OutputFolders.FEATURES)) {
            Map<String, String> captions = new HashMap<>();
            try (Connection duckdb = DriverManager.getConnection("jdbc:duckdb:");
                    Statement query = duckdb.createStatement();
                    ResultSet rows = query.executeQuery("SELECT id, text, metadata, source_uri FROM read_parquet('"
                            + out.resolve(folder) + "/**/*.parquet')")) {
                while (rows.next()) {
                    String id = rows.getString("id");
                    captions.put(id, rows.getString("text"));
                    String metadata = corpus.metadata().get(id);
                    assertThat(rows.getString("metadata") == null ? null : JSON.readTree(rows.getString("metadata")))
                            .as(folder + " " + id).isEqualTo(metadata == null ? null : JSON.readTree(metadata));
                    assertThat(rows.getString("source_uri")).as(folder + " " + id).startsWith("file:/");
                }
            }
            Map<String, String> expected = new HashMap<>();
            corpus.decodable().forEach(id -> expected.put(id, corpus.captions().get(id)));
            assertThat(captions).as(folder).isEqualTo(expected);
        }
    }

    private static void assertMetadata(CorpusSample sample) {
        String expected = corpus.metadata().get(sample.id());
        try {
            assertThat(sample.metadataJson() == null ? null : JSON.readTree(sample.metadataJson()))
                    .as(sample.id()).isEqualTo(expected == null ? null : JSON.readTree(expected));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(sample.text()).as(sample.id()).isEqualTo(corpus.captions().get(sample.id()));
    }

    private static Map<String, String> deadLetters(Path out) throws IOException {
        Map<String, String> reasons = new HashMap<>();
        for (DeadLetterRecord record : CorpusReader.open(out.toString(), true, false).deadLetters()) {
            assertThat(reasons.put(record.getId(), record.getReason())).as("second dead letter of " + record.getId()).isNull();
        }
        return reasons;
    }
}
