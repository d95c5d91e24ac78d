package io.vqrae.models.image;

/**
 * Why an image could not be decoded. {@link #code()} is written to dead-letter records and
 * dashboards, so existing codes must never change; add new constants instead.
 */
public enum DecodeFailure {
    /** The payload has no bytes. */
    EMPTY_INPUT("empty_input"),
    /** The payload is larger than {@link ImageDecoder.Builder#maxInputBytes(int)}. */
    INPUT_TOO_LARGE("input_too_large"),
    /** The payload is not JPEG, PNG, WebP, GIF or BMP (judged by its signature, not a name). */
    UNSUPPORTED_FORMAT("unsupported_format"),
    /** The data ends before the image does. */
    TRUNCATED("truncated"),
    /** The data is malformed: bad markers, checksums, compressed streams or headers. */
    CORRUPT("corrupt"),
    /** The header declares more pixels than {@link ImageDecoder.Builder#maxPixels(long)}. */
    TOO_MANY_PIXELS("too_many_pixels"),
    /** The header declares a zero or negative width or height. */
    INVALID_DIMENSIONS("invalid_dimensions"),
    /** The pixels are in a colour model this decoder does not convert (neither gray, RGB nor indexed). */
    UNSUPPORTED_COLOR_MODEL("unsupported_color_model"),
    /** The JVM could not allocate the decoded image although it was within the pixel limit. */
    OUT_OF_MEMORY("out_of_memory");

    private final String code;

    DecodeFailure(String code) {
        this.code = code;
    }

    /** The stable snake_case reason code put on dead-letter records. */
    public String code() {
        return code;
    }
}
