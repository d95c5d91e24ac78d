package io.vqrae.pipeline.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.metrics.PipelineMetrics;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real job (in-JVM broker + MiniCluster) with its Prometheus endpoint and Flink's own Prometheus reporter,
 * scraped during and after the run, and a real Prometheus server (Debian's, installed by bin/setup) scraping both,
 * against which every PromQL expression of the Grafana dashboard is evaluated while the job runs: the job reads its
 * input unbounded and is cancelled once its outputs are committed, since Flink drops a job's metrics when it ends.
 * The same server evaluates the alerting rules of deploy/prometheus/alerts.yml (their cases are AlertRulesTest's,
 * under promtool): every series they read exists, and every rule evaluates without an error.
 */
class MetricsEndToEndTest {
    private static final String JOB = "metrics-e2e";
    private static final int GOOD = 12;
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)$");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @Test
    void metricsFollowFromTheInputAndEveryDashboardQueryAnswersOnARealPrometheus() throws Exception {
        int metricsPort = freePort();
        int flinkMetricsPort = freePort();
        int prometheusPort = freePort();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024)) {
            Map<String, String> settings = jobSettings(JOB, kafka, metricsPort);
            settings.put("metrics.psnr-every", "3");
            JobConfig config = JobConfig.fromMap(settings);
            JobPlan plan = JobPlan.resolve(config, JOB);
            int sent = writeInputs(config);

            try (PipelineMetrics.Lease lease = PipelineMetrics.acquire(plan.metrics());
                    PrometheusServer prometheus = PrometheusServer.start(temp, prometheusPort, metricsPort, flinkMetricsPort);
                    JobMetrics opened = JobMetrics.open(plan.metrics(), 0)) {
                assertThat(PipelineMetrics.port()).isEqualTo(metricsPort);
                // What an operator's open does: the job's counters exist at 0. Prometheus must have seen them
                // there before the job runs, or a job faster than a scrape leaves no increase for rate().
                prometheus.awaitValue("sum(vqrae_images_tokenized_total{job=\"" + JOB + "\"})", 0);
                Scraper scraper = new Scraper(metricsPort);
                scraper.start();
                Configuration flinkReporter = new Configuration();
                flinkReporter.setString("metrics.reporter.prom.factory.class", PrometheusReporterFactory.class.getName());
                flinkReporter.setString("metrics.reporter.prom.port", Integer.toString(flinkMetricsPort));
                // As deploy/k8s sets it: job_name keeps its '-', as the dashboard's $job (our series' job label) has it.
                flinkReporter.setString("metrics.reporter.prom.filterLabelValueCharacters", "false");
                StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, flinkReporter);
                new TokenizeJob(plan).attach(env);
                JobClient job = env.executeAsync(JOB);
                String flinkJob = "{job_name=\"" + JOB + "\"}";
                try {
                    // Every input handled and its outputs committed (by a checkpoint), the job still running.
                    prometheus.awaitValue("sum(vqrae_images_tokenized_total{job=\"" + JOB + "\"}) + sum(vqrae_dead_letters_total{job=\""
                            + JOB + "\"})", sent);
                    awaitCommitted(config, GOOD, sent - GOOD);
                    prometheus.awaitAtLeast("max(flink_jobmanager_job_numberOfCompletedCheckpoints" + flinkJob + ")", 1);
                    Thread.sleep(1_000); // a few more scrapes, so every series has two samples for rate()
                    dashboardAnswers(prometheus);
                    alertRulesAnswer(prometheus);

                    // Flink's panels, against what this run did.
                    assertThat(prometheus.value("max(flink_jobmanager_job_numRestarts" + flinkJob + ")")).as("no restart").isZero();
                    assertThat(prometheus.value("max(flink_jobmanager_job_lastCheckpointDuration" + flinkJob + ")")).as("a checkpoint completed")
                            .isGreaterThanOrEqualTo(0);
                    assertThat(labels(prometheus.awaitSeries("max by (task_name) (flink_taskmanager_job_task_backPressuredTimeMsPerSecond"
                            + flinkJob + ")"), "task_name")).anyMatch(task -> task.contains("decode")).anyMatch(task -> task.startsWith("tokenize"));
                    double encoderBusy = prometheus.value("max(vqrae_tokenizer_busy_ratio{job=\"" + JOB + "\"})");
                    assertThat(encoderBusy).as("the encoder ran").isPositive().isLessThanOrEqualTo(1);
                } finally {
                    job.cancel().get();
                }
                scraper.stop();
                assertThat(scraper.scrapesWithTheJob.get()).as("scrapes during the run that showed the job").isPositive();

                Map<String, Double> after = scrape(metricsPort);
                double consumed = sum(after, "vqrae_images_consumed_total", Map.of());
                double tokenized = sum(after, "vqrae_images_tokenized_total", Map.of());
                double deadLetters = sum(after, "vqrae_dead_letters_total", Map.of());
                assertThat(consumed).as("consumed == sent").isEqualTo(sent);
                assertThat(tokenized).isEqualTo(GOOD);
                assertThat(tokenized + deadLetters).as("tokenized + dead-lettered == consumed").isEqualTo(consumed);
                assertThat(sum(after, "vqrae_dead_letters_total", Map.of("reason", "truncated"))).isEqualTo(1);
                assertThat(sum(after, "vqrae_dead_letters_total", Map.of("reason", "empty_input"))).isEqualTo(1);
                assertThat(sum(after, "vqrae_dead_letters_total", Map.of("reason", "unsupported_format"))).isEqualTo(1);
                assertThat(sum(after, "vqrae_dead_letters_total", Map.of("reason", "malformed_record", "stage", "source"))).isEqualTo(1);
                assertThat(sum(after, "vqrae_inference_image_seconds_count", Map.of())).as("histogram _count == tokenized").isEqualTo(tokenized);
                assertThat(sum(after, "vqrae_images_decoded_total", Map.of())).isEqualTo(GOOD);
                assertThat(sum(after, "vqrae_decode_seconds_count", Map.of())).as("decode histogram _count == decoded").isEqualTo(GOOD);
                assertThat(sum(after, "vqrae_end_to_end_latency_seconds_count", Map.of())).isEqualTo(consumed);
                assertThat(sum(after, "vqrae_batch_size_sum", Map.of())).isEqualTo(tokenized);
                assertThat(sum(after, "vqrae_records_written_total", Map.of("topic", JOB + ".tokens"))).isEqualTo(GOOD);
                assertThat(sum(after, "vqrae_reconstruction_psnr_db_count", Map.of())
                        + sum(after, "vqrae_reconstruction_samples_skipped_total", Map.of())).as("every 3rd image sampled or skipped")
                        .isEqualTo(GOOD / 3);

                // Window utilisation equals what the committed outputs show.
                Set<Integer> ids = new HashSet<>();
                for (TokenRecord record : OutputReader.readCommitted(config.kafka(), Duration.ofSeconds(60)).tokens()) {
                    for (int id : TokenIds.decode(record.getTokenIds(), record.getDtype())) {
                        ids.add(id);
                    }
                }
                double expected = ids.size() / (double) plan.manifest().codebookSize();
                assertThat(sum(after, "vqrae_codebook_utilization_window_ratio", Map.of())).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-12));
                assertThat(sum(after, "vqrae_codebook_dead_codes", Map.of())).isEqualTo(plan.manifest().codebookSize() - ids.size());
                assertThat(sum(after, "vqrae_codebook_perplexity", Map.of())).isBetween(1.0, (double) ids.size());
                assertThat(sum(after, "vqrae_decode_memory_capacity_bytes", Map.of())).as("60% of the heap")
                        .isEqualTo((double) (long) (Runtime.getRuntime().maxMemory() * 0.6));

            }
        }
    }

    /** Waits until the job's committed outputs hold {@code tokens} token records and {@code deadLetters} dead letters. */
    private static void awaitCommitted(JobConfig config, int tokens, int deadLetters) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        OutputReader.Outputs outputs;
        do {
            outputs = OutputReader.readCommitted(config.kafka(), Duration.ofSeconds(10));
            if (outputs.tokens().size() == tokens && outputs.deadLetters().size() == deadLetters) {
                return;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("committed: " + outputs.tokens().size() + " token records and " + outputs.deadLetters().size()
                + " dead letters, not " + tokens + " and " + deadLetters);
    }

    /** A real Prometheus scraped the running job: every dashboard expression answers with at least one series. */
    private static void dashboardAnswers(PrometheusServer prometheus) throws Exception {
        List<String> expressions = dashboardExpressions();
        assertThat(expressions).hasSizeGreaterThanOrEqualTo(25);
        for (String expression : expressions) {
            String query = expression.replace("$__rate_interval", "1m").replace("$job", JOB);
            JsonNode result = prometheus.awaitSeries(query);
            if (expression.startsWith("sum(rate(vqrae_images_tokenized_total")) {
                assertThat(result.get(0).get("value").get(1).asDouble()).as("throughput").isPositive();
            }
        }
    }

    /** The values of label {@code name} in a query's result. */
    private static List<String> labels(JsonNode result, String name) {
        List<String> values = new ArrayList<>();
        result.forEach(series -> values.add(series.get("metric").path(name).asText()));
        return values;
    }

    /**
     * Every series deploy/prometheus/alerts.yml reads exists under the name and labels it uses, and every rule
     * evaluated on the real server without an error.
     */
    private static void alertRulesAnswer(PrometheusServer prometheus) throws Exception {
        Set<String> alertSeries = alertSeries();
        assertThat(alertSeries).contains("vqrae_decode_memory_wait_seconds_total", "vqrae_kafka_consumer_lag_records");
        for (String series : alertSeries) {
            prometheus.awaitSeries("count(" + series + "{job=\"" + JOB + "\"})");
        }
        prometheus.awaitRulesEvaluated(alertRules());
    }

    /** The names of the vqrae series deploy/prometheus/alerts.yml reads, in its expressions and descriptions. */
    static Set<String> alertSeries() throws IOException {
        Matcher m = Pattern.compile("vqrae_[a-z_]+").matcher(Files.readString(TestPaths.root().resolve("deploy/prometheus/alerts.yml")));
        Set<String> names = new java.util.TreeSet<>();
        while (m.find()) {
            names.add(m.group());
        }
        names.remove("vqrae_stream"); // the group's name
        return names;
    }

    /** The alert names of deploy/prometheus/alerts.yml. */
    static List<String> alertRules() throws IOException {
        return new YAMLMapper().readTree(TestPaths.root().resolve("deploy/prometheus/alerts.yml").toFile())
                .findValuesAsText("alert");
    }

    private static int writeInputs(JobConfig config) throws Exception {
        Path dir = Files.createTempDirectory("metrics-e2e-");
        SampleImages.write(dir, GOOD);
        int sent = 0;
        try (InputWriter writer = new InputWriter(config.kafka()); Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                writer.send(file.getFileName().toString(), Files.readAllBytes(file), null);
                sent++;
            }
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                KafkaClients.properties(config.kafka()), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(config.kafka().topics().input(), "raw".getBytes(StandardCharsets.UTF_8),
                    "not an ImageRecord".getBytes(StandardCharsets.UTF_8))).get();
            sent++;
        }
        return sent;
    }

    /** Every PromQL expression of deploy/grafana/vqrae.json. */
    static List<String> dashboardExpressions() throws IOException {
        JsonNode dashboard = JSON.readTree(TestPaths.root().resolve("deploy/grafana/vqrae.json").toFile());
        List<String> out = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                out.add(target.get("expr").asText());
            }
        }
        return out;
    }

    /** The endpoint's samples of the test's job, by series ({@code name{labels}}). */
    static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, Double> samples = new HashMap<>();
        for (String line : response.body().split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.matches() && m.group(3) != null && m.group(3).contains("job=\"" + JOB + "\"")) {
                samples.put(m.group(1) + "{" + m.group(3) + "}", Double.parseDouble(m.group(4)));
            }
        }
        return samples;
    }

    /** The sum over the series of {@code name} whose labels include {@code labels}. */
    static double sum(Map<String, Double> samples, String name, Map<String, String> labels) {
        return samples.entrySet().stream()
                .filter(e -> e.getKey().startsWith(name + "{"))
                .filter(e -> labels.entrySet().stream().allMatch(l -> e.getKey().contains(l.getKey() + "=\"" + l.getValue() + "\"")))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    /**
     * The settings this package's tests run the job with on {@code kafka}: topics and transactions of their own,
     * checkpoints every second, two decoders, batches of 4, metrics on {@code metricsPort}.
     */
    static Map<String, String> jobSettings(String job, EmbeddedKafka kafka, int metricsPort) {
        Map<String, String> settings = new HashMap<>();
        settings.put("model.dir", TestPaths.tinyModel().toString());
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("kafka.starting-offsets", "earliest");
        settings.put("kafka.topics.input", job + ".images");
        settings.put("kafka.topics.tokens", job + ".tokens");
        settings.put("kafka.topics.features", job + ".features");
        settings.put("kafka.topics.dead-letter", job + ".dead-letter");
        settings.put("kafka.transactional-id-prefix", job);
        settings.put("checkpoint.interval", "1s");
        settings.put("parallelism.decode", "2");
        settings.put("batching.max-size", "4");
        settings.put("metrics.port", Integer.toString(metricsPort));
        return settings;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Scrapes the endpoint while the job runs. */
    private static final class Scraper {
        final AtomicInteger scrapesWithTheJob = new AtomicInteger();
        private final Thread thread;
        private volatile boolean running = true;

        Scraper(int port) {
            thread = new Thread(() -> {
                while (running) {
                    try {
                        if (!scrape(port).isEmpty()) {
                            scrapesWithTheJob.incrementAndGet();
                        }
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        // Counted by the assertion on scrapesWithTheJob.
                    }
                }
            }, "scraper");
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    /** Debian's Prometheus on a loopback port, scraping the endpoint every 250 ms with deploy/prometheus/prometheus.yml. */
    private static final class PrometheusServer implements AutoCloseable {
        private final Process process;
        private final int port;

        private PrometheusServer(Process process, int port) {
            this.process = process;
            this.port = port;
        }

        static PrometheusServer start(Path dir, int port, int metricsPort, int flinkMetricsPort) throws Exception {
            YAMLMapper yaml = new YAMLMapper();
            ObjectNode config = (ObjectNode) yaml.readTree(TestPaths.root().resolve("deploy/prometheus/prometheus.yml").toFile());
            // Fast scrapes, so a job of a few seconds leaves several samples of each counter.
            ((ObjectNode) config.get("global")).put("scrape_interval", "250ms");
            ((ObjectNode) config.get("global")).put("evaluation_interval", "1s");
            config.putArray("rule_files").add(TestPaths.root().resolve("deploy/prometheus/alerts.yml").toString());
            Map<String, Integer> targets = Map.of("vqrae", metricsPort, "flink", flinkMetricsPort);
            assertThat(config.get("scrape_configs")).extracting(scrape -> scrape.get("job_name").asText())
                    .containsExactlyInAnyOrderElementsOf(targets.keySet());
            for (JsonNode scrape : config.get("scrape_configs")) {
                String job = scrape.get("job_name").asText();
                ((ObjectNode) scrape.get("static_configs").get(0)).putArray("targets").add("127.0.0.1:" + targets.get(job));
                if (job.equals("flink")) {
                    // Flink's reporter writes hundreds of series: more than 250 ms on a busy machine. The timeout is
                    // the global one (250 ms, capped by the global interval) unless the job sets its own.
                    ((ObjectNode) scrape).put("scrape_interval", "1s");
                    ((ObjectNode) scrape).put("scrape_timeout", "1s");
                }
            }
            Path file = dir.resolve("prometheus.yml");
            yaml.writeValue(file.toFile(), config);
            Process check = new ProcessBuilder("promtool", "check", "config", file.toString()).redirectErrorStream(true).start();
            String checkOutput = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor()).as("promtool check config: " + checkOutput).isZero();
            Process process = new ProcessBuilder("prometheus", "--config.file=" + file,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            PrometheusServer server = new PrometheusServer(process, port);
            server.awaitReady();
            return server;
        }

        JsonNode query(String promql) throws Exception {
            URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
            JsonNode body = JSON.readTree(HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(body.get("status").asText()).as(promql + ": " + body).isEqualTo("success");
            return body.get("data").get("result");
        }

        /** Waits until the server evaluated every rule of {@code alerts} at least once, and checks none failed. */
        void awaitRulesEvaluated(List<String> alerts) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/rules");
                JsonNode rules = JSON.readTree(HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body())
                        .get("data").get("groups").get(0).get("rules");
                Map<String, String> health = new HashMap<>();
                boolean evaluated = true;
                for (JsonNode rule : rules) {
                    health.put(rule.get("name").asText(), rule.get("health").asText() + " " + rule.path("lastError").asText());
                    evaluated &= !rule.get("lastEvaluation").asText().startsWith("0001-");
                }
                if (evaluated || System.nanoTime() > deadline) {
                    assertThat(health.keySet()).containsExactlyInAnyOrderElementsOf(alerts);
                    assertThat(health).allSatisfy((name, state) -> assertThat(state).as(name).isEqualTo("ok "));
                    return;
                }
                Thread.sleep(500);
            }
        }

        void awaitValue(String promql, double value) throws Exception {
            await(promql, "==", v -> v == value, value);
        }

        void awaitAtLeast(String promql, double value) throws Exception {
            await(promql, ">=", v -> v >= value, value);
        }

        private void await(String promql, String relation, java.util.function.DoublePredicate wanted, double value) throws Exception {
            java.util.function.Predicate<JsonNode> seen = answer -> answer.size() > 0 && wanted.test(answer.get(0).get("value").get(1).asDouble());
            if (!seen.test(poll(promql, 60, seen))) {
                throw new AssertionError("Prometheus never saw " + promql + " " + relation + " " + value);
            }
        }

        /**
         * The series of {@code promql} once it has any. A scrape that fails (a timeout on a loaded machine) marks
         * every series of its target stale until the next one succeeds, so a query can answer nothing for a moment
         * although the series exists; one that never answers within 30 s fails.
         */
        JsonNode awaitSeries(String promql) throws Exception {
            JsonNode result = poll(promql, 30, answer -> !answer.isEmpty());
            assertThat(result.size()).as("series of: " + promql).isPositive();
            return result;
        }

        /** Queries {@code promql} every 250 ms until {@code done} holds or {@code seconds} pass; the last answer. */
        private JsonNode poll(String promql, int seconds, java.util.function.Predicate<JsonNode> done) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            JsonNode result = query(promql);
            while (!done.test(result) && System.nanoTime() < deadline) {
                Thread.sleep(250);
                result = query(promql);
            }
            return result;
        }

        /** The value of a query with one series. */
        double value(String promql) throws Exception {
            JsonNode result = awaitSeries(promql);
            assertThat(result.size()).as("series of " + promql).isEqualTo(1);
            return result.get(0).get("value").get(1).asDouble();
        }

        private void awaitReady() throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                try {
                    if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // starting
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("prometheus exited with " + process.exitValue());
                }
                Thread.sleep(200);
            }
            throw new IllegalStateException("prometheus not ready within 30 s");
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
