package io.vqrae.operators.encode;

import io.vqrae.operators.data.Origin;
import java.util.List;
import java.util.Objects;

/**
 * Everything one input became, as one stream element: its token record with its feature record, or its
 * one dead letter, or its one duplicate record. An input's records never travel apart: wherever two streams
 * meet, records that travel as separate elements can be interleaved with another input's, and a sink that
 * writes an input's records together (a WebDataset sample holds an image's tokens beside its features) would
 * then see them split.
 *
 * @param record the input's own record: {@link RecordKind#TOKENS}, {@link RecordKind#DEAD_LETTER} or
 *     {@link RecordKind#DUPLICATE}
 * @param features the {@link RecordKind#FEATURES} record of a token record; null when features are off and
 *     for the other kinds
 * @param originalTokens for a duplicate, the token record of the first input with the same image, when it is
 *     known, so the duplicate's own metadata can be paired with its image's tokens; null otherwise. Not an
 *     output of this input: {@link #records()} leaves it out
 */
public record EncodedSample(EncodedRecord record, EncodedRecord features, EncodedRecord originalTokens) {

    public EncodedSample {
        Objects.requireNonNull(record, "record");
        if (record.kind() == RecordKind.FEATURES) {
            throw new IllegalArgumentException("A feature record belongs beside its token record, not alone");
        }
        if (features != null && (record.kind() != RecordKind.TOKENS || features.kind() != RecordKind.FEATURES)) {
            throw new IllegalArgumentException("Features go with a token record only, got " + features.kind() + " beside " + record.kind());
        }
        if (originalTokens != null && (record.kind() != RecordKind.DUPLICATE || originalTokens.kind() != RecordKind.TOKENS)) {
            throw new IllegalArgumentException("Original tokens go with a duplicate only, got " + originalTokens.kind()
                    + " beside " + record.kind());
        }
    }

    /** An image's token record and, unless features are off (null), its feature record. */
    public static EncodedSample tokens(EncodedRecord tokens, EncodedRecord features) {
        return new EncodedSample(tokens, features, null);
    }

    /** A dead letter or a duplicate record, alone. */
    public static EncodedSample of(EncodedRecord record) {
        return new EncodedSample(record, null, null);
    }

    /** This duplicate with the token record of the image it duplicates. */
    public EncodedSample withOriginalTokens(EncodedRecord tokens) {
        return new EncodedSample(record, features, Objects.requireNonNull(tokens, "tokens"));
    }

    public RecordKind kind() {
        return record.kind();
    }

    public Origin origin() {
        return record.origin();
    }

    /** The records this input adds to the outputs, in order: its own record, then its features. */
    public List<EncodedRecord> records() {
        return features == null ? List.of(record) : List.of(record, features);
    }
}
