package io.vqrae.operators.data;

import io.vqrae.models.image.DecodeFailure;
import io.vqrae.schemas.FailureStage;
import java.util.Objects;

/**
 * Why an input was refused: the one list of reason codes. Every producer of a dead letter or a rejection names
 * one of these (a {@link Rejection}, an {@link InputImage.Unreadable unreadable input}, a {@code vqrae tokenize}
 * error line), and docs/pipeline.md's table of reason codes is this enum's (ReasonCodesTest checks it).
 *
 * <p>{@link #code()} is what {@code DeadLetterRecord.reason} carries; dashboards, alerts and downstream filters
 * match on it, so a code is never renamed, only added. The decoder's codes are its {@link DecodeFailure}'s, so
 * the decoding library keeps naming its own failures.
 */
public enum ReasonCode {
    MALFORMED_RECORD("malformed_record", FailureStage.source,
            "the input is not an image the source can hand on: a Kafka record that is not an `ImageRecord` (a tombstone,"
                    + " another schema, a wrong fingerprint), a shard sample without an image member, a corpus image over"
                    + " `limits.max-image-bytes`"),
    EMPTY_INPUT(DecodeFailure.EMPTY_INPUT, "zero bytes"),
    INPUT_TOO_LARGE(DecodeFailure.INPUT_TOO_LARGE, "more bytes than `limits.max-image-bytes`"),
    UNSUPPORTED_FORMAT(DecodeFailure.UNSUPPORTED_FORMAT,
            "not JPEG, PNG, WebP, GIF or BMP (AVIF, HEIC, JPEG XL and TIFF are named; HTML, random bytes, ...)"),
    TRUNCATED(DecodeFailure.TRUNCATED, "the data ends before the image does"),
    CORRUPT(DecodeFailure.CORRUPT, "bad markers, Huffman tables, checksums of critical PNG chunks, headers"),
    TOO_MANY_PIXELS(DecodeFailure.TOO_MANY_PIXELS,
            "declared width x height over `limits.max-pixels`, or more than the decode memory this JVM lets decodes hold"),
    INVALID_DIMENSIONS(DecodeFailure.INVALID_DIMENSIONS, "declared width or height of 0"),
    UNSUPPORTED_COLOR_MODEL(DecodeFailure.UNSUPPORTED_COLOR_MODEL, "pixels neither gray, RGB nor indexed after the plugin's conversion"),
    OUT_OF_MEMORY(DecodeFailure.OUT_OF_MEMORY, "the JVM could not allocate an image that was within the limits"),
    DECODER_ERROR("decoder_error", FailureStage.decode,
            "an unexpected exception while decoding or resizing (logged with its stack trace): a bug costs one image,"
                    + " not a restart on every replay"),
    TOKENIZER_FAILED("tokenizer_failed", FailureStage.tokenize, "the encoder session refused the image as model input, even alone"),
    RECORD_TOO_LARGE("record_too_large", FailureStage.serialize,
            "the image's token or feature record would exceed the sink's record limit, or its metadata, text and source URI"
                    + " `limits.max-metadata-bytes` (a corpus sidecar over it is not read); neither record is written"),
    UNREADABLE_FILE("unreadable_file", FailureStage.source, "(`vqrae tokenize` only, never a dead letter) the file could not be read");

    private final String code;
    private final FailureStage stage;
    private final String description;

    ReasonCode(String code, FailureStage stage, String description) {
        this.code = code;
        this.stage = stage;
        this.description = description;
    }

    ReasonCode(DecodeFailure failure, String description) {
        this(failure.code(), FailureStage.decode, description);
    }

    /** The code of a decoder failure. */
    public static ReasonCode of(DecodeFailure failure) {
        Objects.requireNonNull(failure, "failure");
        return switch (failure) {
            case EMPTY_INPUT -> EMPTY_INPUT;
            case INPUT_TOO_LARGE -> INPUT_TOO_LARGE;
            case UNSUPPORTED_FORMAT -> UNSUPPORTED_FORMAT;
            case TRUNCATED -> TRUNCATED;
            case CORRUPT -> CORRUPT;
            case TOO_MANY_PIXELS -> TOO_MANY_PIXELS;
            case INVALID_DIMENSIONS -> INVALID_DIMENSIONS;
            case UNSUPPORTED_COLOR_MODEL -> UNSUPPORTED_COLOR_MODEL;
            case OUT_OF_MEMORY -> OUT_OF_MEMORY;
        };
    }

    /** The stable snake_case code a dead-letter record carries as {@code reason}. */
    public String code() {
        return code;
    }

    /** The stage that refuses an input for this reason, a dead-letter record's {@code stage}. */
    public FailureStage stage() {
        return stage;
    }

    /** What it means, for people (one Markdown table cell of docs/pipeline.md). */
    public String description() {
        return description;
    }

    /** Whether an input refused for this reason becomes a dead-letter record (all but {@link #UNREADABLE_FILE}). */
    public boolean deadLetter() {
        return this != UNREADABLE_FILE;
    }

    @Override
    public String toString() {
        return code;
    }
}
