package io.vqrae.pipeline.config;

/** A configuration value that is missing, malformed or out of range; the message starts with the key. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, String problem) {
        super(key + ": " + problem);
        this.key = key;
    }

    /** The dotted key at fault, e.g. {@code batching.max-size}. */
    public String key() {
        return key;
    }
}
