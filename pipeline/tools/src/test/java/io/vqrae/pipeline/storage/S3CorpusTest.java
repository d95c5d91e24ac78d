package io.vqrae.pipeline.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusJob;
import io.vqrae.pipeline.corpus.CorpusReader;
import io.vqrae.pipeline.corpus.CorpusRun;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.ImageStages;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.testing.FailOnceAfterCheckpoint;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * The local commands against a real S3 server ({@link S3Server}, s3proxy): the corpus's shards, the model and
 * every output and checkpoint in buckets, reached through Flink's own S3 plugin ({@code flink-s3-fs-hadoop}, loaded
 * from this module's {@code target/plugins} as {@code bin/vqrae} loads it) with Flink's {@code s3.*} keys.
 */
class S3CorpusTest {
    private static final String SHARDS = "s3://corpus/shards/*.tar";
    private static final String MODEL = "s3://models/tiny";

    @TempDir
    static Path dir;

    private static S3Server server;
    private static TestCorpus corpus;
    private static Map<String, int[]> tokensBySha;

    @BeforeAll
    static void startServerAndUpload() throws Exception {
        server = S3Server.start(dir.resolve("s3"), "corpus", "tokens", "models");
        ObjectStores.initializeLocal(JobConfig.fromMap(server.settingsMap()).s3());
        corpus = TestCorpus.write(dir.resolve("corpus"), 8, 0);
        for (Path shard : corpus.shards()) {
            upload(shard, "s3://corpus/shards/" + shard.getFileName());
        }
        try (Stream<Path> files = Files.list(TestPaths.tinyModel())) {
            for (Path file : files.toList()) {
                upload(file, MODEL + "/" + file.getFileName());
            }
        }
        tokensBySha = corpus.tokensBySha256(dir.resolve("as-files"));
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = JobConfig.OutputFormat.class, names = {"WEBDATASET", "PARQUET"})
    void tokenizeCorpus_fromS3ShardsWithAModelFromS3ToS3_everyKeyOnceWithTheTokensOfTokenize(JobConfig.OutputFormat format) throws Exception {
        String output = "s3://tokens/cli-" + format.name().toLowerCase(Locale.ROOT);
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", output,
                "--format", format.name().toLowerCase(Locale.ROOT), "--model", MODEL,
                "--set", "batching.max-size=4", "--set", "checkpoint.interval=500ms"));
        args.addAll(server.settings());
        assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();

        assertEveryShardKeyEndsOnce(download(output, dir.resolve("cli-" + format)), format);
        // The run kept its state in the bucket: checkpoints under OUTPUT/_state while it ran.
        assertThat(server.requests()).anyMatch(request -> request.method().equals("PUT")
                && request.path().startsWith("tokens/cli-" + format.name().toLowerCase(Locale.ROOT) + "/" + CorpusRun.STATE_FOLDER + "/"));
    }

    @ParameterizedTest
    @EnumSource(value = JobConfig.OutputFormat.class, names = {"WEBDATASET", "PARQUET"})
    void aFailureAfterACheckpointRestoresFromTheBucket_everyKeyEndsOnce(JobConfig.OutputFormat format) throws Exception {
        String output = "s3://tokens/failover-" + format.name().toLowerCase(Locale.ROOT);
        Map<String, String> settings = new LinkedHashMap<>(server.settingsMap());
        settings.putAll(Map.of("model.dir", MODEL, "corpus.format", format.name(), "checkpoint.interval", "300ms",
                "batching.max-size", "4", "batching.max-delay", "1h", "parallelism.decode", "2"));
        JobConfig config = JobConfig.fromMap(settings);
        ObjectStores.initializeLocal(config.s3());
        JobPlan plan = JobPlan.forFiles(config, "s3-failover");
        CorpusJob job = new CorpusJob(plan, CorpusInputs.resolve(List.of(SHARDS)), output);

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
        // Checkpoints where tokenize-corpus keeps them, in the bucket: the restart restores from there.
        env.configure(CorpusRun.of(output, null).checkpointSettings(null));
        ImageStages.configure(env, config);
        FailOnceAfterCheckpoint.reset();
        DataStream<InputImage> images = job.images(env).map(new FailOnceAfterCheckpoint()).setParallelism(1);
        job.write(images);
        env.execute("s3-failover");
        assertThat(FailOnceAfterCheckpoint.FAILED.get()).as("failure was injected").isTrue();

        assertEveryShardKeyEndsOnce(download(output, dir.resolve("failover-" + format)), format);
    }

    @Test
    void load_fromS3ShardsIntoKafka_writesEveryImage() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024)) {
            List<String> args = new ArrayList<>(List.of("load", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "s3.images",
                    "--input", SHARDS));
            args.addAll(server.settings());
            assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();

            JobConfig config = JobConfig.fromMap(Map.of("kafka.bootstrap-servers", kafka.bootstrapServers()));
            Map<String, byte[]> byId = new HashMap<>();
            for (ImageRecord record : OutputReader.read(config.kafka(), "s3.images", ImageRecord.getDecoder(), Duration.ofMinutes(1))) {
                assertThat(byId.put(record.getId(), bytes(record.getImage()))).as(record.getId()).isNull();
                assertThat(record.getSourceUri()).startsWith("s3://corpus/shards/0000");
            }
            Map<String, byte[]> expected = new HashMap<>(corpus.images());
            expected.keySet().removeIf(id -> !inShard(id));
            assertThat(byId.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
            expected.forEach((id, bytes) -> assertThat(byId.get(id)).as(id).isEqualTo(bytes));
        }
    }

    @Test
    void wrongCredentials_failBeforeTheJobInOneLineNamingTheBucketAndTheEndpoint() throws Exception {
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", "s3://tokens/never", "--model", MODEL));
        args.addAll(server.settings());
        args.addAll(List.of("--set", "s3.secret-key=not-" + server.secretKey()));
        Outcome outcome = Outcome.of(args);
        assertThat(outcome.exitCode).isEqualTo(1);
        assertThat(outcome.err).isEqualTo("vqrae: S3 bucket 'corpus' at " + server.endpoint() + ": access denied; check the credentials"
                + " (s3.access-key and s3.secret-key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" + System.lineSeparator());
        assertThat(outcome.err).doesNotContain(server.secretKey());
    }

    @Test
    void aMissingBucket_failsBeforeTheJobInOneLineNamingTheBucketAndTheEndpoint() throws Exception {
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", "s3://no-such-bucket/tokens", "--model", MODEL));
        args.addAll(server.settings());
        Outcome outcome = Outcome.of(args);
        assertThat(outcome.exitCode).isEqualTo(1);
        assertThat(outcome.err).isEqualTo("vqrae: S3 bucket 'no-such-bucket' does not exist at " + server.endpoint() + System.lineSeparator());
    }

    /** What a command returned and printed to its error stream. */
    private record Outcome(int exitCode, String err) {
        static Outcome of(List<String> args) {
            CommandLine cli = VqraeCli.commandLine();
            StringWriter err = new StringWriter();
            cli.setErr(new PrintWriter(err, true));
            return new Outcome(cli.execute(args.toArray(String[]::new)), err.toString());
        }
    }

    private void assertEveryShardKeyEndsOnce(Path out, JobConfig.OutputFormat format) throws IOException {
        Map<String, String> deadLetters = new HashMap<>();
        for (DeadLetterRecord record : CorpusReader.open(out.toString(), true, false).deadLetters()) {
            assertThat(deadLetters.put(record.getId(), record.getReason())).as("second dead letter of " + record.getId()).isNull();
        }
        Map<String, String> expectedDeadLetters = new HashMap<>(corpus.broken());
        expectedDeadLetters.put(corpus.noImage(), "malformed_record");
        assertThat(deadLetters).isEqualTo(expectedDeadLetters);

        Map<String, int[]> tokens = new HashMap<>();
        if (format == JobConfig.OutputFormat.PARQUET) {
            for (TokenRecord record : ParquetFiles.readFolder(out.resolve(OutputFolders.TOKENS), TokenRecord.class)) {
                assertThat(tokens.put(record.getId(), TokenIds.decode(record.getTokenIds(), record.getDtype()))).as(record.getId()).isNull();
            }
        } else {
            CorpusReader.open(out.toString(), false, false).forEach(sample ->
                    assertThat(tokens.put(sample.id(), sample.tokenIds())).as(sample.id()).isNull());
        }
        List<String> expected = corpus.decodable().stream().filter(S3CorpusTest::inShard).toList();
        assertThat(tokens.keySet()).containsExactlyInAnyOrderElementsOf(expected);
        for (String id : expected) {
            assertThat(tokens.get(id)).as(id).containsExactly(tokensBySha.get(TestCorpus.sha256(corpus.images().get(id))));
        }
    }

    /** Whether {@code id} is a shard's key (the loose folder is not among the inputs here). */
    private static boolean inShard(String id) {
        return id.chars().allMatch(Character::isDigit);
    }

    private static void upload(Path file, String uri) throws IOException {
        org.apache.flink.core.fs.Path target = new org.apache.flink.core.fs.Path(uri);
        try (OutputStream out = target.getFileSystem().create(target, FileSystem.WriteMode.OVERWRITE)) {
            Files.copy(file, out);
        }
    }

    /** The objects under {@code uri}, read back from the bucket into {@code local}. */
    private static Path download(String uri, Path local) throws IOException {
        org.apache.flink.core.fs.Path folder = new org.apache.flink.core.fs.Path(uri);
        FileSystem fs = folder.getFileSystem();
        Files.createDirectories(local);
        for (FileStatus status : fs.listStatus(folder)) {
            Path target = local.resolve(status.getPath().getName());
            if (status.isDir()) {
                download(status.getPath().toString(), target);
            } else {
                try (InputStream in = fs.open(status.getPath())) {
                    Files.copy(in, target);
                }
            }
        }
        return local;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
