package io.vqrae.pipeline.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.reliability.HostileInputs.Input;
import io.vqrae.pipeline.testing.ChildJvm;
import io.vqrae.pipeline.testing.ReliabilitySection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory stays bounded under attack: 200 decompression bombs and oversized inputs through the job with decode
 * parallelism 2 in a JVM of its own with a 1 GiB heap ({@link AttackedJob}), which exits on the first
 * OutOfMemoryError anywhere (-XX:+ExitOnOutOfMemoryError). Writes the {@code memory} section of docs/RELIABILITY.md.
 */
@Tag("reliability")
class MemoryUnderAttackTest {
    private static final int BOMBS = 200;
    private static final String HEAP = "-Xmx1g";

    @Test
    void twoHundredBombsInAOneGibHeapEndAsDeadLettersWithoutOutOfMemoryOrRestart(@TempDir Path dir) throws Exception {
        List<Input> bombs = HostileInputs.bombs(BOMBS);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 << 20)) {
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("model.dir", TestPaths.tinyModel().toString());
            settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
            settings.put("kafka.bounded", "true");
            settings.put("kafka.starting-offsets", "earliest");
            settings.put("parallelism.decode", "2");
            settings.put("checkpoint.interval", "2s");
            settings.put("metrics.port", "0");
            settings.put("limits.max-pixels", Long.toString(HostileInputs.ATTACK_MAX_PIXELS));
            settings.put("limits.max-image-bytes", Integer.toString(HostileInputs.ATTACK_MAX_IMAGE_BYTES));
            JobConfig config = JobConfig.fromMap(settings);
            JobPlan.resolve(config, "memory-under-attack"); // creates the topics, sized for the inputs
            Map<Long, Input> byOffset = HostileInputs.send(config.kafka(), bombs);

            Path report = dir.resolve("attacked-job.json");
            int exit = runChild(report, settings, dir.resolve("attacked-job.log"));
            assertThat(exit).as("job JVM exit code (3: OutOfMemoryError; log in attacked-job.log)").isZero();
            JsonNode seen = new ObjectMapper().readTree(report.toFile());

            OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), Duration.ofMinutes(1));
            Map<Long, String> outcomes = HostileInputs.outcomesByOffset(out);
            Map<String, String> expected = new LinkedHashMap<>();
            Map<String, String> actual = new LinkedHashMap<>();
            Map<String, int[]> byKind = new TreeMap<>();
            byOffset.forEach((offset, bomb) -> {
                expected.put(bomb.name(), bomb.expected().toString());
                String outcome = outcomes.getOrDefault(offset, "nothing");
                actual.put(bomb.name(), outcome);
                int[] counts = byKind.computeIfAbsent(bomb.category() + "\u0000" + bomb.expected() + "\u0000" + outcome, k -> new int[1]);
                counts[0]++;
            });
            section(seen, byKind, out.tokens().size(), out.deadLetters().size()).write();

            assertThat(seen.get("status").asText()).isEqualTo("FINISHED");
            assertThat(seen.get("restarts").asInt()).as("job restarts").isZero();
            assertThat(actual).containsExactlyEntriesOf(expected);
            assertThat(out.tokens().size() + out.deadLetters().size()).isEqualTo(BOMBS);
        }
    }

    private static int runChild(Path report, Map<String, String> settings, Path log) throws Exception {
        List<String> args = new ArrayList<>(List.of(report.toString()));
        settings.forEach((key, value) -> args.add(key + "=" + value));
        Process child = ChildJvm.start(ChildJvm.command(List.of(HEAP, "-XX:+ExitOnOutOfMemoryError"), AttackedJob.class.getName(), args), log);
        if (!child.waitFor(10, TimeUnit.MINUTES)) {
            child.destroyForcibly();
            throw new AssertionError("The job JVM did not finish within 10 minutes; its log: " + log);
        }
        return child.exitValue();
    }

    private static ReliabilitySection section(JsonNode seen, Map<String, int[]> byKind, int tokenized, int dead) {
        String summary = String.format("%d bombs and oversized inputs through the job in a JVM of its own (%s, -XX:+ExitOnOutOfMemoryError: "
                        + "any OutOfMemoryError ends the run), decode parallelism 2, limits.max-pixels %d, limits.max-image-bytes %d. "
                        + "Heap peak %d MiB of %d MiB (sum of the heap pools' peaks, an upper bound); RSS peak (VmHWM) %d MiB. "
                        + "%d tokenized + %d dead-lettered = %d in; job restarts %d (final status %s). "
                        + "Regenerated by MemoryUnderAttackTest (bin/test).",
                BOMBS, HEAP, HostileInputs.ATTACK_MAX_PIXELS, HostileInputs.ATTACK_MAX_IMAGE_BYTES,
                seen.get("heap_peak_bytes").asLong() >> 20, seen.get("heap_max_bytes").asLong() >> 20, seen.get("rss_peak_kib").asLong() >> 10,
                tokenized, dead, tokenized + dead, seen.get("restarts").asInt(), seen.get("status").asText());
        List<List<String>> rows = new ArrayList<>();
        byKind.forEach((key, count) -> {
            String[] parts = key.split("\u0000");
            rows.add(List.of(parts[0], Integer.toString(count[0]), parts[1], parts[2]));
        });
        return new ReliabilitySection("memory", "Memory under attack", summary, List.of("input", "count", "expected", "outcome"), rows);
    }
}
