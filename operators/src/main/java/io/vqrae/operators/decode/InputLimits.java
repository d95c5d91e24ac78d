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
 */
@RecordBuilder
public record InputLimits(long maxPixels, int maxImageBytes, int deadLetterMaxOriginalBytes, boolean jpegDraft)
        implements Serializable, InputLimitsBuilder.With {
    private static final long serialVersionUID = 1L;

    /** The decoder's own defaults (64 Mi pixels, 32 MiB), 256 KiB of a rejected input, exact decoding. */
    public static final InputLimits DEFAULT = InputLimitsBuilder.builder()
            .maxPixels(ImageDecoder.DEFAULT_MAX_PIXELS)
            .maxImageBytes(ImageDecoder.DEFAULT_MAX_INPUT_BYTES)
            .deadLetterMaxOriginalBytes(256 * 1024)
            .jpegDraft(false)
            .build();

    public InputLimits {
        InvalidSettingException.requireBetween("max-pixels", maxPixels, 1, ImageDecoder.MAX_PIXELS_LIMIT);
        InvalidSettingException.requireBetween("max-image-bytes", maxImageBytes, 1, Integer.MAX_VALUE);
        InvalidSettingException.requireBetween("dead-letter-max-original-bytes", deadLetterMaxOriginalBytes, 0, Integer.MAX_VALUE);
    }
}
