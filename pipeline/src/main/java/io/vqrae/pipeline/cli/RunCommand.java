package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Overrides kafka.bootstrap-servers.")
    String bootstrapServers;

    @Option(names = "--input-topic", paramLabel = "TOPIC", description = "Overrides kafka.topics.input.")
    String inputTopic;

    @Mixin
    EncoderOptions encoder = new EncoderOptions();

    @Option(names = "--job-name", defaultValue = "vqrae-tokenize", description = "Flink job name (default: ${DEFAULT-VALUE}).")
    String jobName;

    @Override
    public Integer call() throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        if (bootstrapServers != null) {
            options.put("kafka.bootstrap-servers", bootstrapServers);
        }
        if (inputTopic != null) {
            options.put("kafka.topics.input", inputTopic);
        }
        encoder.putInto(options);
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(config.load(options), jobName));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        job.attach(env);
        env.execute(jobName);
        return 0;
    }
}
