package io.vqrae.operators.report;

import java.util.List;
import java.util.Locale;

/**
 * The stages a run's CPU time is reported by, told apart by the kind of thread that used it. Flink names a task's
 * thread after its chain of operators, so the names are the jobs' operator names ({@code ImageStages},
 * {@code CorpusJob}); under /proc they are cut to 15 characters, hence prefixes.
 */
public enum Stage {
    /** Decode and preprocess: the decode task (with the corpus job's deduplication, chained to it). */
    DECODE("decode", List.of("decode", "deduplicate")),
    /**
     * The tokenizer task (encoder graph, batching, the record encoder and the sink chained to it), ONNX Runtime's
     * threads (they carry the name of the thread that made the session), and the PSNR sampler's decoder graph.
     */
    TOKENIZER("tokenizer/encoder", List.of("tokenize", "vqrae-inference", "vqrae-psnr", "encode")),
    /** Everything else: sources, Flink's runtime, Kafka clients (and an embedded broker), GC, JIT. */
    OTHER("Flink/Kafka/other", List.of());

    private final String label;
    private final List<String> prefixes;

    Stage(String label, List<String> prefixes) {
        this.label = label;
        this.prefixes = prefixes;
    }

    /** How reports name the stage. */
    public String label() {
        return label;
    }

    /** The key of the stage in JSON reports. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The stage of a thread kind ({@link ThreadCpu#kind}). */
    public static Stage of(String kind) {
        for (Stage stage : values()) {
            for (String prefix : stage.prefixes) {
                if (kind.startsWith(prefix)) {
                    return stage;
                }
            }
        }
        return OTHER;
    }
}
