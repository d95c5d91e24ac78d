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
 * @param maxRecordBytes largest record the sink accepts (key + value + framing); bigger ones are
 *     dead-lettered with reason {@value RecordEncoder#RECORD_TOO_LARGE}
 */
public record EncoderOptions(String modelDir, FeatureMode featureMode, FeatureDtype featureDtype, int maxRecordBytes)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public EncoderOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(featureMode, "featureMode");
        Objects.requireNonNull(featureDtype, "featureDtype");
        if (maxRecordBytes <= RecordEncoder.RECORD_OVERHEAD_BYTES) {
            throw new IllegalArgumentException(
                    "maxRecordBytes must be > " + RecordEncoder.RECORD_OVERHEAD_BYTES + ", got " + maxRecordBytes);
        }
    }
}
