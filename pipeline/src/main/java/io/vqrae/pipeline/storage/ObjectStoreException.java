package io.vqrae.pipeline.storage;

/** A bucket a command needs cannot be used (wrong credentials, no such bucket): one line naming the bucket and the endpoint. */
public final class ObjectStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ObjectStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
