package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import io.vqrae.models.testing.TestPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vqrae demo} as a user runs it: embedded broker, MiniCluster, JSON report and preview. */
class DemoCommandTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();

    @Test
    void demoReportCountsEveryInput(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.json");
        Path preview = dir.resolve("preview.png");
        int exit = VqraeCli.commandLine().execute(
                "demo", "--model", MODEL_DIR.toString(), "--samples", "6", "--report", report.toString(), "--preview", preview.toString());

        assertThat(exit).isZero();
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertThat(json.get("images_in").asInt()).isEqualTo(9);
        assertThat(json.get("token_records").asInt()).isEqualTo(6);
        assertThat(json.get("feature_records").asInt()).isEqualTo(6);
        assertThat(json.get("dead_letter_records").asInt()).isEqualTo(3);
        int byReason = 0;
        for (JsonNode count : json.get("dead_letter_reasons")) {
            byReason += count.asInt();
        }
        assertThat(byReason).isEqualTo(3);
        assertThat(json.get("dead_letter_reasons").get("empty_input").asInt()).isEqualTo(1);
        assertThat(json.get("images_per_second").asDouble()).isPositive();
        assertThat(json.get("codebook_utilization").asDouble()).isBetween(0.0, 1.0).isPositive();
        assertThat(Files.size(preview)).isPositive();
    }
}
