package io.vqrae.pipeline.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.testing.FailOnceAfterCheckpoint;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/** The job end to end on a real in-JVM Kafka broker and a real MiniCluster, outputs read read_committed. */
class TokenizeJobTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(1);
    private static final String RELEASED_SAVEPOINT = "/savepoints/tokenize-0.1.0";
    private static final String SAVEPOINT_TOPICS = "released";
    private static final int SAVEPOINT_READ = 6;
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start(64 * 1024 * 1024);
    }

    @AfterAll
    static void stopKafka() {
        kafka.close();
    }

    @Test
    void everyInputEndsAsTokensAndFeaturesOrOneDeadLetterWithTokensOfADirectRun(@TempDir Path dir) throws Exception {
        SampleImages.write(dir, 10);
        Map<String, byte[]> good = new LinkedHashMap<>();
        Map<String, byte[]> bad = new LinkedHashMap<>();
        for (Path file : files(dir)) {
            (file.getFileName().toString().startsWith("broken-") ? bad : good).put(file.getFileName().toString(), Files.readAllBytes(file));
        }
        for (String photo : TestCorpus.PHOTOS) {
            good.put("photo-" + photo, TestPaths.testImageBytes(photo));
        }
        // The model as a filesystem URI: the client and the tokenizer subtasks each take it from their model cache.
        JobConfig config = config("counts", Map.of("batching.max-size", "4", "model.dir", MODEL_DIR.toUri().toString(),
                "model.cache-dir", dir.resolve("model-cache").toString()));
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, "tokenize-job-test"));
        try (InputWriter writer = new InputWriter(config.kafka())) {
            good.forEach((id, bytes) -> writer.send(id, bytes, null));
            bad.forEach((id, bytes) -> writer.send(id, bytes, null));
        }
        sendRaw(config.kafka(), "not-avro", "plain text, not an ImageRecord".getBytes(StandardCharsets.UTF_8));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        job.attach(env);
        env.execute("counts");

        OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), READ_TIMEOUT);
        assertThat(dir.resolve("model-cache")).isDirectoryContaining(path -> Files.exists(path.resolve("manifest.json")));
        assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(good.keySet());
        assertThat(out.features()).extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(good.keySet());
        List<String> badIds = new ArrayList<>(bad.keySet());
        badIds.add("not-avro");
        assertThat(out.deadLetters()).extracting(DeadLetterRecord::getId).containsExactlyInAnyOrderElementsOf(badIds);
        Map<String, String> reasons = new HashMap<>();
        out.deadLetters().forEach(d -> reasons.put(d.getId(), d.getReason()));
        assertThat(reasons).containsEntry("not-avro", "malformed_record").containsEntry(SampleImages.EMPTY, "empty_input");
        assertThat(out.features().get(0).getShape()).containsExactly(256, 128);

        // Token ids from Kafka equal a direct TokenizerSession run on the same files.
        ModelManifest manifest = TestPaths.manifest(MODEL_DIR);
        Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());
        ImageDecoder decoder = manifest.imageDecoder().build();
        List<String> ids = new ArrayList<>(good.keySet());
        List<byte[]> chw = new ArrayList<>();
        for (String id : ids) {
            chw.add(preprocessor.toChw(decoder.decode(good.get(id))));
        }
        Map<String, int[]> fromKafka = new HashMap<>();
        out.tokens().forEach(t -> fromKafka.put(t.getId(), TokenIds.decode(t.getTokenIds(), t.getDtype())));
        try (TokenizerSession session = TokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(MODEL_DIR)))) {
            EncodedBatch direct = session.encode(chw);
            for (int i = 0; i < ids.size(); i++) {
                assertThat(fromKafka.get(ids.get(i))).as(ids.get(i)).containsExactly(direct.tokenIds(i));
            }
        }
    }

    @Test
    void committedOutputHasEveryIdExactlyOnceAcrossAFailureAndRestartFromCheckpoint(@TempDir Path dir) throws Exception {
        SampleImages.write(dir, 30);
        // With a 1 h delay no timer flushes a partial batch: it leaves the tokenizer only at a checkpoint
        // barrier or at end of input, so an image buffered across a checkpoint would be lost by the restart.
        JobConfig config = config("failover",
                Map.of("checkpoint.interval", "300ms", "batching.max-size", "4", "batching.max-delay", "1h"));
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, "tokenize-job-test"));
        List<String> ids = new ArrayList<>();
        try (InputWriter writer = new InputWriter(config.kafka())) {
            for (Path file : files(dir)) {
                String id = file.getFileName().toString();
                if (!id.startsWith("broken-")) {
                    writer.send(id, Files.readAllBytes(file), null);
                    ids.add(id);
                }
            }
        }

        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
        job.configure(env);
        FailOnceAfterCheckpoint.reset();
        DataStream<InputImage> images = env.fromSource(job.source(), WatermarkStrategy.noWatermarks(), "images")
                .setParallelism(1)
                .map(new FailOnceAfterCheckpoint())
                .setParallelism(1);
        job.records(job.process(images)).sinkTo(job.sink()).setParallelism(1);
        env.execute("failover");

        assertThat(FailOnceAfterCheckpoint.FAILED.get()).as("failure was injected").isTrue();
        OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), READ_TIMEOUT);
        assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(out.features()).extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(out.deadLetters()).isEmpty();
    }

    @Test
    void stopWithSavepointThenResumeWithAnotherBatchSizeKeepsEveryIdExactlyOnce(@TempDir Path dir) throws Exception {
        SampleImages.write(dir, 20);
        List<Path> good = files(dir).stream().filter(f -> !SampleImages.isBroken(f.getFileName().toString())).toList();
        List<String> ids = good.stream().map(f -> f.getFileName().toString()).toList();
        Map<String, String> unbounded = Map.of("kafka.bounded", "false", "checkpoint.interval", "300ms");
        JobConfig before = config("upgrade", merged(unbounded, Map.of("batching.max-size", "4")));
        JobConfig after = config("upgrade", merged(unbounded, Map.of("batching.max-size", "8", "batching.max-delay", "20ms")));

        // The first half goes through the job as it is today, which stops with a savepoint.
        TokenizeJob today = new TokenizeJob(JobPlan.resolve(before, "upgrade-before"));
        send(before.kafka(), good.subList(0, ids.size() / 2));
        StreamExecutionEnvironment first = StreamExecutionEnvironment.createLocalEnvironment(2);
        today.attach(first);
        JobClient running = first.executeAsync("upgrade-before");
        awaitTokens(before.kafka(), ids.size() / 2);
        String savepoint = running.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);

        // The rest goes through the same job with a new batch size, restored from the savepoint.
        send(after.kafka(), good.subList(ids.size() / 2, ids.size()));
        OutputReader.Outputs out = resume(new TokenizeJob(JobPlan.resolve(after, "upgrade-after")), after.kafka(), savepoint, ids.size());
        assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(out.features()).extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(out.deadLetters()).isEmpty();
    }

    /**
     * Operator uids are a compatibility promise: a savepoint of an earlier release must restore into today's job
     * with no state left unmapped (Flink refuses by default), and the source must resume where that job stopped.
     * The savepoint in {@link #RELEASED_SAVEPOINT} was written by {@link #writeReleasedSavepoint} at release 0.1.0
     * after its job had read {@link #SAVEPOINT_READ} inputs; a uid renamed since would fail this test.
     */
    @Test
    void aSavepointOfAnEarlierReleaseRestoresAndResumesAfterTheInputsItHadRead(@TempDir Path dir) throws Exception {
        SampleImages.write(dir, 2 * SAVEPOINT_READ);
        List<Path> good = files(dir).stream().filter(f -> !SampleImages.isBroken(f.getFileName().toString())).toList();
        JobConfig config = config(SAVEPOINT_TOPICS, Map.of("kafka.bounded", "false", "checkpoint.interval", "300ms"));
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, "released-savepoint"));
        // The input topic as that job left it: the inputs it had read, then new ones.
        send(config.kafka(), good);
        List<String> unread = good.subList(SAVEPOINT_READ, good.size()).stream().map(f -> f.getFileName().toString()).toList();

        OutputReader.Outputs out = resume(job, config.kafka(), Path.of(getClass().getResource(RELEASED_SAVEPOINT).toURI()).toString(),
                unread.size());
        assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(unread);
        assertThat(out.features()).extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(unread);
    }

    /**
     * Writes {@link #RELEASED_SAVEPOINT} into the source tree: run once per release whose state layout the next
     * ones must restore, with {@code mvn -pl pipeline test -Dtest='TokenizeJobTest#writeReleasedSavepoint'
     * -Dvqrae.write-savepoint=true}, then commit the folder. The job reads {@link #SAVEPOINT_READ} inputs, commits
     * their outputs (so the savepoint holds no pending transaction, which the restoring broker could not know),
     * and stops with a savepoint.
     */
    @Test
    @EnabledIfSystemProperty(named = "vqrae.write-savepoint", matches = "true")
    void writeReleasedSavepoint(@TempDir Path dir) throws Exception {
        SampleImages.write(dir, SAVEPOINT_READ);
        List<Path> good = files(dir).stream().filter(f -> !SampleImages.isBroken(f.getFileName().toString())).toList();
        JobConfig config = config(SAVEPOINT_TOPICS, Map.of("kafka.bounded", "false", "checkpoint.interval", "300ms"));
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, "released-savepoint"));
        send(config.kafka(), good);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        job.attach(env);
        JobClient running = env.executeAsync("released-savepoint");
        awaitTokens(config.kafka(), good.size());
        String savepoint = running.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);

        Path target = TestPaths.root().resolve("pipeline/src/test/resources").resolve(RELEASED_SAVEPOINT.substring(1));
        FileUtils.deleteDirectory(target.toFile());
        FileUtils.copy(new org.apache.flink.core.fs.Path(savepoint), new org.apache.flink.core.fs.Path(target.toUri()), false);
        try (Stream<Path> files = Files.list(target)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("state inline in _metadata, no absolute paths").containsExactly("_metadata");
        }
    }

    /** Runs {@code job} restored from {@code savepoint} until {@code tokens} token records are committed; its committed outputs. */
    private static OutputReader.Outputs resume(TokenizeJob job, JobConfig.Kafka kafka, String savepoint, int tokens) throws Exception {
        Configuration restore = new Configuration();
        restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, restore);
        job.attach(env);
        JobClient resumed = env.executeAsync("resumed");
        try {
            awaitTokens(kafka, tokens);
        } finally {
            resumed.cancel().get(1, TimeUnit.MINUTES);
        }
        return OutputReader.readCommitted(kafka, READ_TIMEOUT);
    }

    private static Map<String, String> merged(Map<String, String> a, Map<String, String> b) {
        Map<String, String> merged = new HashMap<>(a);
        merged.putAll(b);
        return merged;
    }

    private static void send(JobConfig.Kafka kafka, List<Path> images) throws java.io.IOException {
        try (InputWriter writer = new InputWriter(kafka)) {
            for (Path image : images) {
                writer.send(image.getFileName().toString(), Files.readAllBytes(image), null);
            }
        }
    }

    /** Waits until {@code count} token records are committed (more would be duplicates, which the caller checks). */
    private static void awaitTokens(JobConfig.Kafka kafka, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (OutputReader.readCommitted(kafka, READ_TIMEOUT).tokens().size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Fewer than " + count + " token records committed within 2 minutes");
            }
            Thread.sleep(200);
        }
    }

    private static JobConfig config(String name, Map<String, String> extra) {
        Map<String, String> settings = new HashMap<>(extra);
        settings.putIfAbsent("model.dir", MODEL_DIR.toString());
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.putIfAbsent("kafka.bounded", "true");
        settings.put("kafka.starting-offsets", "earliest");
        settings.put("kafka.topics.input", name + ".images");
        settings.put("kafka.topics.tokens", name + ".tokens");
        settings.put("kafka.topics.features", name + ".features");
        settings.put("kafka.topics.dead-letter", name + ".dead-letter");
        settings.put("kafka.transactional-id-prefix", name);
        settings.put("kafka.group-id", name);
        settings.put("parallelism.decode", "2");
        settings.putIfAbsent("checkpoint.interval", "1s");
        return JobConfig.fromMap(settings);
    }

    /** Writes a record that is not an ImageRecord, as a foreign producer on the input topic might. */
    private static void sendRaw(JobConfig.Kafka kafka, String key, byte[] value) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(KafkaClients.properties(kafka), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(kafka.topics().input(), key.getBytes(StandardCharsets.UTF_8), value)).get();
        }
    }

    private static List<Path> files(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
