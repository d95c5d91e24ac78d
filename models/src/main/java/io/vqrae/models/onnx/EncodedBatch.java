package io.vqrae.models.onnx;

import java.util.Arrays;

/**
 * What the encoder produced for one batch, held on the Java heap (the native tensors are already
 * closed). Index {@code i} is the position of the image in the batch passed to {@link
 * TokenizerSession#encode}.
 */
public final class EncodedBatch {
    private final int size;
    private final int numTokens;
    private final int featureDim;
    private final float[] features;
    private final int[] tokenIds;
    private final float[] quantErrors;

    EncodedBatch(int size, int numTokens, int featureDim, float[] features, int[] tokenIds, float[] quantErrors) {
        if (features.length != (long) size * numTokens * featureDim || tokenIds.length != (long) size * numTokens
                || quantErrors.length != (long) size * numTokens) {
            throw new IllegalStateException("Encoder outputs do not match batch " + size + " x " + numTokens
                    + " tokens x " + featureDim + " features");
        }
        this.size = size;
        this.numTokens = numTokens;
        this.featureDim = featureDim;
        this.features = features;
        this.tokenIds = tokenIds;
        this.quantErrors = quantErrors;
    }

    public int size() {
        return size;
    }

    public int numTokens() {
        return numTokens;
    }

    public int featureDim() {
        return featureDim;
    }

    /** Token ids of image {@code i}, row-major over the token grid. */
    public int[] tokenIds(int i) {
        int from = checkIndex(i) * numTokens;
        return Arrays.copyOfRange(tokenIds, from, from + numTokens);
    }

    /** Squared L2 distance of each token's feature projection to its chosen code. */
    public float[] quantErrors(int i) {
        int from = checkIndex(i) * numTokens;
        return Arrays.copyOfRange(quantErrors, from, from + numTokens);
    }

    public float meanQuantError(int i) {
        int from = checkIndex(i) * numTokens;
        double sum = 0;
        for (int t = from; t < from + numTokens; t++) {
            sum += quantErrors[t];
        }
        return (float) (sum / numTokens);
    }

    /** Mean over image {@code i}'s tokens of each token feature's L2 norm (a tokenizer-health figure). */
    public float meanFeatureNorm(int i) {
        int from = checkIndex(i) * numTokens * featureDim;
        double sum = 0;
        for (int t = 0; t < numTokens; t++) {
            double squares = 0;
            for (int k = 0, row = from + t * featureDim; k < featureDim; k++) {
                squares += (double) features[row + k] * features[row + k];
            }
            sum += Math.sqrt(squares);
        }
        return (float) (sum / numTokens);
    }

    /** Semantic features of image {@code i} as float32 values, shape [N, d]. */
    public float[] featureValues(int i) {
        int from = checkIndex(i) * numTokens * featureDim;
        return Arrays.copyOfRange(features, from, from + numTokens * featureDim);
    }

    /** Semantic features of image {@code i}, shape [N, d], little-endian in {@code dtype}. */
    public byte[] features(int i, FeatureDtype dtype) {
        return dtype.encode(features, checkIndex(i) * numTokens * featureDim, numTokens * featureDim);
    }

    /** Mean of image {@code i}'s token features, shape [d], little-endian in {@code dtype}. */
    public byte[] pooledFeatures(int i, FeatureDtype dtype) {
        int from = checkIndex(i) * numTokens * featureDim;
        double[] sums = new double[featureDim];
        for (int t = 0; t < numTokens; t++) {
            int row = from + t * featureDim;
            for (int k = 0; k < featureDim; k++) {
                sums[k] += features[row + k];
            }
        }
        float[] mean = new float[featureDim];
        for (int k = 0; k < featureDim; k++) {
            mean[k] = (float) (sums[k] / numTokens);
        }
        return dtype.encode(mean, 0, featureDim);
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("Image " + i + " of a batch of " + size);
        }
        return i;
    }
}
