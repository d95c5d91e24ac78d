package io.vqrae.operators.decode;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.image.ImageDecoder;
import java.io.Serializable;

/**
 * What the decode stage accepts, and how much of a rejected input a dead letter keeps: the {@code limits}
 * section of a job's configuration, which {@code vqrae tokenize} applies as well.
 *
 * @param maxPixels largest declared width x height accepted, at most {@value ImageDecoder#MAX_PIXELS_LIMIT};
 *     larger images are refused before any pixel buffer is allocated (decompression bombs)
 * @param maxImageBytes largest encoded image accepted
 * @param deadLetterMaxOriginalBytes how much of a rejected input its dead letter keeps
 * @param jpegDraft decode JPEGs at the smallest DCT scale still at least the model's input size
 *     ({@link ImageDecoder.Builder#draft}), then resample exactly: much faster on large photos; tokens agree
 *     mostly rather than exactly; off by default
 * @param maxMetadataBytes the most UTF-8 bytes of metadata, text and source URI an input may bring to its output
 *     records (each of its records carries them); the record limit makes room for them, and an input bringing
 *     more becomes a dead letter ({@code record_too_large})
 */
@RecordBuilder
public record InputLimits(long maxPixels, int maxImageBytes, int deadLetterMaxOriginalBytes, boolean jpegDraft, int maxMetadataBytes)
        implements Serializable, InputLimitsBuilder.With {
    private static final long serialVersionUID = 1L;

    /** Largest {@code max-metadata-bytes}: metadata is a record's side dish, not a second payload. */
    public static final int MAX_METADATA_BYTES_LIMIT = 16 * 1024 * 1024;

    /** The decoder's own defaults (64 Mi pixels, 32 MiB), 256 KiB of a rejected input, exact decoding, 64 KiB of metadata. */
    public static final InputLimits DEFAULT = InputLimitsBuilder.builder()
            .maxPixels(ImageDecoder.DEFAULT_MAX_PIXELS)
            .maxImageBytes(ImageDecoder.DEFAULT_MAX_INPUT_BYTES)
            .deadLetterMaxOriginalBytes(256 * 1024)
            .jpegDraft(false)
            .maxMetadataBytes(64 * 1024)
            .build();

    public InputLimits {
        InvalidSettingException.requireBetween("max-pixels", maxPixels, 1, ImageDecoder.MAX_PIXELS_LIMIT);
        InvalidSettingException.requireBetween("max-image-bytes", maxImageBytes, 1, Integer.MAX_VALUE);
        InvalidSettingException.requireBetween("dead-letter-max-original-bytes", deadLetterMaxOriginalBytes, 0, Integer.MAX_VALUE);
        InvalidSettingException.requireBetween("max-metadata-bytes", maxMetadataBytes, 0, MAX_METADATA_BYTES_LIMIT);
    }
}
