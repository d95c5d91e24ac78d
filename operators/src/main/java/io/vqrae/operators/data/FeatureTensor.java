package io.vqrae.operators.data;

import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.operators.tokenize.FeatureMode;
import java.util.Arrays;
import java.util.Objects;

/**
 * One image's semantic features as the tokenizer encoded them, carrying their own kind, number format and
 * shape so whatever writes them cannot disagree with what was computed.
 *
 * @param mode {@link FeatureMode#PER_TOKEN} or {@link FeatureMode#POOLED}
 * @param dtype number format of {@code values}
 * @param shape [num_tokens, dim] per token, [dim] pooled
 * @param values the values, little-endian, row-major
 */
public record FeatureTensor(FeatureMode mode, FeatureDtype dtype, int[] shape, byte[] values) {

    public FeatureTensor {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        if (mode == FeatureMode.OFF) {
            throw new IllegalArgumentException("No features are carried when features are off");
        }
        long count = 1;
        for (int dim : shape) {
            count *= dim;
        }
        if (count * dtype.bytesPerValue() != values.length) {
            throw new IllegalArgumentException(values.length + " bytes do not hold " + Arrays.toString(shape)
                    + " values of " + dtype.avroName());
        }
    }
}
