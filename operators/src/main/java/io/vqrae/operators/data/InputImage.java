package io.vqrae.operators.data;

import java.util.Objects;

/**
 * An input as a source hands it to the decode stage: either a readable image (id and encoded file bytes)
 * or an input the source could not hand on as an image, which the decode stage turns into a dead letter with
 * the source's reason instead of failing the job.
 *
 * @param id image id, or for an unreadable record whatever identifies it (the record key), possibly null
 * @param payload the encoded image file; for an unreadable record its raw bytes
 * @param origin where it was read from
 * @param unreadable null for a readable image; otherwise why the source could not hand it on
 * @param sha256 lower-case hex SHA-256 of {@code payload} when a stage before decode already computed it
 *     (deduplication keys on it), else null and decode computes it
 */
public record InputImage(String id, byte[] payload, Origin origin, Unreadable unreadable, String sha256) {

    public InputImage {
        Objects.requireNonNull(origin, "origin");
        if (unreadable == null) {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(payload, "payload");
        }
    }

    /**
     * Why a source could not hand an input on as an image.
     *
     * @param reason its reason code, of the source stage
     * @param message what was wrong, for people
     */
    public record Unreadable(ReasonCode reason, String message) {
        public Unreadable {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }

    public static InputImage of(String id, byte[] image, Origin origin) {
        return new InputImage(id, image, origin, null, null);
    }

    /** An input the source could not hand on as an image; the decode stage dead-letters it with {@code reason}. */
    public static InputImage unreadable(String key, byte[] rawValue, Origin origin, ReasonCode reason, String message) {
        return new InputImage(key, rawValue, origin, new Unreadable(reason, message), null);
    }

    /** This input with its payload's digest, computed by the caller. */
    public InputImage withSha256(String digest) {
        return new InputImage(id, payload, origin, unreadable, Objects.requireNonNull(digest, "digest"));
    }

    public boolean readable() {
        return unreadable == null;
    }
}
