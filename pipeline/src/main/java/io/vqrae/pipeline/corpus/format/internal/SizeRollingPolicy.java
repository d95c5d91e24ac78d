package io.vqrae.pipeline.corpus.format.internal;

import io.vqrae.operators.encode.EncodedRecord;
import org.apache.flink.streaming.api.functions.sink.filesystem.PartFileInfo;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.CheckpointRollingPolicy;

/**
 * Closes a part file on every checkpoint (bulk formats must: their files are committed then) and once it
 * holds {@code maxBytes}.
 */
public final class SizeRollingPolicy extends CheckpointRollingPolicy<EncodedRecord, String> {
    private static final long serialVersionUID = 1L;

    private final long maxBytes;

    public SizeRollingPolicy(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean shouldRollOnEvent(PartFileInfo<String> partFile, EncodedRecord element) throws java.io.IOException {
        return partFile.getSize() >= maxBytes;
    }

    @Override
    public boolean shouldRollOnProcessingTime(PartFileInfo<String> partFile, long currentTime) {
        return false;
    }
}
