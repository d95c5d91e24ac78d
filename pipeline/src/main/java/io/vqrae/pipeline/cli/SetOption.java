package io.vqrae.pipeline.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --set KEY=VALUE}, declared once for every command that builds a job configuration (a picocli mixin). */
public final class SetOption {

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Overrides any config key, e.g. --set batching.max-size=32 or --set model.device-ids=[0,1] (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** The keys given, in the order given. */
    public Map<String, String> overrides() {
        return overrides;
    }
}
