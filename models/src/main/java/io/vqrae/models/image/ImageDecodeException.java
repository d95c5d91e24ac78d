package io.vqrae.models.image;

import java.util.Objects;

/** An image payload that {@link ImageDecoder} refused or could not decode, with a typed reason. */
public final class ImageDecodeException extends Exception {

    private static final long serialVersionUID = 1L;

    private final DecodeFailure reason;

    ImageDecodeException(DecodeFailure reason, String detail) {
        this(reason, detail, null);
    }

    ImageDecodeException(DecodeFailure reason, String detail, Throwable cause) {
        super(Objects.requireNonNull(reason, "reason").code() + ": " + detail, cause);
        this.reason = reason;
    }

    /** Why decoding failed; {@code reason().code()} is the stable dead-letter reason code. */
    public DecodeFailure reason() {
        return reason;
    }
}
