package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.JobConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every command that reads the job's configuration shares: {@code --config FILE} and {@code --set}. */
final class ConfigOptions {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML job config; every key has a default (docs/pipeline.md).")
    Path file;

    @Mixin
    SetOption set = new SetOption();

    /**
     * The configuration: defaults, then {@code --config}, then {@code commandOptions} (what a command's own
     * options stand for), then {@code --set}, which wins.
     */
    JobConfig load(Map<String, String> commandOptions) {
        Map<String, String> settings = new LinkedHashMap<>(commandOptions);
        settings.putAll(set.overrides());
        return file == null ? JobConfig.fromMap(settings) : JobConfig.load(file, settings);
    }

    /**
     * As {@link #load(Map)}, for a command that runs a model locally: {@code model} (its {@code --model}
     * option) sets {@code model.dir}; without it and without a config that may set it, the shipped tiny model
     * of this checkout is used, wherever the command is started from.
     */
    JobConfig load(Map<String, String> commandOptions, ModelOption model) {
        Map<String, String> options = new LinkedHashMap<>(commandOptions);
        if (model.dir != null || (file == null && !set.overrides().containsKey("model.dir"))) {
            options.put("model.dir", model.orDefault().toString());
        }
        return load(options);
    }
}
