package io.vqrae.pipeline.cli;

import java.nio.file.Path;

/** Defaults shared by the subcommands (and the tooling's, in {@code pipeline/tools}). */
public final class CliDefaults {
    /** Set by {@code bin/vqrae} to the checkout's root so the shipped tiny model is the default. */
    public static final String HOME_PROPERTY = "vqrae.home";

    private CliDefaults() {}

    /** {@code <vqrae.home>/models/tiny}, or {@code models/tiny} relative to the working directory. */
    public static Path modelDir() {
        return Path.of(System.getProperty(HOME_PROPERTY, ".")).resolve("models").resolve("tiny");
    }
}
