package io.vqrae.pipeline.corpus.sink.internal;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.RecordKind;
import java.io.IOException;
import org.apache.flink.streaming.api.functions.sink.filesystem.PartFileInfo;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.CheckpointRollingPolicy;

/**
 * Closes a part file on every checkpoint (bulk formats must: their files are committed then) and once it
 * holds {@code maxBytes}, but only before an image's first record, never between its token and feature
 * records: a WebDataset sample never spans two shards.
 */
public final class SampleRollingPolicy extends CheckpointRollingPolicy<EncodedRecord, String> {
    private static final long serialVersionUID = 1L;

    private final long maxBytes;

    public SampleRollingPolicy(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean shouldRollOnEvent(PartFileInfo<String> partFile, EncodedRecord element) throws IOException {
        return element.kind() != RecordKind.FEATURES && partFile.getSize() >= maxBytes;
    }

    @Override
    public boolean shouldRollOnProcessingTime(PartFileInfo<String> partFile, long currentTime) {
        return false;
    }
}
