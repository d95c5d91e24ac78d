package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.storage.ObjectStores;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Option;

/** The options every command that reads the job's configuration shares: {@code --config FILE} and {@code --set}. */
final class ConfigOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML job config; every key has a default (docs/pipeline.md).")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Overrides any config key, e.g. --set batching.max-size=32 or --set model.device-ids=[0,1] (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    /**
     * The configuration: defaults, then {@code --config}, then {@code commandOptions} (what a command's own
     * options stand for), then {@code --set}, which wins. Run locally, this JVM's filesystems are set up with
     * its {@code s3.*} settings and Flink's plugins, so every path of the command may be an {@code s3://} URI.
     */
    JobConfig load(Map<String, String> commandOptions) {
        Map<String, String> settings = new LinkedHashMap<>(commandOptions);
        settings.putAll(overrides);
        JobConfig config = file == null ? JobConfig.fromMap(settings) : JobConfig.load(file, settings);
        if ("local".equals(StreamExecutionEnvironment.getExecutionEnvironment().getConfiguration().get(DeploymentOptions.TARGET))) {
            ObjectStores.initializeLocal(config.s3());
        } else if (!config.s3().settings().isEmpty()) {
            // Under `flink run` Flink set up the filesystems from its own configuration, as every TaskManager did.
            throw new ConfigException("s3", "applies to local runs only: on a cluster, s3.* keys belong in the Flink configuration"
                    + " (flinkConfiguration in deploy/k8s/flink-deployment.yaml), which every JobManager and TaskManager reads");
        }
        return config;
    }

    /**
     * As {@link #load(Map)}, for a command that runs a model locally: {@code model} (its {@code --model}
     * option) sets {@code model.dir}; without it and without a config that may set it, the shipped tiny model
     * of this checkout is used, wherever the command is started from.
     */
    JobConfig load(Map<String, String> commandOptions, String model) {
        Map<String, String> options = new LinkedHashMap<>(commandOptions);
        if (model != null || (file == null && !overrides.containsKey("model.dir"))) {
            options.put("model.dir", model != null ? model : CliDefaults.modelDir().toString());
        }
        return load(options);
    }
}
