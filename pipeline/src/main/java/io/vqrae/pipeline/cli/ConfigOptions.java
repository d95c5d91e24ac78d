package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.storage.ObjectStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options every command that reads the job's configuration shares: {@code --config FILE} and {@code --set}. */
final class ConfigOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML job config; every key has a default (docs/pipeline.md).")
    Path file;

    @Mixin
    SetOption set = new SetOption();

    /**
     * The configuration: defaults, then {@code --config}, then {@code commandOptions} (what a command's own
     * options stand for), then {@code --set}, which wins. Run locally, this JVM's filesystems are set up with
     * its {@code s3.*} settings and Flink's plugins, so every path of the command may be an {@code s3://} URI.
     */
    JobConfig load(Map<String, String> commandOptions) {
        if (file != null) {
            // A path named on the command line, like an input: a usage error (InputPaths).
            if (!Files.exists(file)) {
                throw InputPaths.badInput(spec, "Config file " + file + " does not exist");
            }
            if (Files.isDirectory(file) || !Files.isReadable(file)) {
                throw InputPaths.badInput(spec, "Config file " + file + (Files.isDirectory(file) ? " is a folder" : " cannot be read (permission denied)"));
            }
        }
        Map<String, String> settings = new LinkedHashMap<>(commandOptions);
        settings.putAll(set.overrides());
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
    JobConfig load(Map<String, String> commandOptions, ModelOption model) {
        Map<String, String> options = new LinkedHashMap<>(commandOptions);
        if (model.dir != null || (file == null && !set.overrides().containsKey("model.dir"))) {
            options.put("model.dir", model.orDefault());
        }
        return load(options);
    }
}
