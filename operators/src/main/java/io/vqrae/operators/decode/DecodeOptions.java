package io.vqrae.operators.decode;

import io.vqrae.models.image.ImageDecoder;
import java.io.Serializable;
import java.util.Objects;

/**
 * Limits and inputs of the decode stage. Immutable and validated when built, so a bad value fails at job
 * construction on the client, not later on a TaskManager.
 *
 * @param modelDir directory of the model whose manifest gives the preprocessing spec and alpha background
 * @param maxPixels largest declared width x height accepted, at most {@value #MAX_PIXELS}; larger images are
 *     refused before any pixel buffer is allocated (decompression bombs)
 * @param maxInputBytes largest encoded image accepted
 * @param maxDeadLetterBytes how much of a rejected input a dead letter keeps
 */
public record DecodeOptions(String modelDir, long maxPixels, int maxInputBytes, int maxDeadLetterBytes)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Largest {@code maxPixels}, {@link ImageDecoder#MAX_PIXELS_LIMIT}. */
    public static final long MAX_PIXELS = ImageDecoder.MAX_PIXELS_LIMIT;

    public DecodeOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        if (maxPixels <= 0 || maxPixels > MAX_PIXELS) {
            throw new IllegalArgumentException("maxPixels must be between 1 and " + MAX_PIXELS + ", got " + maxPixels);
        }
        if (maxInputBytes <= 0) {
            throw new IllegalArgumentException("maxInputBytes must be > 0, got " + maxInputBytes);
        }
        if (maxDeadLetterBytes < 0) {
            throw new IllegalArgumentException("maxDeadLetterBytes must be >= 0, got " + maxDeadLetterBytes);
        }
    }

    public static Builder builder(String modelDir) {
        return new Builder(modelDir);
    }

    /** Defaults: 64 megapixels, 32 MiB per image, 256 KiB kept on a dead letter. */
    public static final class Builder {
        private final String modelDir;
        private long maxPixels = 64L * 1024 * 1024;
        private int maxInputBytes = 32 * 1024 * 1024;
        private int maxDeadLetterBytes = 256 * 1024;

        private Builder(String modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
        }

        public Builder maxPixels(long maxPixels) {
            this.maxPixels = maxPixels;
            return this;
        }

        public Builder maxInputBytes(int maxInputBytes) {
            this.maxInputBytes = maxInputBytes;
            return this;
        }

        public Builder maxDeadLetterBytes(int maxDeadLetterBytes) {
            this.maxDeadLetterBytes = maxDeadLetterBytes;
            return this;
        }

        public DecodeOptions build() {
            return new DecodeOptions(modelDir, maxPixels, maxInputBytes, maxDeadLetterBytes);
        }
    }
}
