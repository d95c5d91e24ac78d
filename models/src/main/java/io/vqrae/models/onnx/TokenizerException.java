package io.vqrae.models.onnx;

/** ONNX Runtime failed while running a graph on a batch; the batch's inputs were well-formed. */
public final class TokenizerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
