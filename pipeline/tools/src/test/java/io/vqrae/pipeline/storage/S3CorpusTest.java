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
import io.vqrae.pipeline.testing.ChildJvm;
import io.vqrae.pipeline.testing.FailOnceAfterCheckpoint;
import io.vqrae.pipeline.testing.LogCapture;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.pipeline.testing.ReliabilitySection;
import io.vqrae.pipeline.testing.TarShard;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
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
@Tag("reliability")
class S3CorpusTest {
    private static final String SHARDS = "s3://corpus/shards/*.tar";
    private static final String MODEL = "s3://models/tiny";
    /** {@value #MANY_SHARDS} shards of one image each (the first photo of {@link TestCorpus#PHOTOS}). */
    private static final String MANY = "s3://corpus/many";
    private static final int MANY_SHARDS = 100;
    private static final byte[] MANY_IMAGE = TestPaths.testImageBytes(TestCorpus.PHOTOS.get(0));
    private static final Pattern CHECKPOINT = Pattern.compile("chk-\\d+");
    /** The rows of this class's section of docs/RELIABILITY.md, by check. */
    private static final Map<String, List<String>> ROWS = new TreeMap<>();

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
        Path shards = Files.createDirectories(dir.resolve("many"));
        for (int i = 0; i < MANY_SHARDS; i++) {
            Path tar = shards.resolve(String.format("%05d.tar", i));
            try (TarShard out = TarShard.create(tar)) {
                out.put(manyKey(i) + ".jpg", MANY_IMAGE);
            }
            upload(tar, MANY + "/" + tar.getFileName());
        }
        tokensBySha = corpus.tokensBySha256(dir.resolve("as-files"));
    }

    /** The key of the one image in shard {@code i} of {@link #MANY}. */
    private static String manyKey(int i) {
        return String.format("many%05d", i);
    }

    @AfterAll
    static void stopServerAndWriteTheSection() throws IOException {
        if (server != null) {
            server.close();
        }
        new ReliabilitySection("object-storage", "Object storage (S3)",
                "bin/vqrae's commands against a real S3 server (s3proxy " + System.getProperty("vqrae.s3proxy.version", "") + " over a folder, SigV4,"
                        + " a random key pair), through Flink's flink-s3-fs-hadoop loaded as a plugin; outputs read back from the bucket"
                        + " id by id. Written by S3CorpusTest.",
                List.of("check", "expected", "outcome"), new ArrayList<>(ROWS.values())).write();
    }

    @ParameterizedTest
    @EnumSource(value = JobConfig.OutputFormat.class, names = {"WEBDATASET", "PARQUET"})
    void tokenizeCorpus_fromS3ShardsWithAModelFromS3ToS3_everyKeyOnceWithTheTokensOfTokenize(JobConfig.OutputFormat format) throws Exception {
        String output = "s3://tokens/cli-" + format.name().toLowerCase(Locale.ROOT);
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", output,
                "--format", format.name().toLowerCase(Locale.ROOT), "--model", MODEL,
                "--set", "batching.max-size=4", "--set", "checkpoint.interval=500ms"));
        args.addAll(server.settings());
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream originalErr = System.err;
        int exitCode;
        try (LogCapture logs = LogCapture.install(Level.INFO)) {
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            try {
                exitCode = VqraeCli.commandLine().execute(args.toArray(String[]::new));
            } finally {
                System.setErr(originalErr);
            }
            // The secret key was on the command line (--set s3.secret-key=...): it is in no log line and nothing printed.
            String printed = stderr.toString(StandardCharsets.UTF_8);
            originalErr.print(printed);
            assertThat(logs.text()).contains("s3://tokens/cli-").doesNotContain(server.secretKey());
            assertThat(printed).contains("tokenize-corpus: ").doesNotContain(server.secretKey());
            row("secrets " + format.name().toLowerCase(Locale.ROOT), "the secret key given as --set s3.secret-key in no log line and nothing printed",
                    "in 0 of 2 sources (" + (logs.text().length() + printed.length()) / 1024 + " KiB: logs at INFO, stderr)");
        }
        assertThat(exitCode).isZero();

        assertEveryShardKeyEndsOnce(download(output, dir.resolve("cli-" + format)), format, 0);
        row("tokenize-corpus " + format.name().toLowerCase(Locale.ROOT), "s3:// shards (a glob) and model to s3:// output, every key once",
                corpus.decodable().stream().filter(S3CorpusTest::inShard).count() + " keys tokenized, " + (corpus.broken().size() + 1)
                        + " dead letters, each once, tokens equal to tokenize's");
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
        // The many shards too: enough input that a checkpoint in the bucket completes before it runs out.
        CorpusJob job = new CorpusJob(plan, CorpusInputs.resolve(List.of(SHARDS, MANY + "/*.tar")), output);

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

        assertEveryShardKeyEndsOnce(download(output, dir.resolve("failover-" + format)), format, MANY_SHARDS);
        row("failure after a checkpoint " + format.name().toLowerCase(Locale.ROOT), "restored from the checkpoint in the bucket, every key once",
                "every key once after the injected failure");
    }

    /**
     * What a corpus costs in requests: {@value #MANY_SHARDS} one-image shards through tokenize-corpus, every request
     * s3proxy served during the run counted by bucket and kind (written to target/s3-requests.txt for docs/corpora.md).
     * The inputs' side is fixed: a listing for the bucket check and one for the glob, then per shard the HEAD S3A's
     * open makes and one GET; no exists or getFileStatus per shard. The outputs' side grows with the checkpoints.
     */
    @Test
    void aCorpusOfManyShards_costsOneListingAndAHeadAndAGetPerShard() throws Exception {
        int before = server.requests().size();
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", MANY + "/*.tar", "--output", "s3://tokens/many",
                "--model", MODEL, "--set", "batching.max-size=16", "--set", "checkpoint.interval=2s"));
        args.addAll(server.settings());
        assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();

        List<S3Server.Request> run = server.requests().subList(before, server.requests().size());
        Map<String, Long> byKind = new TreeMap<>(run.stream().collect(Collectors.groupingBy(
                request -> request.bucket() + " " + request.kind() + (request.key().contains("/" + CorpusRun.STATE_FOLDER + "/") ? " (_state)" : ""),
                Collectors.counting())));
        long checkpoints = run.stream().map(request -> CHECKPOINT.matcher(request.key()))
                .filter(Matcher::find).map(Matcher::group).distinct().count();
        StringBuilder table = new StringBuilder("requests of tokenize-corpus over " + MANY_SHARDS + " shards (s3proxy's log), "
                + checkpoints + " checkpoints:\n");
        byKind.forEach((kind, count) -> table.append(String.format(Locale.ROOT, "%-40s %6d%n", kind, count)));
        table.append(String.format(Locale.ROOT, "%-40s %6d%n", "total", run.size()));
        System.out.print(table);
        Files.writeString(Path.of("target", "s3-requests.txt"), table);

        Files.write(Path.of("target", "s3-requests.log"), run.stream().map(S3Server.Request::toString).toList());

        // Each shard is read once by the job; the first once more, for the progress line's estimate (CorpusCount).
        assertThat(byKind.get("corpus GET")).as("object reads of the shards").isEqualTo(MANY_SHARDS + 1);
        // S3A's open HEADs each shard; one more HEAD is the command's check that the input holds an input file (InputPaths).
        assertThat(byKind.get("corpus HEAD")).as("HEADs on the shards (S3A's open)").isEqualTo(MANY_SHARDS + 2);
        assertThat(byKind.get("corpus LIST")).as("listings of the input bucket: the bucket check, the glob").isEqualTo(2);
        row("requests of " + MANY_SHARDS + " shards", "inputs: 2 LISTs, a HEAD and a GET per shard (+1 of each for the progress estimate, +1 HEAD for the input check)",
                byKind.get("corpus LIST") + " LISTs, " + byKind.get("corpus HEAD") + " HEADs, " + byKind.get("corpus GET") + " GETs on the input bucket; "
                        + run.size() + " requests in all, " + checkpoints + " checkpoints");
    }

    /**
     * {@code detokenize} of a run's output in a bucket and {@code reconstruct}, both with the model from a bucket,
     * each in a JVM of its own as a user runs them: this JVM's filesystems are set up already, so only a fresh one
     * shows that a command sets them up before it looks at an {@code s3://} path.
     */
    @Test
    void detokenizeAndReconstruct_inAFreshJvm_readTokensAndTheModelFromS3() throws Exception {
        String output = "s3://tokens/for-detokenize";
        List<String> tokenize = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", output,
                "--format", "webdataset", "--model", MODEL, "--set", "batching.max-size=4"));
        tokenize.addAll(server.settings());
        assertThat(VqraeCli.commandLine().execute(tokenize.toArray(String[]::new))).isZero();
        List<String> keys = corpus.decodable().stream().filter(S3CorpusTest::inShard).sorted().toList();

        Path pngs = dir.resolve("detokenized");
        List<String> detokenize = new ArrayList<>(List.of("detokenize", "--model", MODEL, "--output", pngs.toString(), output));
        detokenize.addAll(server.settings());
        String printed = runInAFreshJvm(detokenize, dir.resolve("detokenize.log"));
        assertThat(printed).contains(keys.size() + " token grids: " + keys.size() + " decoded, 0 refused");
        try (Stream<Path> files = Files.list(pngs)) {
            assertThat(files.map(png -> png.getFileName().toString()).sorted())
                    .containsExactlyElementsOf(keys.stream().map(key -> key + ".png").toList());
        }

        Path photo = TestPaths.testImage(TestCorpus.PHOTOS.get(0));
        Path reconstructed = dir.resolve("reconstructed");
        List<String> reconstruct = new ArrayList<>(List.of("reconstruct", "--model", MODEL, "--output", reconstructed.toString(), photo.toString()));
        reconstruct.addAll(server.settings());
        assertThat(runInAFreshJvm(reconstruct, dir.resolve("reconstruct.log"))).contains("1 files: 1 reconstructed");
        assertThat(reconstructed.resolve(photo.getFileName() + ".png")).isRegularFile();
        row("detokenize, reconstruct", "a fresh JVM reads tokens and the model from s3://", keys.size() + " PNGs detokenized, 1 reconstructed");
    }

    /** Runs {@code bin/vqrae ARGS} in a JVM of its own; what it printed, once it exited 0 within two minutes. */
    private static String runInAFreshJvm(List<String> args, Path log) throws Exception {
        Process process = ChildJvm.start(ChildJvm.command(List.of("-Xmx1g"), VqraeCli.class.getName(), args), log);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("exited within 2 minutes, log %s", log).isTrue();
        String printed = Files.readString(log);
        assertThat(process.exitValue()).as(printed).isZero();
        assertThat(printed).doesNotContain(server.secretKey());
        return printed;
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
        row("wrong secret key", "fails before the job, one line naming the bucket and the endpoint", "exit 1: " + outcome.err.strip());
    }

    @Test
    void aMissingBucket_failsBeforeTheJobInOneLineNamingTheBucketAndTheEndpoint() throws Exception {
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--input", SHARDS, "--output", "s3://no-such-bucket/tokens", "--model", MODEL));
        args.addAll(server.settings());
        Outcome outcome = Outcome.of(args);
        assertThat(outcome.exitCode).isEqualTo(1);
        assertThat(outcome.err).isEqualTo("vqrae: S3 bucket 'no-such-bucket' does not exist at " + server.endpoint() + System.lineSeparator());
        row("missing bucket", "fails before the job, one line naming the bucket and the endpoint", "exit 1: " + outcome.err.strip());
    }

    private static void row(String check, String expected, String outcome) {
        synchronized (ROWS) {
            ROWS.put(check, List.of(check, expected, outcome));
        }
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

    /** Every key of the corpus's shards and of the first {@code many} of {@link #MANY} ends once, with tokenize's tokens. */
    private void assertEveryShardKeyEndsOnce(Path out, JobConfig.OutputFormat format, int many) throws IOException {
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
            // Incomplete allowed: the failover run is the job alone, without the command that completes the run.
            CorpusReader.open(out.toString(), true, false).forEach(sample ->
                    assertThat(tokens.put(sample.id(), sample.tokenIds())).as(sample.id()).isNull());
        }
        Map<String, byte[]> expected = new HashMap<>();
        corpus.decodable().stream().filter(S3CorpusTest::inShard).forEach(id -> expected.put(id, corpus.images().get(id)));
        for (int i = 0; i < many; i++) {
            expected.put(manyKey(i), MANY_IMAGE);
        }
        assertThat(tokens.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((id, image) -> assertThat(tokens.get(id)).as(id).containsExactly(tokensBySha.get(TestCorpus.sha256(image))));
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

    /** The outputs under {@code uri} (the run's state aside), read back from the bucket into {@code local}. */
    private static Path download(String uri, Path local) throws IOException {
        org.apache.flink.core.fs.Path folder = new org.apache.flink.core.fs.Path(uri);
        FileSystem fs = folder.getFileSystem();
        Files.createDirectories(local);
        for (FileStatus status : fs.listStatus(folder)) {
            Path target = local.resolve(status.getPath().getName());
            if (status.getPath().getName().equals(CorpusRun.STATE_FOLDER)) {
                // Flink deletes the finished job's checkpoints in the background.
                continue;
            }
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
