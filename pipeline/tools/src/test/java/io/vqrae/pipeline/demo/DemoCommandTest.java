package io.vqrae.pipeline.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.tools.ToolsCli;
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
        int exit = ToolsCli.commandLine().execute(
                "demo", "--model", MODEL_DIR.toString(), "--samples", "6", "--report", report.toString(), "--preview", preview.toString(),
                "--codebook-plot", plot.toString(), "--set", "metrics.port=0", "--set", "report.core-hour-price=0.05");

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
        // The run report: this JVM's CPU by stage over the job's run, per input image, and its cost at the price set.
        JsonNode run = json.get("run_report");
        assertThat(run.get("images").asInt()).isEqualTo(9);
        JsonNode perImage = run.get("cpu_seconds_per_image");
        // Which threads are which stage is ThreadCpuTest's and BenchmarkTest's: 9 images take the decoders less
        // than /proc's tick of 10 ms. Here: the stages add up, and the cost is their CPU at the price.
        assertThat(perImage.get("decode").asDouble() + perImage.get("tokenizer").asDouble() + perImage.get("other").asDouble())
                .isCloseTo(perImage.get("total").asDouble(), org.assertj.core.data.Offset.offset(3e-6));
        assertThat(perImage.get("total").asDouble()).isCloseTo(run.get("cpu_seconds").asDouble() / 9, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(run.get("gpu_seconds").asDouble()).as("a CPU run").isZero();
        assertThat(run.get("cost_per_million_images").asDouble())
                .isCloseTo(run.get("cpu_seconds").asDouble() / 3600 * 0.05 / 9 * 1e6, org.assertj.core.data.Offset.offset(0.01));
        BufferedImage image = ImageIO.read(plot.toFile());
        assertThat(image.getWidth()).as("the documented size, 900 x 420").isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(420);
    }
}
