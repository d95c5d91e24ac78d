package io.vqrae.operators.encode;

import io.vqrae.operators.data.Origin;
import io.vqrae.operators.dedup.Duplicate;
import io.vqrae.schemas.DuplicateRecord;
import java.time.Instant;
import org.apache.flink.api.common.functions.MapFunction;

/** Turns each {@link Duplicate} into a {@code DuplicateRecord}, Avro single-object encoded like the other outputs. */
public final class DuplicateEncoder implements MapFunction<Duplicate, EncodedSample> {
    private static final long serialVersionUID = 1L;

    @Override
    public EncodedSample map(Duplicate duplicate) {
        return EncodedSample.of(encode(duplicate));
    }

    /** The duplicate's record. */
    public static EncodedRecord encode(Duplicate duplicate) {
        Origin origin = duplicate.origin();
        DuplicateRecord record = DuplicateRecord.newBuilder()
                .setId(duplicate.id())
                .setImageSha256(duplicate.sha256())
                .setDuplicateOf(duplicate.duplicateOf())
                .setSourcePath(origin.file() == null ? null : origin.file().path())
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setDetectedAt(Instant.ofEpochMilli(duplicate.detectedAtMillis()))
                .setMetadata(origin.metadata().json())
                .setText(origin.metadata().text())
                .setSourceUri(origin.metadata().sourceUri())
                .build();
        return new EncodedRecord(RecordKind.DUPLICATE, duplicate.id(), RecordEncoder.bytes(record::toByteBuffer), origin);
    }
}
