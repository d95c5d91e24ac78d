package io.vqrae.operators.encode;

/** Which output an encoded record belongs to; a sink maps each kind to its own topic or file. */
public enum RecordKind {
    /** A {@code TokenRecord}. */
    TOKENS,
    /** A {@code FeatureRecord}. */
    FEATURES,
    /** A {@code DeadLetterRecord}. */
    DEAD_LETTER,
    /** A {@code DuplicateRecord}: an input deduplication did not tokenize again. */
    DUPLICATE
}
