package io.vqrae.pipeline.corpus.source.reader;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;

/**
 * Reads its corpus files one after the other, one input per {@link #pollNext}, in the task's own thread.
 *
 * <p>Deliberately not Flink's {@code SourceReaderBase} with split fetcher threads (what {@code FileSource}
 * uses): with a split per file its fetchers idle and wake after every file, and at the end of a bounded run
 * one sometimes failed to shut down, holding the job for {@code SplitFetcherManager}'s 30 s close timeout
 * (about one run in three on 1,600 loose photos). Reading here needs no hand-off: an input is one buffered
 * read of a local or streamed object, and checkpoints wait for at most one such read.
 *
 * <p>Asks the enumerator for more files while it still has one to read, so the next batch arrives before the
 * current one runs out.
 */
public final class CorpusSourceReader implements SourceReader<InputImage, CorpusSplit> {
    private final SourceReaderContext context;
    private final InputLimits limits;
    private final ArrayDeque<CorpusSplit> queued = new ArrayDeque<>();

    private CorpusFileReader current;
    private boolean requested;
    private boolean noMoreSplits;
    private CompletableFuture<Void> available = new CompletableFuture<>();

    public CorpusSourceReader(SourceReaderContext context, InputLimits limits) {
        this.context = context;
        this.limits = limits;
    }

    @Override
    public void start() {
        if (queued.isEmpty()) {
            request();
        }
    }

    @Override
    public InputStatus pollNext(ReaderOutput<InputImage> output) throws IOException {
        while (true) {
            if (current == null) {
                CorpusSplit next = queued.poll();
                if (next == null) {
                    if (noMoreSplits) {
                        return InputStatus.END_OF_INPUT;
                    }
                    request();
                    if (available.isDone()) {
                        available = new CompletableFuture<>();
                    }
                    return InputStatus.NOTHING_AVAILABLE;
                }
                current = CorpusFileReader.open(next, limits);
                if (queued.isEmpty()) {
                    request();
                }
            }
            InputImage input = current.next();
            if (input != null) {
                output.collect(input);
                return InputStatus.MORE_AVAILABLE;
            }
            current.close();
            current = null;
        }
    }

    private void request() {
        if (!requested && !noMoreSplits) {
            requested = true;
            context.sendSplitRequest();
        }
    }

    @Override
    public List<CorpusSplit> snapshotState(long checkpointId) {
        List<CorpusSplit> splits = new ArrayList<>(queued.size() + 1);
        if (current != null) {
            splits.add(current.position());
        }
        splits.addAll(queued);
        return splits;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return available;
    }

    @Override
    public void addSplits(List<CorpusSplit> splits) {
        queued.addAll(splits);
        requested = false;
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        requested = false;
        available.complete(null);
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
