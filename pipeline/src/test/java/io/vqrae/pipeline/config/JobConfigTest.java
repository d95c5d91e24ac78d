package io.vqrae.pipeline.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.operators.tokenize.Batching;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

    @Test
    void printingAConfigurationHidesTheKafkaClientPropertiesValues() {
        JobConfig config = JobConfig.fromMap(Map.of(
                "kafka.properties.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required password=\"s3cret\";",
                "kafka.properties.ssl.truststore.password", "tru5t"));

        assertThat(config.toString()).doesNotContain("s3cret").doesNotContain("tru5t")
                .contains("sasl.jaas.config=[hidden]").contains("ssl.truststore.password=[hidden]").contains("bootstrapServers=localhost:9092");
    }

    @Test
    void sectionsAreBuiltByNameFromTheirDefaults_checkedAndPrintedWithoutSecrets() {
        JobConfig.Kafka kafka = JobConfig.Kafka.DEFAULT.with(k -> k
                .bootstrapServers("broker-1:9093").bounded(true).properties(Map.of("ssl.keystore.password", "k3y")));

        assertThat(kafka.groupId()).as("what is not named keeps its default").isEqualTo("vqrae-tokenizer");
        assertThat(kafka).as("the same section as bound from the same keys").isEqualTo(JobConfig.fromMap(Map.of(
                "kafka.bootstrap-servers", "broker-1:9093", "kafka.bounded", "true",
                "kafka.properties.ssl.keystore.password", "k3y")).kafka());
        assertThat(kafka.toString()).doesNotContain("k3y").contains("properties={ssl.keystore.password=[hidden]}");
        assertThat(JobConfig.DEFAULTS.withKafka(kafka).toString()).doesNotContain("k3y");
        assertThatThrownBy(() -> kafka.withTopicPartitions(0))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("topic-partitions:");
    }

    @Test
    void everyKeyHasADefault() {
        JobConfig config = JobConfig.defaults();
        assertThat(config.kafka().topics().input()).isEqualTo("vqrae.images");
        assertThat(config.features().mode()).isEqualTo(FeatureMode.PER_TOKEN);
        assertThat(config.features().dtype()).isEqualTo(FeatureDtype.FLOAT16);
        assertThat(config.batching().maxDelay()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.kafka().properties()).isEmpty();
        assertThat(config.model().deviceIds()).as("none: GPUs as Flink's external resources assign them").isEmpty();
        assertThat(config.parallelism().decode()).as("0: the environment's default parallelism").isZero();
        assertThat(config.kafka().compression()).isEqualTo(JobConfig.Compression.LZ4);
        assertThat(config.checkpoint().interval()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void theJobAndTheDecoderShareOneSetOfDefaultLimits() {
        // Once 100 MP / 64 MiB in the decoder and 64 Mi pixels / 32 MiB in the job; now one place.
        assertThat(JobConfig.defaults().limits()).isEqualTo(InputLimits.DEFAULT);
        assertThat(InputLimits.DEFAULT.maxPixels()).isEqualTo(ImageDecoder.DEFAULT_MAX_PIXELS).isEqualTo(64L << 20);
        assertThat(InputLimits.DEFAULT.maxImageBytes()).isEqualTo(ImageDecoder.DEFAULT_MAX_INPUT_BYTES).isEqualTo(32 << 20);
        assertThat(JobConfig.defaults().batching()).isEqualTo(Batching.DEFAULT);
    }

    @Test
    void everyEnumTakesItsConfigurationSpellingInAnyCase() {
        JobConfig config = JobConfig.fromMap(Map.of(
                "features.mode", "off", "features.dtype", "BFloat16", "model.provider", "CUDA",
                "kafka.starting-offsets", "latest", "kafka.compression", "zstd"));
        assertThat(config.features().mode()).isEqualTo(FeatureMode.OFF);
        assertThat(config.features().dtype()).isEqualTo(FeatureDtype.BFLOAT16);
        assertThat(config.model().provider()).isEqualTo(ExecutionProvider.CUDA);
        assertThat(config.kafka().startingOffsets()).isEqualTo(JobConfig.StartingOffsets.LATEST);
        assertThat(config.kafka().compression().kafkaName()).isEqualTo("zstd");
        assertThat(JobConfig.fromMap(Map.of("features.mode", "per-token")).features().mode()).isEqualTo(FeatureMode.PER_TOKEN);
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("features.mode", "per_token")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("features.mode: must be one of [per-token, pooled, off], got 'per_token'");
    }

    @Test
    void offInAYamlFileIsTheFeatureModeNotABoolean(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, "features:\n  mode: off\n");
        assertThat(JobConfig.load(file, Map.of()).features().mode()).isEqualTo(FeatureMode.OFF);
    }

    @Test
    void theDeployExampleLoadsAndHoldsTheDefaultsExceptItsExampleValues() throws Exception {
        JobConfig example = JobConfig.load(TestPaths.root().resolve("deploy").resolve("job.example.yaml"), Map.of());
        JobConfig defaultsWithExampleValues = JobConfig.fromMap(Map.of(
                "kafka.bootstrap-servers", "kafka-0.kafka:9093",
                "kafka.properties.security.protocol", "SASL_SSL",
                "kafka.properties.sasl.mechanism", "SCRAM-SHA-512"));
        assertThat(example).isEqualTo(defaultsWithExampleValues);
    }

    @Test
    void gpuOrdinalsAsAYamlList(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, """
                model:
                  provider: cuda
                  device-ids: [0, 1, 3]
                """);
        assertThat(JobConfig.load(file, Map.of()).model().deviceIds()).containsExactly(0, 1, 3);
        assertThat(JobConfig.fromMap(Map.of("model.device-ids", "[2, 1]")).model().deviceIds()).containsExactly(2, 1);
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("model.device-ids", "[0,-1]")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("model.device-ids:");
        assertThat(JobConfig.fromMap(Map.of("model.device-ids", "[]", "model.provider", "cuda")).model().gpusFromFlink()).isTrue();
        assertThat(JobConfig.fromMap(Map.of("model.device-ids", "[1]", "model.provider", "cuda")).model().gpusFromFlink()).isFalse();
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("model.device-ids", "0,1")))
                .isInstanceOf(ConfigException.class).hasMessage("model.device-ids: must be a list like [0, 1]");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("model.device-id", "1")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("model.device-id: unknown key");
    }

    @Test
    void valuesTheJobCouldNotUseFailAtLoadNamingTheKey() {
        Map<String, String> bad = Map.of(
                "limits.max-pixels", Long.toString(ImageDecoder.MAX_PIXELS_LIMIT + 1),
                "batching.max-size", Integer.toString(Batching.MAX_SIZE + 1),
                "kafka.replication-factor", "32768",
                "kafka.max-record-bytes", "512",
                "checkpoint.interval", "99999999999999999999ms",
                "batching.max-delay", "9999999999999h",
                "kafka.transaction-timeout", "2147483648ms");
        bad.forEach((key, value) -> assertThatThrownBy(() -> JobConfig.fromMap(Map.of(key, value)))
                .as(key + "=" + value)
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(key + ":"));

        JobConfig largest = JobConfig.fromMap(Map.of(
                "limits.max-pixels", Long.toString(ImageDecoder.MAX_PIXELS_LIMIT),
                "batching.max-size", Integer.toString(Batching.MAX_SIZE),
                "kafka.replication-factor", "32767",
                "kafka.max-record-bytes", "65536"));
        assertThat(largest.kafka().replicationFactor()).isEqualTo(Short.MAX_VALUE);
        assertThat(largest.limits().maxPixels()).isEqualTo(ImageDecoder.MAX_PIXELS_LIMIT);
    }

    @Test
    void theLiveViewNeedsTheEndpointSampledReconstructionsAndHealth() {
        Map<String, String> preview = Map.of("metrics.preview", "true", "metrics.psnr-every", "4");
        assertThat(JobConfig.fromMap(preview).metrics().preview()).isTrue();
        assertThat(JobConfig.defaults().metrics().preview()).as("off by default").isFalse();

        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("metrics.preview", "true"))).isInstanceOf(ConfigException.class)
                .hasMessage("metrics.preview: needs metrics.psnr-every > 0: the live view shows the sampled reconstructions");
        assertThatThrownBy(() -> JobConfig.fromMap(with(preview, "metrics.port", "0")))
                .hasMessage("metrics.preview: needs metrics.port: the live view is served by the metrics endpoint");
        assertThatThrownBy(() -> JobConfig.fromMap(with(preview, "metrics.health", "false")))
                .hasMessage("metrics.preview: needs metrics.health: the live view shows the window's codebook usage");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("metrics.preview", "yes"))).hasMessage("metrics.preview: must be true or false, got 'yes'");
    }

    @Test
    void theMetricsAddressIsAnIpAddressOrAHostName() {
        for (String address : List.of("0.0.0.0", "127.0.0.1", "::1", "::", "taskmanager-0.vqrae.svc.cluster.local", "localhost")) {
            assertThat(JobConfig.fromMap(Map.of("metrics.address", address)).metrics().address()).isEqualTo(address);
        }
        for (String address : List.of("not an address", "http://localhost", "-host", "")) {
            assertThatThrownBy(() -> JobConfig.fromMap(Map.of("metrics.address", address))).as(address)
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith("metrics.address: must ");
        }
    }

    @Test
    void reportPricesAreNumbersOfZeroOrMore() {
        JobConfig priced = JobConfig.fromMap(Map.of("report.core-hour-price", "0.048", "report.gpu-hour-price", "2.5", "report.log-every", "0"));
        assertThat(priced.report().coreHourPrice()).isEqualTo(0.048);
        assertThat(priced.report().gpuHourPrice()).isEqualTo(2.5);
        assertThat(priced.report().logEvery()).isZero();
        assertThat(JobConfig.defaults().report().logEvery()).isEqualTo(Duration.ofMinutes(10));
        assertThat(JobConfig.defaults().report().priced()).isFalse();

        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("report.core-hour-price", "-1"))).isInstanceOf(ConfigException.class)
                .hasMessage("report.core-hour-price: must be a price of 0 or more, got -1.0");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("report.gpu-hour-price", "two"))).isInstanceOf(ConfigException.class)
                .hasMessage("report.gpu-hour-price: must be a number, got 'two'");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("report.log-every", "-5m"))).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("report.log-every:");
    }

    private static Map<String, String> with(Map<String, String> settings, String key, String value) {
        Map<String, String> copy = new java.util.HashMap<>(settings);
        copy.put(key, value);
        return copy;
    }

    @Test
    void yamlWithOverridesAndPassThroughClientProperties(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, """
                kafka:
                  bootstrap-servers: broker-1:9093
                  properties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: SCRAM-SHA-512
                features:
                  mode: pooled
                  dtype: bfloat16
                batching:
                  max-size: 32
                  max-delay: 20ms
                """);
        JobConfig config = JobConfig.load(file, Map.of("parallelism.tokenizer", "2"));
        assertThat(config.kafka().bootstrapServers()).isEqualTo("broker-1:9093");
        assertThat(config.kafka().properties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(config.features().mode()).isEqualTo(FeatureMode.POOLED);
        assertThat(config.features().dtype()).isEqualTo(FeatureDtype.BFLOAT16);
        assertThat(config.batching().maxSize()).isEqualTo(32);
        assertThat(config.parallelism().tokenizer()).isEqualTo(2);
    }

    @Test
    void s3_takesFlinksKeysAsTheyAre_fromOverridesAndTheFile_andHidesTheirValues(@TempDir Path dir) throws Exception {
        JobConfig config = JobConfig.fromMap(Map.of("s3.endpoint", "http://127.0.0.1:9000", "s3.path.style.access", "true",
                "s3.secret-key", "s3cr3t"));
        assertThat(config.s3().settings()).isEqualTo(Map.of("endpoint", "http://127.0.0.1:9000", "path.style.access", "true", "secret-key", "s3cr3t"));
        assertThat(config.toString()).contains("endpoint=http://127.0.0.1:9000", "secret-key=[hidden]").doesNotContain("s3cr3t");
        Path file = Files.writeString(dir.resolve("job.yaml"), "s3:\n  endpoint: http://minio:9000\n  path.style.access: true\n");
        assertThat(JobConfig.load(file, Map.of("s3.access-key", "key")).s3().settings())
                .isEqualTo(Map.of("endpoint", "http://minio:9000", "path.style.access", "true", "access-key", "key"));
        assertThat(JobConfig.defaults().s3().settings()).isEmpty();
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("s3.endpoint", " ")))
                .isInstanceOf(ConfigException.class).hasMessage("s3.endpoint: must not be empty");
    }

    @Test
    void errorsNameTheKey() {
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("batching.max-size", "0")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("batching.max-size:");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("features.dtype", "int8")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("features.dtype:");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("batching.max-delay", "soon")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("batching.max-delay:");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("batching.max-szie", "8")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("batching.max-szie: unknown key (known here: max-delay, max-size;");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("batching.max-size", "many")))
                .isInstanceOf(ConfigException.class).hasMessage("batching.max-size: must be an integer, got 'many'");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("kafka.bounded", "maybe")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("kafka.bounded:");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("kafka.topics.tokens", " ")))
                .isInstanceOf(ConfigException.class).hasMessage("kafka.topics.tokens: must not be empty");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("model.device-id", "1")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("model.device-id: unknown key");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("kafka.transaction-timeout", "5s")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("kafka.transaction-timeout:");
    }
}
