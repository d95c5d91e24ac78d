package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vqrae demo} as a user runs it: embedded broker, MiniCluster, JSON report and preview. */
class DemoCommandTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();

    @Test
    void demoReportCountsEveryInput(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report.json");
        Path preview = dir.resolve("preview.png");
        Path plot = dir.resolve("codebook.png");
        int exit = VqraeCli.commandLine().execute(
                "demo", "--model", MODEL_DIR.toString(), "--samples", "6", "--report", report.toString(), "--preview", preview.toString(),
                "--codebook-plot", plot.toString(), "--set", "metrics.port=0");

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
        int used = json.get("codebook_used_codes").asInt();
        assertThat(json.get("codebook_dead_codes").asInt()).isEqualTo(TestPaths.manifest(MODEL_DIR).codebookSize() - used);
        assertThat(json.get("codebook_perplexity").asDouble()).isBetween(1.0, (double) used);
        assertThat(json.get("preview_psnr_db").asDouble()).isPositive();
        assertThat(json.get("sampled_psnr_db").isNull()).as("PSNR sampling is off by default").isTrue();
        BufferedImage image = ImageIO.read(plot.toFile());
        assertThat(image.getWidth()).as("the documented size, 900 x 420").isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(420);
    }
}
