package io.vqrae.pipeline.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.PythonReference;
import io.vqrae.models.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vqrae bench} end to end on short settings: the parts that need neither Pillow's timing nor minutes (engine,
 * pipeline ceiling on a freshly exported null model, serialization) run, print their rows and write the report and
 * plot. Timing values are not asserted (this machine is noisy); what each part counted is.
 */
class BenchmarkTest {

    @Test
    void theBenchRunsItsPartsAndWritesTheTableReportAndPlot(@TempDir Path dir) throws Exception {
        Path nullModel = dir.resolve("null-tiny");
        PythonReference.run("export", "--config", "tiny", "--null", "--out", nullModel.toString());
        Path photos = Files.createDirectories(dir.resolve("photos"));
        for (String name : List.of("flower.png.im_q85_420.jpg", "flower.png.im_q85_444.jpg", "derived_exif_orientation6.jpg")) {
            Files.copy(TestPaths.testImage(name), photos.resolve(name));
        }
        Path report = dir.resolve("bench.json");
        Path plot = dir.resolve("bench.png");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        Map<String, Object> result = Benchmark.run(new Benchmark.Options(TestPaths.tinyModel(), nullModel, photos,
                EnumSet.of(Benchmark.Part.ENGINE, Benchmark.Part.CEILING, Benchmark.Part.SERIALIZATION), 0.2, 1, 600,
                Duration.ofSeconds(1), 0, 1, Path.of("/usr/share/backgrounds"), TestPaths.python(), TestPaths.root().resolve("models/python"),
                // Commits every 200 ms, so a short run still has several to time between.
                Map.of("checkpoint.interval", "200ms", "report.core-hour-price", "0.05"), report, plot),
                new PrintStream(printed, true, StandardCharsets.UTF_8));

        String table = printed.toString(StandardCharsets.UTF_8);
        assertThat(table).contains("| part | measure | result | against |");
        for (int batch : Benchmark.BATCH_SIZES) {
            assertThat(table).contains("| 1 engine | encoder graph, batch " + batch + ", pre-made uint8 | bare ORT ");
        }
        assertThat(table).contains("| 3 ceiling | whole job, null model, steady state |");
        assertThat(table).contains("produce 576 KiB feature records to the embedded broker, lz4");
        assertThat((List<?>) result.get("engine")).hasSize(Benchmark.BATCH_SIZES.size());
        @SuppressWarnings("unchecked")
        Map<String, Object> ceiling = (Map<String, Object>) result.get("ceiling");
        // 600 images through the job, timed from the first commit past a quarter of them to the last.
        assertThat((long) ceiling.get("measured_images")).isBetween(1L, 450L);
        assertThat((double) ceiling.get("images_per_second")).isPositive();
        // The run report of the same commits: CPU per image by stage, priced.
        assertThat(table).containsPattern("\\| 3 ceiling \\|   CPU per image by stage \\| decode [0-9.]+ ms, tokenizer/encoder [0-9.]+ ms,"
                + " Flink/Kafka/other [0-9.]+ ms \\| cost per million images [0-9.]+ \\|");
        @SuppressWarnings("unchecked")
        Map<String, Object> run = (Map<String, Object>) ceiling.get("run_report");
        assertThat(run.get("images")).isEqualTo(ceiling.get("measured_images"));
        assertThat((double) run.get("cost_per_million_images")).isPositive();
        @SuppressWarnings("unchecked")
        Map<String, Double> perImage = (Map<String, Double>) run.get("cpu_seconds_per_image");
        assertThat(perImage.get("decode")).as("decode threads found").isPositive();
        assertThat(perImage.get("tokenizer")).as("tokenizer threads found").isPositive();
        assertThat(Files.readString(report)).contains("\"ceiling\"", "\"engine\"", "\"serialization\"");
        BufferedImage png = ImageIO.read(plot.toFile());
        assertThat(png.getWidth()).isEqualTo(900);
        assertThat(png.getHeight()).isEqualTo(480);
    }

    @Test
    void photosAreGroupedByFolderOrByExtension(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("jpeg"));
        Files.write(dir.resolve("jpeg/a.jpg"), new byte[] {1});
        Files.write(dir.resolve("b.JPG"), new byte[] {1});
        Files.write(dir.resolve("c.webp"), new byte[] {1});
        Files.write(dir.resolve(".hidden.png"), new byte[] {1});

        Map<String, List<Path>> groups = Benchmark.group(dir);

        assertThat(groups).containsOnlyKeys("jpeg", "webp");
        assertThat(groups.get("jpeg")).containsExactly(dir.resolve("b.JPG"), dir.resolve("jpeg/a.jpg"));
    }
}
