package io.vqrae.operators.encode;

import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.operators.tokenize.FeatureMode;
import java.io.Serializable;
import java.util.Objects;

/**
 * How results become output records.
 *
 * @param modelDir directory of the model whose manifest stamps every record (id, version, codebook hash)
 * @param featureMode the mode the tokenizer ran in; decides the feature record's kind and shape
 * @param featureDtype the dtype the tokenizer encoded features in
 * @param maxRecordBytes largest record the sink accepts (key + value + framing), at least
 *     {@value #MIN_RECORD_BYTES}; bigger token and feature records are dead-lettered with reason
 *     {@value RecordEncoder#RECORD_TOO_LARGE}, bigger dead letters are trimmed
 */
public record EncoderOptions(String modelDir, FeatureMode featureMode, FeatureDtype featureDtype, int maxRecordBytes)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Smallest {@code maxRecordBytes}: the framing reserve plus 1 KiB, room for a dead letter trimmed to
     * its stamps (a reason code and a source position whose Kafka topic name has at most 249 characters).
     */
    public static final int MIN_RECORD_BYTES = RecordEncoder.RECORD_OVERHEAD_BYTES + 1024;

    public EncoderOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(featureMode, "featureMode");
        Objects.requireNonNull(featureDtype, "featureDtype");
        if (maxRecordBytes < MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("maxRecordBytes must be >= " + MIN_RECORD_BYTES + ", got " + maxRecordBytes);
        }
    }
}
