package io.vqrae.operators.data;

import java.util.Objects;

/**
 * An input as a source hands it to the decode stage: either a readable image (id and encoded file bytes)
 * or an input record the source could not parse, which the decode stage turns into a dead letter instead
 * of failing the job.
 *
 * @param id image id, or for an unreadable record whatever identifies it (the record key), possibly null
 * @param payload the encoded image file; for an unreadable record its raw bytes
 * @param origin where it was read from
 * @param unreadableReason null for a readable image; otherwise why the source could not parse the record
 * @param sha256 lower-case hex SHA-256 of {@code payload} when a stage before decode already computed it
 *     (deduplication keys on it), else null and decode computes it
 */
public record InputImage(String id, byte[] payload, Origin origin, String unreadableReason, String sha256) {

    public InputImage {
        Objects.requireNonNull(origin, "origin");
        if (unreadableReason == null) {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(payload, "payload");
        }
    }

    public static InputImage of(String id, byte[] image, Origin origin) {
        return new InputImage(id, image, origin, null, null);
    }

    /** A record the source could not parse; the decode stage dead-letters it with reason {@code malformed_record}. */
    public static InputImage unreadable(String key, byte[] rawValue, Origin origin, String reason) {
        return new InputImage(key, rawValue, origin, Objects.requireNonNull(reason, "reason"), null);
    }

    /** This input with its payload's digest, computed by the caller. */
    public InputImage withSha256(String digest) {
        return new InputImage(id, payload, origin, unreadableReason, Objects.requireNonNull(digest, "digest"));
    }

    public boolean readable() {
        return unreadableReason == null;
    }
}
