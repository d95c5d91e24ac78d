package io.vqrae.pipeline.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.operators.tokenize.FeatureMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

    @Test
    void everyKeyHasADefault() {
        JobConfig config = JobConfig.defaults();
        assertThat(config.kafka().topics().input()).isEqualTo("vqrae.images");
        assertThat(config.features().mode()).isEqualTo(FeatureMode.PER_TOKEN);
        assertThat(config.features().dtype()).isEqualTo(FeatureDtype.FLOAT16);
        assertThat(config.batching().maxDelay()).isEqualTo(Duration.ofMillis(50));
        assertThat(config.kafka().clientProperties()).isEmpty();
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
        assertThat(config.kafka().clientProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(config.features().mode()).isEqualTo(FeatureMode.POOLED);
        assertThat(config.features().dtype()).isEqualTo(FeatureDtype.BFLOAT16);
        assertThat(config.batching().maxSize()).isEqualTo(32);
        assertThat(config.parallelism().tokenizer()).isEqualTo(2);
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
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("batching.max-szie: unknown key");
        assertThatThrownBy(() -> JobConfig.fromMap(Map.of("kafka.transaction-timeout", "5s")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("kafka.transaction-timeout:");
    }
}
