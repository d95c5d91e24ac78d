package io.vqrae.operators.data;

/**
 * What the tokenizer produced for one image.
 *
 * @param id image id
 * @param sha256 lower-case hex SHA-256 of the original encoded bytes
 * @param origin where the input was read from
 * @param tokenIds token ids in row-major grid order
 * @param meanQuantError mean squared distance between each projected feature and its code
 * @param features the semantic features with their kind, dtype and shape; null when features are off
 * @param processedAtMillis wall-clock time the batch was encoded, epoch milliseconds
 */
public record TokenizedImage(
        String id,
        String sha256,
        Origin origin,
        int[] tokenIds,
        float meanQuantError,
        FeatureTensor features,
        long processedAtMillis) {}
