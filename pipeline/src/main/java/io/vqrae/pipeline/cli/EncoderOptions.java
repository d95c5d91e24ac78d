package io.vqrae.pipeline.cli;

import io.vqrae.models.onnx.ExecutionProvider;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --batch-size}, {@code --threads} and {@code --provider}: how the encoder runs, the same three options in
 * every command that tokenizes ({@code run}, {@code tokenize}, {@code tokenize-corpus}), each standing for its
 * config key ({@code --set} still wins).
 */
final class EncoderOptions {
    @Option(names = "--batch-size", paramLabel = "N", description = "Images per ONNX Runtime run (batching.max-size; default: 16).")
    Integer batchSize;

    @Option(names = "--threads", paramLabel = "N", description = "ONNX Runtime intra-op threads, 0 = one per core (model.intra-op-threads).")
    Integer threads;

    @Option(names = "--provider", paramLabel = "cpu|cuda", description = "Execution provider (model.provider; default: cpu).")
    ExecutionProvider provider;

    /** Adds the config keys of the options given to {@code options}. */
    void putInto(Map<String, String> options) {
        if (batchSize != null) {
            options.put("batching.max-size", batchSize.toString());
        }
        if (threads != null) {
            options.put("model.intra-op-threads", threads.toString());
        }
        if (provider != null) {
            options.put("model.provider", provider.name());
        }
    }
}
