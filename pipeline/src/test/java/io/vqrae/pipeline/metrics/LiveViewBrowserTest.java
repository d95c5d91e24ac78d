package io.vqrae.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.operators.metrics.LiveView;
import io.vqrae.operators.metrics.PipelineMetrics;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.testing.LogCapture;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live view in a real browser during a real run: the streaming job on the embedded broker and a local
 * MiniCluster with {@code metrics.preview}, and Debian's headless Chromium (installed by bin/setup) loading
 * {@code /preview} while the job runs. The screenshot is decoded and every picture on it (each has a border of
 * {@link LiveView#FRAME_COLOR}, nothing else does) must hold an image, not a blank area: the sampled inputs, their
 * reconstructions and the codebook plot. The same run's JVM logs its run report every second.
 *
 * <p>The screenshot is left in {@code pipeline/target/screenshots/live-view.png}; the README shows a copy
 * ({@code docs/images/live-view.png}).
 */
class LiveViewBrowserTest {
    private static final String JOB = "live-view";
    private static final int IMAGES = 24;
    /** The broken files {@link SampleImages} writes beside the images: dead letters. */
    private static final int BROKEN = 3;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int BORDER = 4;

    @TempDir
    Path temp;

    @Test
    void chromiumShowsTheSampledInputsTheirReconstructionsAndTheCodebookWhileTheJobRuns() throws Exception {
        int port = MetricsEndToEndTest.freePort();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024); LogCapture log = LogCapture.install(Level.INFO)) {
            Map<String, String> settings = MetricsEndToEndTest.jobSettings(JOB, kafka, port);
            settings.put("metrics.address", "127.0.0.1");
            settings.put("metrics.psnr-every", "1");
            settings.put("metrics.preview", "true");
            settings.put("report.core-hour-price", "0.05");
            settings.put("report.log-every", "1s");
            JobConfig config = JobConfig.fromMap(settings);
            JobPlan plan = JobPlan.resolve(config, JOB);
            writeInputs(config);

            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
            new TokenizeJob(plan).attach(env);
            JobClient job = env.executeAsync(JOB);
            try {
                URI page = URI.create("http://127.0.0.1:" + port + LiveView.PATH);
                String html = awaitEveryImage(page);
                int pairs = count(html, "alt=\"reconstruction\"");
                assertThat(count(html, "alt=\"input\"")).isEqualTo(pairs).isBetween(2, LiveView.SAMPLES);
                assertThat(html).contains("<h2>" + JOB + "</h2>", "Codebook usage of the health window", "images/s now", "PSNR ",
                        "<td>truncated (decode)</td><td>1</td></tr>", "<td>empty_input (decode)</td><td>1</td></tr>",
                        "<td>unsupported_format (decode)</td><td>1</td></tr>", IMAGES + " images tokenized since it started here");
                assertThat(HTTP.send(HttpRequest.newBuilder(page.resolve("/other")).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode()).isEqualTo(404);

                Path png = screenshot(page);
                BufferedImage shot = ImageIO.read(png.toFile());
                List<Rectangle> pictures = framedPictures(shot, Integer.parseInt(LiveView.FRAME_COLOR.substring(1), 16));
                assertThat(pictures).as("the inputs, reconstructions and codebook plot on the screenshot").hasSize(2 * pairs + 1);
                for (Rectangle picture : pictures) {
                    assertThat(distinctColours(shot, picture)).as("colours inside %s", picture).isGreaterThanOrEqualTo(16);
                    assertThat(lumaDeviation(shot, picture)).as("luma deviation inside %s (0 for a blank area)", picture).isGreaterThan(10);
                }
                Path kept = Path.of(System.getProperty("vqrae.screenshots.dir", "target/screenshots")).resolve("live-view.png");
                Files.createDirectories(kept.getParent());
                Files.copy(png, kept, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                job.cancel().get(1, TimeUnit.MINUTES);
            }
            // The streaming job's own cost log: this JVM's CPU per image by stage and the cost at the price set.
            Matcher logged = Pattern.compile("run report, this JVM, last 1s: (\\d+) images; CPU per image decode [0-9.]+ ms,"
                    + " tokenizer/encoder [0-9.]+ ms, Flink/Kafka/other [0-9.]+ ms; total [0-9.]+ ms; GPU 0.000 s per image;"
                    + " cost per million images [0-9.]+ at 0.05 per core-hour").matcher(log.text());
            long images = 0;
            while (logged.find()) {
                images += Long.parseLong(logged.group(1));
            }
            assertThat(images).as("images in the report lines: " + log.text().lines().filter(l -> l.contains("run report")).toList())
                    .isPositive().isLessThanOrEqualTo(IMAGES + BROKEN);
        }
    }

    private static void writeInputs(JobConfig config) throws Exception {
        Path dir = Files.createTempDirectory("live-view-");
        SampleImages.write(dir, IMAGES);
        try (InputWriter writer = new InputWriter(config.kafka()); Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                writer.send(file.getFileName().toString(), Files.readAllBytes(file), null);
            }
        }
    }

    /** The page once the job tokenized every good input and the view shows samples, codebook and throughput. */
    private static String awaitEveryImage(URI page) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            String html = null;
            try {
                html = HTTP.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.ofString()).body();
            } catch (IOException notYet) {
                // the endpoint starts with the first operator
            }
            if (PipelineMetrics.total("vqrae_images_tokenized", JOB) == IMAGES && html != null && html.contains("images/s now")
                    && count(html, "alt=\"reconstruction\"") >= 2 && PipelineMetrics.total("vqrae_dead_letters", JOB) == BROKEN) {
                // One more round, so samples still being decoded are on the page.
                Thread.sleep(1_000);
                return HTTP.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.ofString()).body();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("The live view never showed the whole run; last page:\n" + html);
            }
            Thread.sleep(500);
        }
    }

    /** Headless Chromium's screenshot of {@code page}, a fresh profile, nothing fetched but the page. */
    private Path screenshot(URI page) throws Exception {
        Path png = temp.resolve("live-view.png");
        Process chromium = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + temp.resolve("chromium-profile"), "--hide-scrollbars", "--force-device-scale-factor=1",
                "--window-size=1280,2000", "--screenshot=" + png, page.toString())
                .redirectErrorStream(true).redirectOutput(temp.resolve("chromium.log").toFile()).start();
        assertThat(chromium.waitFor(2, TimeUnit.MINUTES)).as("chromium finished").isTrue();
        assertThat(chromium.exitValue()).as(Files.readString(temp.resolve("chromium.log"))).isZero();
        assertThat(png).exists();
        return png;
    }

    /**
     * The insides of the rectangles drawn in {@code rgb}: each 4-connected region of that colour whose bounding box
     * is at least 32 pixels wide and high and which lies along the box's edges is a picture's border.
     */
    static List<Rectangle> framedPictures(BufferedImage image, int rgb) {
        int w = image.getWidth();
        int h = image.getHeight();
        boolean[] seen = new boolean[w * h];
        List<Rectangle> pictures = new ArrayList<>();
        for (int start = 0; start < w * h; start++) {
            if (seen[start] || (image.getRGB(start % w, start / w) & 0xffffff) != rgb) {
                continue;
            }
            int minX = w;
            int minY = h;
            int maxX = 0;
            int maxY = 0;
            List<Integer> region = new ArrayList<>();
            ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(start));
            seen[start] = true;
            while (!queue.isEmpty()) {
                int p = queue.poll();
                region.add(p);
                int x = p % w;
                int y = p / w;
                minX = Math.min(minX, x);
                minY = Math.min(minY, y);
                maxX = Math.max(maxX, x);
                maxY = Math.max(maxY, y);
                for (int q : new int[] {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1}) {
                    if (q >= 0 && !seen[q] && (image.getRGB(q % w, q / w) & 0xffffff) == rgb) {
                        seen[q] = true;
                        queue.add(q);
                    }
                }
            }
            Rectangle box = new Rectangle(minX, minY, maxX - minX + 1, maxY - minY + 1);
            int bx0 = minX;
            int by0 = minY;
            int bx1 = maxX;
            int by1 = maxY;
            boolean border = box.width >= 32 && box.height >= 32 && region.stream().allMatch(p -> p % w < bx0 + BORDER
                    || p % w > bx1 - BORDER || p / w < by0 + BORDER || p / w > by1 - BORDER);
            if (border) {
                pictures.add(new Rectangle(minX + BORDER, minY + BORDER, box.width - 2 * BORDER, box.height - 2 * BORDER));
            }
        }
        return pictures;
    }

    private static int distinctColours(BufferedImage image, Rectangle area) {
        Set<Integer> colours = new HashSet<>();
        for (int y = area.y; y < area.y + area.height; y++) {
            for (int x = area.x; x < area.x + area.width; x++) {
                colours.add(image.getRGB(x, y) & 0xffffff);
            }
        }
        return colours.size();
    }

    private static double lumaDeviation(BufferedImage image, Rectangle area) {
        double sum = 0;
        double squares = 0;
        int n = area.width * area.height;
        for (int y = area.y; y < area.y + area.height; y++) {
            for (int x = area.x; x < area.x + area.width; x++) {
                int rgb = image.getRGB(x, y);
                double luma = 0.299 * (rgb >> 16 & 255) + 0.587 * (rgb >> 8 & 255) + 0.114 * (rgb & 255);
                sum += luma;
                squares += luma * luma;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, squares / n - mean * mean));
    }

    private static int count(String text, String needle) {
        return text.split(Pattern.quote(needle), -1).length - 1;
    }
}
