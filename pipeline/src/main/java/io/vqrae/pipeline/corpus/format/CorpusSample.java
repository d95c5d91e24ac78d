package io.vqrae.pipeline.corpus.format;

import io.vqrae.operators.encode.TokenIds;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.nio.ByteBuffer;

/**
 * One image of a corpus job's output, as {@link CorpusReader} reads it from WebDataset shards or Avro files.
 *
 * @param id the input's id
 * @param imageSha256 SHA-256 of the image bytes
 * @param duplicateOf for a duplicate (deduplication on), the id tokenized for the same image; else null. A
 *     duplicate of WebDataset output carries its image's tokens (and model fields) too, when that image was
 *     tokenized; one of Avro or Parquet output, or one whose image became a dead letter, has none
 * @param modelId the model's id
 * @param modelVersion the model's version
 * @param codebookSha256 the codebook's SHA-256; token ids compare only within one codebook
 * @param gridHeight token grid rows
 * @param gridWidth token grid columns
 * @param tokenIds the token ids, row-major
 * @param meanQuantError the image's mean quantisation error
 * @param features the semantic features, or null when they were off (or not read)
 * @param metadataJson the input's own JSON metadata, or null (none, or a v1 record of Avro or Parquet output)
 * @param text the input's own text metadata, or null (none, or a v1 record of Avro or Parquet output)
 */
public record CorpusSample(
        String id, String imageSha256, String duplicateOf, String modelId, String modelVersion, String codebookSha256,
        int gridHeight, int gridWidth, int[] tokenIds, float meanQuantError, Features features, String metadataJson, String text) {

    /**
     * A tokenized image of Avro or Parquet output: its token record (metadata and text since v2; a v1 record has
     * none), and its feature record or null.
     */
    public static CorpusSample of(TokenRecord tokens, FeatureRecord features) {
        return new CorpusSample(tokens.getId(), tokens.getImageSha256(), null, tokens.getModelId(), tokens.getModelVersion(),
                tokens.getCodebookSha256(), tokens.getGridHeight(), tokens.getGridWidth(),
                TokenIds.decode(tokens.getTokenIds(), tokens.getDtype()), tokens.getMeanQuantError(),
                features == null ? null : new Features(features.getKind().name(), features.getDtype().name(),
                        features.getShape().stream().mapToInt(Integer::intValue).toArray(), bytes(features.getValues())),
                tokens.getMetadata(), tokens.getText());
    }

    /** A duplicate without tokens: the id that was tokenized, and the input's metadata where the output kept it. */
    public static CorpusSample duplicate(String id, String imageSha256, String duplicateOf, String metadataJson, String text) {
        return new CorpusSample(id, imageSha256, duplicateOf, null, null, null, 0, 0, null, 0, null, metadataJson, text);
    }

    /** A duplicate of Avro or Parquet output, with its own metadata and text since v2. */
    public static CorpusSample of(DuplicateRecord duplicate) {
        return duplicate(duplicate.getId(), duplicate.getImageSha256(), duplicate.getDuplicateOf(), duplicate.getMetadata(), duplicate.getText());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /**
     * Feature values as written: {@code dtype} float32, float16 or bfloat16, little-endian, row-major.
     *
     * @param kind per_token or pooled
     * @param dtype the element type
     * @param shape {@code [num_tokens, dim]} or {@code [dim]}
     * @param values the raw little-endian values
     */
    public record Features(String kind, String dtype, int[] shape, byte[] values) {}
}
