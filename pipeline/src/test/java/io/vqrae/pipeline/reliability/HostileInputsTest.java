package io.vqrae.pipeline.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.reliability.HostileInputs.Input;
import io.vqrae.pipeline.testing.ReliabilitySection;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-input campaign ({@link HostileInputs}) through the real streaming job: every input ends exactly once as
 * tokens or as one dead letter with the expected stage and reason, and the job never restarts because of them.
 * Writes the {@code hostile-inputs} section of docs/RELIABILITY.md.
 */
@Tag("reliability")
class HostileInputsTest {
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(1);

    @Test
    void everyHostileInputEndsExactlyOnceAsExpectedWithoutARestart(@TempDir Path dir) throws Exception {
        List<Input> inputs = HostileInputs.all(dir);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 << 20)) {
            JobConfig config = JobConfig.fromMap(Map.ofEntries(
                    Map.entry("model.dir", TestPaths.tinyModel().toString()),
                    Map.entry("kafka.bootstrap-servers", kafka.bootstrapServers()),
                    Map.entry("kafka.bounded", "true"),
                    Map.entry("kafka.starting-offsets", "earliest"),
                    Map.entry("parallelism.decode", "2"),
                    Map.entry("batching.max-size", "8"),
                    Map.entry("checkpoint.interval", "2s"),
                    Map.entry("limits.max-pixels", Long.toString(HostileInputs.MAX_PIXELS)),
                    Map.entry("limits.max-image-bytes", Integer.toString(HostileInputs.MAX_IMAGE_BYTES))));
            TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, "hostile-inputs"));
            Map<Long, Input> byOffset = send(config.kafka(), inputs);

            ObservedRun.Result run = ObservedRun.run(job, "hostile-inputs", 2);

            OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), READ_TIMEOUT);
            Map<Long, List<String>> outcomes = new TreeMap<>();
            for (TokenRecord t : out.tokens()) {
                outcomes.computeIfAbsent(t.getSourceOffset(), o -> new ArrayList<>()).add("tokenized");
            }
            for (DeadLetterRecord d : out.deadLetters()) {
                outcomes.computeIfAbsent(d.getSourceOffset(), o -> new ArrayList<>()).add(d.getStage() + "/" + d.getReason());
            }
            Map<String, String> expected = new LinkedHashMap<>();
            Map<String, String> actual = new LinkedHashMap<>();
            byOffset.forEach((offset, input) -> {
                expected.put(input.name(), input.expected().toString());
                actual.put(input.name(), String.join(" + ", outcomes.getOrDefault(offset, List.of("nothing"))));
            });
            int tokenized = out.tokens().size();
            int dead = out.deadLetters().size();
            ReliabilitySection section = section(inputs, actual, run, tokenized, dead);
            section.write();

            assertThat(run.status()).isEqualTo(JobStatus.FINISHED);
            assertThat(run.restarts()).as("job restarts").isZero();
            assertThat(actual).containsExactlyEntriesOf(expected);
            assertThat(outcomes.keySet()).containsExactlyInAnyOrderElementsOf(byOffset.keySet());
            assertThat(tokenized + dead).as("tokenized + dead-lettered").isEqualTo(inputs.size());
            assertThat(out.features()).extracting(FeatureRecord::getSourceOffset)
                    .containsExactlyInAnyOrderElementsOf(out.tokens().stream().map(TokenRecord::getSourceOffset).toList());
        }
    }

    /** Produces every input as it is (key, value, headers) with a plain producer; returns the inputs by offset. */
    private static Map<Long, Input> send(JobConfig.Kafka kafka, List<Input> inputs) throws Exception {
        Properties props = KafkaClients.properties(kafka);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(64 << 20));
        Map<Long, Input> byOffset = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Input input : inputs) {
                long offset = producer.send(new ProducerRecord<>(kafka.topics().input(), 0, input.key(), input.value(), input.headers()))
                        .get().offset();
                byOffset.put(offset, input);
            }
        }
        return byOffset;
    }

    private static ReliabilitySection section(List<Input> inputs, Map<String, String> actual, ObservedRun.Result run, int tokenized, int dead) {
        long matched = inputs.stream().filter(i -> i.expected().toString().equals(actual.get(i.name()))).count();
        long lost = actual.values().stream().filter("nothing"::equals).count();
        long duplicated = actual.values().stream().filter(a -> a.contains(" + ")).count();
        String summary = String.format("%d inputs (%d categories) through the streaming job on an embedded Kafka broker and a MiniCluster, "
                        + "decode parallelism 2, limits.max-pixels %d, limits.max-image-bytes %d; outputs read read_committed. "
                        + "%d tokenized + %d dead-lettered = %d in; %d as expected; lost %d, duplicated %d; job restarts %d (final status %s). "
                        + "Regenerated by HostileInputsTest (bin/test).",
                inputs.size(), inputs.stream().map(Input::category).distinct().count(), HostileInputs.MAX_PIXELS, HostileInputs.MAX_IMAGE_BYTES,
                tokenized, dead, tokenized + dead, matched, lost, duplicated, run.restarts(), run.status());
        List<List<String>> rows = new ArrayList<>();
        for (Input input : inputs) {
            rows.add(List.of(input.category(), input.name(), input.what(), input.expected().toString(), actual.get(input.name())));
        }
        return new ReliabilitySection("hostile-inputs", "Hostile input campaign", summary,
                List.of("category", "input", "what", "expected", "outcome"), rows);
    }
}
