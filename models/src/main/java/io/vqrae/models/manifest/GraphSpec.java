package io.vqrae.models.manifest;

import java.io.Serializable;
import java.util.Objects;

/**
 * One exported graph as its manifest describes it.
 *
 * @param file file name relative to the model directory
 * @param sha256 lower-case hex SHA-256 of the file's bytes
 * @param precision numeric precision of the graph's weights and compute ({@code fp32} or {@code fp16});
 *     the graph's inputs and outputs keep the same types whatever the precision
 */
public record GraphSpec(String file, String sha256, String precision) implements Serializable {
    private static final long serialVersionUID = 1L;

    public GraphSpec {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(precision, "precision");
    }
}
