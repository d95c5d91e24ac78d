package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.TokenizeJob;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vqrae run}: submits the streaming job against an existing Kafka cluster. Under {@code flink run}
 * the environment is the cluster's; started directly it runs on a local MiniCluster.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Runs the streaming job against existing Kafka brokers (on a Flink cluster under `flink run`).")
final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML job config; every key has a default (docs/pipeline.md).")
    Path config;

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Overrides kafka.bootstrap-servers.")
    String bootstrapServers;

    @Option(names = "--input-topic", paramLabel = "TOPIC", description = "Overrides kafka.topics.input.")
    String inputTopic;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Overrides any config key, e.g. --set batching.max-size=32 (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--job-name", defaultValue = "vqrae-tokenize", description = "Flink job name (default: ${DEFAULT-VALUE}).")
    String jobName;

    @Override
    public Integer call() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>(overrides);
        if (bootstrapServers != null) {
            settings.put("kafka.bootstrap-servers", bootstrapServers);
        }
        if (inputTopic != null) {
            settings.put("kafka.topics.input", inputTopic);
        }
        JobConfig jobConfig = config == null ? JobConfig.fromMap(settings) : JobConfig.load(config, settings);
        TokenizeJob job = TokenizeJob.prepare(jobConfig);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        job.attach(env);
        env.execute(jobName);
        return 0;
    }
}
