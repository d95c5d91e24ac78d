package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.config.JobConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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
     * options stand for), then {@code --set}, which wins.
     */
    JobConfig load(Map<String, String> commandOptions) {
        Map<String, String> settings = new LinkedHashMap<>(commandOptions);
        settings.putAll(overrides);
        return file == null ? JobConfig.fromMap(settings) : JobConfig.load(file, settings);
    }

    /** Whether {@code key} is set by {@code --config} or {@code --set} (the file is not read here: any file counts). */
    boolean mayConfigure(String key) {
        return file != null || overrides.containsKey(key);
    }
}
