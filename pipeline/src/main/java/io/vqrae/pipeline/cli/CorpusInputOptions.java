package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.corpus.source.CorpusInputs;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --input}: the corpus files a command reads, shared by {@code tokenize-corpus} and {@code load}. */
final class CorpusInputOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH",
            description = "Folders of images, .tar shards or globs of them (last segment), local or any Flink filesystem URI.")
    List<String> inputs;

    /** The inputs, resolved; one that does not exist is a usage error naming it. */
    CorpusInputs resolve() throws IOException {
        try {
            return CorpusInputs.resolve(inputs);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
