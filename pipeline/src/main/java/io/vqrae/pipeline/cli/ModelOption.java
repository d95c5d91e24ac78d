package io.vqrae.pipeline.cli;

import picocli.CommandLine.Option;

/** {@code --model DIR}, declared once for every command that runs the model (a picocli mixin). */
public final class ModelOption {

    // A string, not a Path: a Flink filesystem URI such as s3://bucket/model must reach model.dir as given
    // (Path.of would fold its "//").
    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory with manifest.json, local or a Flink filesystem URI (model.dir; default: the shipped tiny model).")
    String dir;

    /** The directory or URI given, or the shipped tiny model of this checkout. */
    public String orDefault() {
        return dir != null ? dir : CliDefaults.modelDir().toString();
    }
}
