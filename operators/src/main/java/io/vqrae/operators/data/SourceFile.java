package io.vqrae.operators.data;

import java.util.Objects;

/**
 * The file an input was read from, for file sources: a loose image, or a member of a WebDataset
 * {@code .tar} shard, with the metadata that came with it in the corpus (img2dataset's {@code KEY.json} and
 * {@code KEY.txt} siblings). Carried to the file outputs, which copy it into each sample's JSON.
 *
 * @param path the file's URI (for a shard, the shard's)
 * @param member the image's member name inside a shard, or null for a loose file
 * @param metadataJson the input's own JSON metadata (a JSON object as text), or null when it had none
 * @param text the input's own text metadata (a caption), or null when it had none
 */
public record SourceFile(String path, String member, String metadataJson, String text) {

    public SourceFile {
        Objects.requireNonNull(path, "path");
    }
}
