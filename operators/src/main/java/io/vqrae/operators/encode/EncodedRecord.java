package io.vqrae.operators.encode;

import io.vqrae.operators.data.Origin;
import java.util.Objects;

/**
 * An output record already serialized (Avro single-object encoding), ready for any sink. Serializing in
 * the pipeline rather than in the sink lets the encoder check each record's size against the sink's
 * limit and dead-letter the ones that would not fit, instead of failing the sink.
 *
 * @param kind which output it belongs to
 * @param key the image id (the record key), or null for a dead letter whose id is unknown
 * @param value the serialized record
 * @param origin where the image came from; a file sink copies its file and metadata beside the record
 */
public record EncodedRecord(RecordKind kind, String key, byte[] value, Origin origin) {

    public EncodedRecord {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(origin, "origin");
    }
}
