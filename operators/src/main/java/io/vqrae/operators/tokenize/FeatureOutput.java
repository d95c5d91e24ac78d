package io.vqrae.operators.tokenize;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import java.io.Serializable;

/**
 * Which semantic features the tokenizer emits and in which number format: the {@code features} section of
 * a job's configuration.
 *
 * @param mode per-token, pooled or off
 * @param dtype number format of the values
 */
@RecordBuilder
public record FeatureOutput(FeatureMode mode, FeatureDtype dtype) implements Serializable, FeatureOutputBuilder.With {
    private static final long serialVersionUID = 1L;

    /** Every token's feature, as float16. */
    public static final FeatureOutput DEFAULT = FeatureOutputBuilder.builder().mode(FeatureMode.PER_TOKEN).dtype(FeatureDtype.FLOAT16).build();

    public FeatureOutput {
        InvalidSettingException.requireSet("mode", mode);
        InvalidSettingException.requireSet("dtype", dtype);
    }

    /** The shape of one image's features for {@code model}: [num_tokens, dim], [dim], or none when off. */
    public int[] shape(ModelManifest model) {
        return switch (mode) {
            case PER_TOKEN -> new int[] {model.numTokens(), model.featureDim()};
            case POOLED -> new int[] {model.featureDim()};
            case OFF -> new int[0];
        };
    }

    /** Bytes of one image's features for {@code model}; 0 when off. */
    public long bytesPerImage(ModelManifest model) {
        if (mode == FeatureMode.OFF) {
            return 0;
        }
        long values = 1;
        for (int dim : shape(model)) {
            values *= dim;
        }
        return values * dtype.bytesPerValue();
    }
}
