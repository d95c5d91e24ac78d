package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.corpus.source.CorpusInputs;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The corpus files a command reads, as arguments like every command's inputs; shared by {@code tokenize-corpus}
 * and {@code load}, which took them as {@code --input} before (still accepted).
 */
final class CorpusInputOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "PATH",
            description = "Folders of images, .tar shards, image files, or globs of them (last segment), local or any Flink filesystem URI.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--input", arity = "1..*", paramLabel = "PATH",
            description = "Deprecated: give the inputs as arguments (PATH...), as every command takes them; still accepted.")
    List<String> deprecatedInputs = new ArrayList<>();

    /** The inputs as given, arguments and {@code --input} together. */
    List<String> all() {
        List<String> all = new ArrayList<>(inputs);
        all.addAll(deprecatedInputs);
        return all;
    }

    /** The inputs, resolved; one that does not exist, cannot be read or holds no input is a usage error naming it. */
    CorpusInputs resolve() throws IOException {
        List<String> all = all();
        if (all.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter: 'PATH'");
        }
        return InputPaths.corpus(spec, all);
    }
}
