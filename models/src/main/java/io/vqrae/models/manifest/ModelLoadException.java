package io.vqrae.models.manifest;

/**
 * A model directory that cannot be used: a missing or malformed manifest, a graph whose bytes or
 * signature do not match its manifest, or an execution provider that cannot be loaded. The message
 * always names the file, key or library at fault.
 */
public final class ModelLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
