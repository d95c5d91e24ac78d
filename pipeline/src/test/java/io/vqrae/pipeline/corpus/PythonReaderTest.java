package io.vqrae.pipeline.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.kafka.TopicProvisioner;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.FeatureValueType;
import io.vqrae.schemas.TokenRecord;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python package {@code schemas/python} (vqrae_schemas) against real runs, with Debian's python3-avro,
 * python3-confluent-kafka and PyTorch: a Python producer writes captioned ImageRecords the streaming job tokenizes,
 * then Python's datasets read the job's Kafka topics and a corpus job's WebDataset and Avro files, and check
 * ids, shapes, dtypes, token values, feature bytes, captions and metadata against what the Java side read. The
 * topics and one Avro folder also hold records written by the v1 code (schemas/fixtures/v1), which both
 * sides read in the same pass as today's, with their v1 token ids and no caption.
 */
class PythonReaderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(1);
    /** Records written by the v1 code (schemas/fixtures/v1/README.md). */
    private static final Path V1 = TestPaths.root().resolve("schemas/fixtures/v1");
    private static final Path V1_RUN = V1.resolve("corpus-avro");
    private static final List<String> V1_IDS = List.of("v1-a-copy.png", "v1-b.png");

    @Test
    void pythonProducesImagesTheJobTokenizesAndReadsEveryOutputAsJavaDoes(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        for (String photo : TestCorpus.PHOTOS) {
            Files.write(images.resolve(photo), TestPaths.testImageBytes(photo));
        }
        Files.writeString(images.resolve("not-an-image.png"), "<html>404</html>");

        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024)) {
            JobConfig config = JobConfig.fromMap(Map.of(
                    "model.dir", TestPaths.tinyModel().toString(), "kafka.bootstrap-servers", kafka.bootstrapServers(),
                    "kafka.bounded", "true", "kafka.starting-offsets", "earliest", "kafka.topic-partitions", "2",
                    "batching.max-size", "4", "checkpoint.interval", "1s"));
            JobConfig.Topics topics = config.kafka().topics();
            TopicProvisioner.provisionInput(config.kafka(), RecordLimits.inputRecordBytes(config.limits()));
            pytest("test_produce_image_records", Map.of(
                    "VQRAE_BOOTSTRAP", kafka.bootstrapServers(), "VQRAE_INPUT_TOPIC", topics.input(), "VQRAE_IMAGES_DIR", images.toString()));

            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
            new TokenizeJob(JobPlan.resolve(config, "python-reader-test")).attach(env);
            env.execute("python-reader-test");

            // Records a v1 job wrote, on the same topics: readers take both versions in one pass.
            produceV1Fixtures(kafka.bootstrapServers(), topics);

            OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), READ_TIMEOUT);
            List<String> ids = new ArrayList<>(TestCorpus.PHOTOS);
            ids.addAll(V1_IDS);
            assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(out.deadLetters()).extracting(DeadLetterRecord::getId).containsExactly("not-an-image.png");
            Map<String, FeatureRecord> features = new HashMap<>();
            out.features().forEach(f -> features.put(f.getId(), f));
            Map<String, String> metadata = new HashMap<>();
            Map<String, String> captions = new HashMap<>();
            for (TokenRecord tokens : out.tokens()) {
                FeatureRecord feature = features.get(tokens.getId());
                if (V1_IDS.contains(tokens.getId())) {
                    assertV1(tokens);
                    assertThat(Arrays.asList(feature.getMetadata(), feature.getText(), feature.getSourceUri())).containsOnlyNulls();
                    continue;
                }
                // The caption and metadata the Python producer put on the ImageRecord, on both output records.
                String json = "{\"caption\":\"caption of " + tokens.getId() + "\",\"producer\":\"python\"}";
                for (var record : List.of(tokens, feature)) {
                    assertThat(record.get("metadata")).as(tokens.getId()).isEqualTo(json);
                    assertThat(record.get("text")).as(tokens.getId()).isEqualTo("caption of " + tokens.getId());
                    assertThat(record.get("source_uri")).as(tokens.getId()).isEqualTo(images.resolve(tokens.getId()).toString());
                }
                metadata.put(tokens.getId(), json);
                captions.put(tokens.getId(), "caption of " + tokens.getId());
            }
            Path expected = dir.resolve("kafka-expected.json");
            JSON.writeValue(expected.toFile(), expected(out.tokens(), features, out.deadLetters(), metadata, captions));
            pytest("test_read_kafka_outputs", Map.of(
                    "VQRAE_BOOTSTRAP", kafka.bootstrapServers(), "VQRAE_TOKENS_TOPIC", topics.tokens(),
                    "VQRAE_FEATURES_TOPIC", topics.features(), "VQRAE_DEAD_LETTER_TOPIC", topics.deadLetter(),
                    "VQRAE_EXPECTED", expected.toString(), "VQRAE_IMAGES_DIR", images.toString()));
        }

        TestCorpus corpus = TestCorpus.write(dir.resolve("corpus"), 4, 0);
        List<String> outputs = new ArrayList<>();
        for (String format : List.of("webdataset", "avro")) {
            Path out = dir.resolve("out-" + format);
            List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--output", out.toString(), "--format", format,
                    "--model", TestPaths.tinyModel().toString(), "--set", "batching.max-size=4", "--set", "corpus.samples-per-shard=3", "--input"));
            args.addAll(corpus.inputs());
            assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();
            outputs.add(out.toString());
        }
        // What the Java reader reads from the WebDataset output is what Python must read from both, feature bytes included.
        List<TokenRecord> tokens = new ArrayList<>();
        Map<String, FeatureRecord> features = new HashMap<>();
        CorpusReader reader = CorpusReader.open(outputs.get(0), false, false);
        reader.forEach(sample -> {
            tokens.add(tokenRecord(sample));
            features.put(sample.id(), featureRecord(sample));
        });
        assertThat(tokens).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(corpus.decodable());
        Path expected = dir.resolve("corpus-expected.json");
        JSON.writeValue(expected.toFile(), expected(tokens, features, reader.deadLetters(), corpus.metadata(), corpus.captions()));
        pytest("test_read_file_outputs", Map.of(
                "VQRAE_CORPUS_DIRS", String.join(File.pathSeparator, outputs), "VQRAE_CORPUS_EXPECTED", expected.toString()));

        // One folder of v2 Avro files (the run above) and v1 files (fixtures/v1), read in one pass.
        Path mixed = Path.of(outputs.get(1));
        for (String folder : List.of("tokens", "features")) {
            try (var files = Files.list(V1_RUN.resolve(folder))) {
                for (Path file : files.toList()) {
                    Files.copy(file, mixed.resolve(folder).resolve("v1-" + file.getFileName()));
                }
            }
        }
        List<TokenRecord> mixedTokens = new ArrayList<>();
        Map<String, FeatureRecord> mixedFeatures = new HashMap<>();
        CorpusReader.open(mixed.toString(), false, false).forEach(sample -> {
            TokenRecord record = tokenRecord(sample);
            if (V1_IDS.contains(sample.id())) {
                assertThat(Arrays.asList(sample.metadataJson(), sample.text())).as(sample.id()).containsOnlyNulls();
                assertV1(record);
            } else {
                assertThat(sample.text()).as(sample.id()).isEqualTo(corpus.captions().get(sample.id()));
            }
            mixedTokens.add(record);
            mixedFeatures.put(sample.id(), featureRecord(sample));
        });
        List<String> mixedIds = new ArrayList<>(corpus.decodable());
        mixedIds.addAll(V1_IDS);
        assertThat(mixedTokens).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(mixedIds);
        Path mixedExpected = dir.resolve("mixed-expected.json");
        JSON.writeValue(mixedExpected.toFile(), expected(mixedTokens, mixedFeatures, List.of(), corpus.metadata(), corpus.captions()));
        pytest("test_read_mixed_versions", Map.of("VQRAE_MIXED_DIR", mixed.toString(), "VQRAE_MIXED_EXPECTED", mixedExpected.toString()));
    }

    /** Every record of the v1 fixture run, as the v1 job wrote them to Kafka, on partition 0 of the output topics. */
    private static void produceV1Fixtures(String bootstrap, JobConfig.Topics topics) throws Exception {
        Map<String, Object> settings = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(settings, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (String id : V1_IDS) {
                byte[] key = id.getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topics.tokens(), 0, key, v1Record("TokenRecord", id))).get();
                producer.send(new ProducerRecord<>(topics.features(), 0, key, v1Record("FeatureRecord", id))).get();
            }
        }
    }

    private static byte[] v1Record(String type, String id) throws IOException {
        return Files.readAllBytes(V1.resolve("single-object").resolve(type + "-" + id + ".bin"));
    }

    /** A v1 fixture's token record as today's reader gives it: the ids and token ids v1 wrote, no metadata. */
    private static void assertV1(TokenRecord record) {
        try {
            JsonNode expected = JSON.readTree(V1.resolve("expected.json").toFile()).get("tokens").get(record.getId());
            List<Integer> ids = new ArrayList<>();
            expected.get("token_ids").forEach(id -> ids.add(id.asInt()));
            assertThat(Arrays.stream(TokenIds.decode(record.getTokenIds(), record.getDtype())).boxed().toList()).as(record.getId()).isEqualTo(ids);
            assertThat(record.getImageSha256()).isEqualTo(expected.get("image_sha256").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(Arrays.asList(record.getMetadata(), record.getText(), record.getSourceUri())).as(record.getId()).containsOnlyNulls();
    }

    /** The expected JSON of schemas/python/tests/test_interop.py. */
    private static ObjectNode expected(
            List<TokenRecord> tokens, Map<String, FeatureRecord> features, List<DeadLetterRecord> deadLetters,
            Map<String, String> metadata, Map<String, String> captions) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("codebook_sha256", TestPaths.tinyManifest().codebookSha256());
        root.putArray("grid").add(TestPaths.tinyManifest().gridHeight()).add(TestPaths.tinyManifest().gridWidth());
        ObjectNode images = root.putObject("images");
        for (TokenRecord record : tokens) {
            ObjectNode image = images.putObject(record.getId());
            ArrayNode ids = image.putArray("token_ids");
            for (int id : TokenIds.decode(record.getTokenIds(), record.getDtype())) {
                ids.add(id);
            }
            image.put("image_sha256", record.getImageSha256());
            FeatureRecord feature = features.get(record.getId());
            ObjectNode described = image.putObject("features");
            described.put("kind", feature.getKind().name());
            described.put("dtype", feature.getDtype().name());
            feature.getShape().forEach(described.putArray("shape")::add);
            described.put("sha256", sha256(feature.getValues()));
            String json = metadata.get(record.getId());
            image.set("metadata", json == null ? null : JSON.readTree(json));
            image.put("text", captions.get(record.getId()));
        }
        ObjectNode dead = root.putObject("dead_letters");
        deadLetters.forEach(d -> dead.put(d.getId(), d.getReason()));
        return root;
    }

    private static TokenRecord tokenRecord(CorpusSample sample) {
        return TokenRecord.newBuilder()
                .setId(sample.id()).setImageSha256(sample.imageSha256()).setModelId(sample.modelId())
                .setModelVersion(sample.modelVersion()).setCodebookSha256(sample.codebookSha256())
                .setGridHeight(sample.gridHeight()).setGridWidth(sample.gridWidth()).setCodebookSize(256)
                .setDtype(TokenIds.typeFor(256)).setTokenIds(ByteBuffer.wrap(TokenIds.encode(sample.tokenIds(), TokenIds.typeFor(256))))
                .setMeanQuantError(sample.meanQuantError()).setProcessedAt(Instant.EPOCH)
                .setMetadata(sample.metadataJson()).setText(sample.text()).build();
    }

    private static FeatureRecord featureRecord(CorpusSample sample) {
        return FeatureRecord.newBuilder()
                .setId(sample.id()).setImageSha256(sample.imageSha256()).setModelId(sample.modelId())
                .setModelVersion(sample.modelVersion()).setCodebookSha256(sample.codebookSha256())
                .setKind(FeatureKind.valueOf(sample.features().kind()))
                .setShape(Arrays.stream(sample.features().shape()).boxed().toList())
                .setDtype(FeatureValueType.valueOf(sample.features().dtype()))
                .setValues(ByteBuffer.wrap(sample.features().values())).setProcessedAt(Instant.EPOCH).build();
    }

    private static String sha256(ByteBuffer bytes) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes.duplicate());
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs one test of schemas/python/tests/test_interop.py with Debian's Python; fails with its output. */
    private static void pytest(String test, Map<String, String> env) throws IOException, InterruptedException {
        Path root = TestPaths.root();
        ProcessBuilder builder = new ProcessBuilder(TestPaths.python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                "schemas/python/tests/test_interop.py::" + test)
                .directory(root.toFile())
                .redirectErrorStream(true);
        builder.environment().putAll(env);
        builder.environment().put("PYTHONPATH", root.resolve("schemas/python").toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = process.waitFor();
        assertThat(exit).as("pytest %s:%n%s", test, output).isZero();
        assertThat(output).as("pytest %s ran, not skipped:%n%s", test, output).contains("1 passed").doesNotContain("skipped");
    }
}
