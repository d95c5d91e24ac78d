package io.vqrae.pipeline.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --model DIR}, declared once for every command that runs the model (a picocli mixin). */
public final class ModelOption {

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json (model.dir; default: the shipped tiny model).")
    Path dir;

    /** The directory given, or the shipped tiny model of this checkout. */
    public Path orDefault() {
        return dir != null ? dir : CliDefaults.modelDir();
    }
}
