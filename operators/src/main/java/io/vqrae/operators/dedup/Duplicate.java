package io.vqrae.operators.dedup;

import io.vqrae.operators.data.Origin;

/**
 * An input whose bytes were already seen under another id; becomes one {@code DuplicateRecord}.
 *
 * @param id the duplicate's id
 * @param sha256 lower-case hex SHA-256 of its bytes
 * @param duplicateOf the id of the first input with these bytes
 * @param origin where the duplicate was read from
 * @param detectedAtMillis wall-clock time it was recognised, epoch milliseconds
 */
public record Duplicate(String id, String sha256, String duplicateOf, Origin origin, long detectedAtMillis) {}
