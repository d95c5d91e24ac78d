package io.vqrae.pipeline.bench;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.schemas.TokenRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;

/**
 * The job's steady-state images/s with the tokenizer-health metrics on and off, side by side in one JVM on
 * the same input: a warm-up run (not counted), then rounds of (off, on) runs of the embedded job over one
 * input topic, each run writing its own output topics. Steady state is measured from the committed token records' {@code processed_at}
 * stamps (first to last), so start-up is left out.
 *
 * <p>{@code bin/bench-health-overhead [IMAGES] [ROUNDS] [MODEL_DIR]}; prints one line per run and the
 * ratio on/off of the medians.
 */
public final class HealthOverheadBench {
    private HealthOverheadBench() {}

    public static void main(String[] args) throws Exception {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        String model = args.length > 2 ? args[2] : "models/tiny";
        Path dir = Files.createTempDirectory("health-bench-");
        double[][] rates = new double[2][rounds];
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024)) {
            SampleImages.write(dir, images);
            JobConfig input = config(kafka, model, "input", false);
            JobPlan.resolve(input, "bench");
            try (InputWriter writer = new InputWriter(input.kafka()); Stream<Path> files = Files.list(dir)) {
                for (Path file : files.sorted().toList()) {
                    writer.send(file.getFileName().toString(), Files.readAllBytes(file), null);
                }
            }
            run(kafka, model, "warm-up", true);
            for (int round = 0; round < rounds; round++) {
                // Alternate which goes first, so a trend over the session favours neither.
                for (int i = 0; i < 2; i++) {
                    int health = (round + i) % 2;
                    rates[health][round] = run(kafka, model, "run" + round + (health == 1 ? "-on" : "-off"), health == 1);
                }
            }
        } finally {
            FileUtils.deleteDirectory(dir.toFile());
        }
        double off = median(rates[0]);
        double on = median(rates[1]);
        System.out.printf(Locale.ROOT, "median images/s: health off %.1f, on %.1f; ratio on/off %.3f%n", off, on, on / off);
    }

    /** Runs the job once over the input and returns its steady-state images/s. */
    private static double run(EmbeddedKafka kafka, String model, String name, boolean health) throws Exception {
        JobConfig config = config(kafka, model, name, health);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        new TokenizeJob(JobPlan.resolve(config, name)).attach(env);
        env.execute(name);
        List<TokenRecord> tokens = OutputReader.readCommitted(config.kafka(), Duration.ofMinutes(1)).tokens();
        long first = tokens.stream().mapToLong(t -> t.getProcessedAt().toEpochMilli()).min().orElseThrow();
        long last = tokens.stream().mapToLong(t -> t.getProcessedAt().toEpochMilli()).max().orElseThrow();
        double rate = (tokens.size() - 1) * 1000.0 / Math.max(1, last - first);
        System.out.printf(Locale.ROOT, "%-10s health %-3s %d tokens, %.1f images/s (steady state)%n",
                name, health ? "on" : "off", tokens.size(), rate);
        return rate;
    }

    private static JobConfig config(EmbeddedKafka kafka, String model, String name, boolean health) {
        Map<String, String> settings = new HashMap<>();
        settings.put("model.dir", model);
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("kafka.bounded", "true");
        settings.put("kafka.starting-offsets", "earliest");
        settings.put("kafka.topics.input", "bench.images");
        settings.put("kafka.topics.tokens", "bench." + name + ".tokens");
        settings.put("kafka.topics.features", "bench." + name + ".features");
        settings.put("kafka.topics.dead-letter", "bench." + name + ".dead-letter");
        settings.put("kafka.group-id", "bench-" + name);
        settings.put("kafka.transactional-id-prefix", "bench-" + name);
        settings.put("parallelism.decode", "2");
        settings.put("checkpoint.interval", "2s");
        settings.put("metrics.port", "0");
        settings.put("metrics.health", Boolean.toString(health));
        return JobConfig.fromMap(settings);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
