package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.corpus.CorpusManifest;
import io.vqrae.pipeline.embedded.SampleImages;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenize-corpus} on the local MiniCluster writes the run report into {@code _SUCCESS.json}. */
class TokenizeCorpusReportTest {

    @Test
    void successJsonHoldsTheCpuPerInputByStageAndTheCostPerMillionAtThePrices(@TempDir Path dir) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        SampleImages.write(photos, 6);
        Path out = dir.resolve("out");

        int exit = VqraeCli.commandLine().execute("tokenize-corpus", "--input", photos.toString(), "--output", out.toString(),
                "--model", TestPaths.tinyModel().toString(), "--set", "report.core-hour-price=0.05", "--set", "report.gpu-hour-price=3");

        assertThat(exit).isZero();
        JsonNode success = new ObjectMapper().readTree(out.resolve(CorpusManifest.FILE_NAME).toFile());
        assertThat(success.get("counts").get("inputs").asLong()).isEqualTo(9);
        JsonNode report = success.get("report");
        assertThat(report.get("images").asLong()).as("every input, broken ones too").isEqualTo(9);
        JsonNode perImage = report.get("cpu_seconds_per_image");
        assertThat(perImage.get("decode").asDouble() + perImage.get("tokenizer").asDouble() + perImage.get("other").asDouble())
                .isCloseTo(perImage.get("total").asDouble(), offset(3e-6));
        assertThat(report.get("gpu_seconds").asDouble()).as("a CPU run").isZero();
        assertThat(report.get("core_hour_price").asDouble()).isEqualTo(0.05);
        assertThat(report.get("gpu_hour_price").asDouble()).isEqualTo(3.0);
        assertThat(report.get("cost_per_million_images").asDouble())
                .isCloseTo(report.get("cpu_seconds").asDouble() / 3600 * 0.05 / 9 * 1e6, offset(0.01));
    }
}
