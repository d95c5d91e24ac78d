package io.vqrae.pipeline.config;

import io.vqrae.models.manifest.ModelLoadException;

/** A configuration value that is missing, malformed or out of range; the message starts with the key. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigException(String key, String problem) {
        super(key + ": " + problem);
        this.key = key;
    }

    /**
     * A model that cannot be loaded (no manifest, a graph of another export, one ONNX Runtime refuses) is an error
     * of {@code model.dir}: the one place that says so, for the job's planning and for every command.
     */
    public static ConfigException of(ModelLoadException e) {
        ConfigException error = new ConfigException("model.dir", e.getMessage());
        error.initCause(e);
        return error;
    }

    /** The dotted key at fault, e.g. {@code batching.max-size}. */
    public String key() {
        return key;
    }
}
