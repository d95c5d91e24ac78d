package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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
     * options stand for), then {@code --set}, which wins.
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
