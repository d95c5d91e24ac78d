package io.vqrae.pipeline.corpus.source.enumerator;

import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;

/**
 * Hands the corpus files to readers as they ask: a batch of small files (loose images) at a time, so a reader
 * of many small files does not wait for a round trip per file, and a large file (a shard) alone, so large
 * files spread over the readers. Its state is the files not handed out yet.
 */
public final class CorpusSplitEnumerator implements SplitEnumerator<CorpusSplit, Collection<CorpusSplit>> {
    /** A batch ends after this many files, or once it holds {@link #BATCH_BYTES}. */
    static final int BATCH_FILES = 16;
    static final long BATCH_BYTES = 8L << 20;

    private final SplitEnumeratorContext<CorpusSplit> context;
    private final ArrayDeque<CorpusSplit> remaining;

    public CorpusSplitEnumerator(SplitEnumeratorContext<CorpusSplit> context, Collection<CorpusSplit> remaining) {
        this.context = context;
        this.remaining = new ArrayDeque<>(remaining);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        if (!context.registeredReaders().containsKey(subtaskId)) {
            return; // the reader failed since it asked; its replacement asks again
        }
        if (remaining.isEmpty()) {
            context.signalNoMoreSplits(subtaskId);
            return;
        }
        List<CorpusSplit> batch = new ArrayList<>();
        long bytes = 0;
        while (!remaining.isEmpty() && batch.size() < BATCH_FILES && bytes < BATCH_BYTES) {
            CorpusSplit split = remaining.peek();
            if (!batch.isEmpty() && bytes + split.length() > BATCH_BYTES) {
                break;
            }
            batch.add(remaining.poll());
            bytes += split.length();
        }
        context.assignSplits(new SplitsAssignment<>(Map.of(subtaskId, batch)));
    }

    @Override
    public void addSplitsBack(List<CorpusSplit> splits, int subtaskId) {
        // A failed reader's files, with the positions of the last checkpoint: first in line again.
        for (int i = splits.size() - 1; i >= 0; i--) {
            remaining.addFirst(splits.get(i));
        }
    }

    @Override
    public void addReader(int subtaskId) {}

    @Override
    public Collection<CorpusSplit> snapshotState(long checkpointId) {
        return List.copyOf(remaining);
    }

    @Override
    public void close() throws IOException {}
}
