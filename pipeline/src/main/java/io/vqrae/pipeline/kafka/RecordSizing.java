package io.vqrae.pipeline.kafka;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.config.JobConfig;

/**
 * Sizes Kafka's record limits from what the model writes, so the topic's {@code max.message.bytes}, the
 * producer's {@code max.request.size} and the encoder's own check agree. A per-token float32 feature
 * record of the full-size model is 1.18 MB, above Kafka's 1 MB default.
 */
public final class RecordSizing {
    /**
     * Room for the Avro header, stamps and ids around the payload; a dead letter keeps its original bytes
     * only up to the record limit less this.
     */
    public static final int HEADROOM_BYTES = 64 * 1024;
    /** Kafka's own default; never size below it. */
    static final int KAFKA_DEFAULT_BYTES = 1024 * 1024;

    private RecordSizing() {}

    /** {@code kafka.max-record-bytes} when set, else the largest record this model and feature mode produce plus headroom. */
    public static int maxRecordBytes(JobConfig config, ModelManifest manifest) {
        if (config.kafka().maxRecordBytes() > 0) {
            return config.kafka().maxRecordBytes();
        }
        long featureValues = switch (config.features().mode()) {
            case PER_TOKEN -> (long) manifest.numTokens() * manifest.featureDim();
            case POOLED -> manifest.featureDim();
            case OFF -> 0;
        };
        long featureBytes = featureValues * config.features().dtype().bytesPerValue();
        long tokenBytes = (long) manifest.numTokens() * TokenIds.width(TokenIds.typeFor(manifest.codebookSize()));
        long deadLetterBytes = config.limits().deadLetterMaxOriginalBytes();
        long largest = Math.max(Math.max(featureBytes, tokenBytes), deadLetterBytes) + HEADROOM_BYTES;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KAFKA_DEFAULT_BYTES, largest));
    }

    /** The input topic must take the largest image the decode stage accepts. */
    public static int maxInputRecordBytes(JobConfig config) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KAFKA_DEFAULT_BYTES, (long) config.limits().maxImageBytes() + HEADROOM_BYTES));
    }
}
