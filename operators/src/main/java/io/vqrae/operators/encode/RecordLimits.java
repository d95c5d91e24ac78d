package io.vqrae.operators.encode;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.tokenize.FeatureOutput;
import java.io.Serializable;

/**
 * The record sizes of a job, computed once on the client from what the model writes, so the topics'
 * {@code max.message.bytes}, the producer's {@code max.request.size} and the encoder's own check agree. A
 * per-token float32 feature record of the full-size model is 1.18 MB, above Kafka's 1 MB default.
 *
 * @param maxRecordBytes largest output record (key + value + framing), at least {@value #MIN_RECORD_BYTES};
 *     bigger token and feature records are dead-lettered with reason {@code record_too_large},
 *     bigger dead letters are trimmed
 * @param maxInputRecordBytes what the input topic must take: the largest image the decode stage accepts
 * @param maxMetadataBytes the most bytes of metadata, text and source URI an image's records may carry
 *     ({@code limits.max-metadata-bytes}); an image bringing more is dead-lettered with reason
 *     {@value RecordEncoder#RECORD_TOO_LARGE}
 */
public record RecordLimits(int maxRecordBytes, int maxInputRecordBytes, int maxMetadataBytes) implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Room for the Avro header, stamps and ids around a record's payload; a dead letter keeps its original
     * bytes only up to the record limit less this.
     */
    public static final int HEADROOM_BYTES = 64 * 1024;

    /** Smallest record limit: the headroom, which holds a dead letter trimmed to its stamps. */
    public static final int MIN_RECORD_BYTES = HEADROOM_BYTES;

    /**
     * Bytes reserved for a record's framing inside a Kafka batch (batch header, varint lengths, offsets,
     * timestamp), so a record passing {@link #fits} also passes the producer's own size estimate.
     */
    public static final int FRAMING_BYTES = 512;

    /** Kafka's own default {@code max.message.bytes}; never size below it. */
    static final int KAFKA_DEFAULT_BYTES = 1024 * 1024;

    public RecordLimits {
        if (maxRecordBytes < MIN_RECORD_BYTES || maxInputRecordBytes < MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("Record limits must be at least " + MIN_RECORD_BYTES + " bytes, got "
                    + maxRecordBytes + " (output) and " + maxInputRecordBytes + " (input)");
        }
        if (maxMetadataBytes < 0) {
            throw new IllegalArgumentException("The metadata limit must not be negative, got " + maxMetadataBytes);
        }
    }

    /**
     * The limits for {@code model} writing {@code features}: {@code configuredMaxRecordBytes} when it is
     * positive, else the largest token or feature record with the most metadata an input may bring, or the
     * largest dead letter, plus {@link #HEADROOM_BYTES}.
     */
    public static RecordLimits forModel(
            ModelManifest model, FeatureOutput features, InputLimits inputs, int configuredMaxRecordBytes) {
        long largestOutput = Math.max(features.bytesPerImage(model), (long) model.numTokens() * TokenIds.width(TokenIds.typeFor(model.codebookSize())))
                + inputs.maxMetadataBytes();
        long largestPayload = Math.max(largestOutput, inputs.deadLetterMaxOriginalBytes());
        int records = configuredMaxRecordBytes > 0 ? configuredMaxRecordBytes : kafkaSize(largestPayload);
        return new RecordLimits(records, inputRecordBytes(inputs), inputs.maxMetadataBytes());
    }

    /** What the input topic must take ({@code max.message.bytes}): an ImageRecord of the largest image accepted. */
    public static int inputRecordBytes(InputLimits inputs) {
        return kafkaSize(inputs.maxImageBytes());
    }

    /** These limits with the output records capped at {@code maxMessageBytes} (an existing topic's limit). */
    public RecordLimits cappedAt(int maxMessageBytes) {
        return new RecordLimits(Math.min(maxRecordBytes, maxMessageBytes), maxInputRecordBytes, maxMetadataBytes);
    }

    /** How much of a rejected input a dead letter can keep within {@link #maxRecordBytes}. */
    public int maxOriginalBytes() {
        return maxRecordBytes - HEADROOM_BYTES;
    }

    /** Whether a record with this many key and value bytes fits, framing included. */
    public boolean fits(int keyAndValueBytes) {
        return (long) keyAndValueBytes + FRAMING_BYTES <= maxRecordBytes;
    }

    private static int kafkaSize(long payloadBytes) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KAFKA_DEFAULT_BYTES, payloadBytes + HEADROOM_BYTES));
    }
}
