package io.vqrae.pipeline.read;

/**
 * One image of a corpus job's output, as {@link CorpusReader} reads it from WebDataset shards or Avro files.
 *
 * @param id the input's id
 * @param imageSha256 SHA-256 of the image bytes
 * @param duplicateOf for a duplicate (deduplication on), the id that holds its tokens; else null, and the
 *     model fields and tokens are set
 * @param modelId the model's id
 * @param modelVersion the model's version
 * @param codebookSha256 the codebook's SHA-256; token ids compare only within one codebook
 * @param gridHeight token grid rows
 * @param gridWidth token grid columns
 * @param tokenIds the token ids, row-major
 * @param meanQuantError the image's mean quantisation error
 * @param features the semantic features, or null when they were off (or not read)
 * @param metadataJson the input's own JSON metadata (WebDataset output only), or null
 * @param text the input's own text metadata (WebDataset output only), or null
 */
public record CorpusSample(
        String id, String imageSha256, String duplicateOf, String modelId, String modelVersion, String codebookSha256,
        int gridHeight, int gridWidth, int[] tokenIds, float meanQuantError, Features features, String metadataJson, String text) {

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
