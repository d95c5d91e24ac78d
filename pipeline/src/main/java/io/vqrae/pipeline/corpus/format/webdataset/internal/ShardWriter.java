package io.vqrae.pipeline.corpus.format.webdataset.internal;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.pipeline.corpus.format.webdataset.internal.SampleTarWriter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.RecoverableFsDataOutputStream;
import org.apache.flink.core.fs.RecoverableWriter;

/**
 * One subtask's shard writer: appends samples to its open shard, closes the shard between samples once it
 * holds the samples or bytes it may, and hands closed shards to the committer at the next checkpoint. At a
 * checkpoint the open shard is persisted (not closed), so shards outlive checkpoints and a restored writer
 * appends to the same shard where the checkpoint left it.
 */
public final class ShardWriter
        implements CommittingSinkWriter<EncodedSample, ShardCommittable>, StatefulSinkWriter<EncodedSample, ShardWriterState> {

    private final Path folder;
    private final String prefix;
    private final int writer;
    private final int samplesPerShard;
    private final long maxShardBytes;
    private final RecoverableWriter files;
    private final List<ShardCommittable> ready = new ArrayList<>();

    private long nextSeq;
    private Shard open;

    /** The shard being written. */
    private static final class Shard {
        final long seq;
        final String name;
        final RecoverableFsDataOutputStream out;
        final SampleTarWriter tar;
        int samples;
        /** What the last checkpoint persisted of this shard; dropped once a newer checkpoint supersedes it. */
        RecoverableWriter.ResumeRecoverable persisted;

        Shard(long seq, String name, RecoverableFsDataOutputStream out, int samples, RecoverableWriter.ResumeRecoverable persisted) {
            this.seq = seq;
            this.name = name;
            this.out = out;
            this.tar = new SampleTarWriter(out);
            this.samples = samples;
            this.persisted = persisted;
        }
    }

    private ShardWriter(Path folder, String prefix, int writer, int samplesPerShard, long maxShardBytes, RecoverableWriter files) {
        this.folder = folder;
        this.prefix = prefix;
        this.writer = writer;
        this.samplesPerShard = samplesPerShard;
        this.maxShardBytes = maxShardBytes;
        this.files = files;
    }

    /**
     * A writer for this subtask, resuming its shard from {@code recovered}.
     *
     * @throws IllegalStateException if {@code recovered} holds another subtask's state: the sink's parallelism
     *     changed, and shards named by other writers could then be named twice
     */
    public static ShardWriter open(
            Path folder, String prefix, int samplesPerShard, long maxShardBytes, WriterInitContext context,
            Collection<ShardWriterState> recovered) throws IOException {
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        ShardWriter shardWriter = new ShardWriter(folder, prefix, subtask, samplesPerShard, maxShardBytes,
                folder.getFileSystem().createRecoverableWriter());
        for (ShardWriterState state : recovered) {
            if (state.writer() != subtask) {
                throw new IllegalStateException("Shard writer " + subtask + " was given the state of writer " + state.writer()
                        + ": the WebDataset sink's parallelism (parallelism.tokenizer) must stay the same when a run is resumed");
            }
            shardWriter.nextSeq = state.nextSeq();
            if (state.open() != null) {
                ShardWriterState.OpenShard persisted = state.open();
                shardWriter.open = new Shard(persisted.seq(), shardWriter.name(persisted.seq()),
                        shardWriter.files.recover(persisted.resumable()), persisted.samples(), persisted.resumable());
            }
        }
        return shardWriter;
    }

    /** {@code <prefix>-<writer>-<seq>.tar}, zero-padded so names sort in writing order. */
    String name(long seq) {
        return String.format(Locale.ROOT, "%s-%03d-%06d.tar", prefix, writer, seq);
    }

    @Override
    public void write(EncodedSample sample, Context context) throws IOException {
        if (open == null) {
            long seq = nextSeq++;
            String name = name(seq);
            open = new Shard(seq, name, files.open(new Path(folder, name)), 0, null);
        }
        open.tar.write(sample);
        open.samples++;
        if (open.samples >= samplesPerShard || open.out.getPos() >= maxShardBytes) {
            closeShard();
        }
    }

    private void closeShard() throws IOException {
        Shard shard = open;
        open = null;
        shard.tar.finish();
        long bytes = shard.out.getPos();
        RecoverableFsDataOutputStream.Committer committer = shard.out.closeForCommit();
        ready.add(ShardCommittable.publish(shard.name, shard.samples, bytes, committer.getRecoverable()));
        dropLater(shard);
    }

    /** Queues the shard's last persisted state to be dropped once the checkpoint after it completes. */
    private void dropLater(Shard shard) {
        if (shard.persisted != null && files.requiresCleanupOfRecoverableState()) {
            ready.add(ShardCommittable.dropSuperseded(shard.name, shard.persisted));
        }
        shard.persisted = null;
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
        if (endOfInput && open != null) {
            closeShard();
        }
    }

    @Override
    public Collection<ShardCommittable> prepareCommit() {
        List<ShardCommittable> committables = new ArrayList<>(ready);
        ready.clear();
        return committables;
    }

    @Override
    public List<ShardWriterState> snapshotState(long checkpointId) throws IOException {
        ShardWriterState.OpenShard persisted = null;
        if (open != null) {
            dropLater(open);
            open.persisted = open.out.persist();
            persisted = new ShardWriterState.OpenShard(open.seq, open.samples, open.persisted);
        }
        return List.of(new ShardWriterState(writer, nextSeq, persisted));
    }

    @Override
    public void close() throws IOException {
        if (open != null) {
            // Releases the stream only: what the last checkpoint persisted stays recoverable.
            open.out.close();
            open = null;
        }
    }
}
