package io.vqrae.operators.data;

import java.nio.charset.StandardCharsets;

/**
 * What came with an input besides its image, copied to its output records ({@code metadata}, {@code text},
 * {@code source_uri} of TokenRecord, FeatureRecord and DuplicateRecord v2) and never interpreted.
 *
 * @param json the input's metadata as JSON text (a corpus sidecar as it was, or an ImageRecord's map as a JSON
 *     object), or null
 * @param text the input's text, normally a caption, or null
 * @param sourceUri where the image came from as the input named it (an ImageRecord's source_uri, a corpus file),
 *     or null
 */
public record InputMetadata(String json, String text, String sourceUri) {

    /** An input that came with nothing. */
    public static final InputMetadata NONE = new InputMetadata(null, null, null);

    /** What a corpus file brought: its sidecars, and the file itself as the source. */
    public static InputMetadata of(SourceFile file) {
        return new InputMetadata(file.metadataJson(), file.text(), file.path());
    }

    /** The UTF-8 bytes the three take in a record, which {@code limits.max-metadata-bytes} bounds. */
    public int utf8Bytes() {
        return utf8(json) + utf8(text) + utf8(sourceUri);
    }

    private static int utf8(String value) {
        return value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length;
    }
}
