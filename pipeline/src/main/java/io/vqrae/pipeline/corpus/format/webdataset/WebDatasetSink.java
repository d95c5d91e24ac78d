package io.vqrae.pipeline.corpus.format.webdataset;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardCommittable;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardCommitter;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardWriter;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardWriterState;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Writes samples into WebDataset tar shards, exactly once, with shards sized for training rather than by
 * checkpoints: a shard holds up to {@code samplesPerShard} samples or {@code maxShardBytes} bytes, whichever
 * comes first (defaults 10,000 and 512 MiB), and is closed only between samples, so no sample is ever cut. Shards are named
 * {@code <prefix>-<writer>-<seq>.tar} (writer = the subtask that started the shard, zero-padded), predictable
 * across restarts.
 *
 * <p>Built on Flink's {@link org.apache.flink.core.fs.RecoverableWriter} (local files, HDFS, S3 through
 * {@code flink-s3-fs-hadoop}), the machinery of Flink's own {@code FileSink}: a shard open across a
 * checkpoint is persisted and resumed after a restore, and becomes visible under its name only when the
 * checkpoint after its last sample completes. Flink's {@code FileSink} could not be used as it is: its bulk
 * formats must start a new part file at every checkpoint, and its part names hold a random id.
 *
 * <p>As each shard is committed its sample count is recorded beside it ({@link ShardIndex}), so the run can
 * end with an index of the shards a data loader splits by rank and worker without listing or opening them.
 *
 * <pre>{@code
 * samples.sinkTo(WebDatasetSink.builder(new Path("s3://bucket/tokens/webdataset"))
 *         .samplesPerShard(10_000).maxShardBytes(1L << 30).build());
 * }</pre>
 */
public final class WebDatasetSink
        implements Sink<EncodedSample>, SupportsWriterState<EncodedSample, ShardWriterState>, SupportsCommitter<ShardCommittable> {
    private static final long serialVersionUID = 1L;

    private final Path folder;
    private final String prefix;
    private final int samplesPerShard;
    private final long maxShardBytes;

    private WebDatasetSink(Builder builder) {
        this.folder = builder.folder;
        this.prefix = builder.prefix;
        this.samplesPerShard = builder.samplesPerShard;
        this.maxShardBytes = builder.maxShardBytes;
    }

    /** A sink writing shards into {@code folder}. */
    public static Builder builder(Path folder) {
        return new Builder(folder);
    }

    @Override
    public ShardWriter createWriter(WriterInitContext context) throws IOException {
        return restoreWriter(context, List.of());
    }

    @Override
    public ShardWriter restoreWriter(WriterInitContext context, Collection<ShardWriterState> recoveredState) throws IOException {
        return ShardWriter.open(folder, prefix, samplesPerShard, maxShardBytes, context, recoveredState);
    }

    @Override
    public SimpleVersionedSerializer<ShardWriterState> getWriterStateSerializer() {
        return new ShardWriterState.Serializer(folder);
    }

    @Override
    public Committer<ShardCommittable> createCommitter(CommitterInitContext context) throws IOException {
        return new ShardCommitter(folder);
    }

    @Override
    public SimpleVersionedSerializer<ShardCommittable> getCommittableSerializer() {
        return new ShardCommittable.Serializer(folder);
    }

    /** Builds a {@link WebDatasetSink}; each setting is checked when it is set. */
    public static final class Builder {
        private final Path folder;
        private String prefix = "shard";
        private int samplesPerShard = 10_000;
        private long maxShardBytes = 512L << 20;

        private Builder(Path folder) {
            this.folder = Objects.requireNonNull(folder, "folder");
        }

        /** The first part of every shard's name (default {@code shard}); letters, digits and {@code _} only. */
        public Builder prefix(String prefix) {
            if (prefix == null || !prefix.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("prefix must be letters, digits or _, got " + prefix);
            }
            this.prefix = prefix;
            return this;
        }

        /** The most samples a shard holds (default 10,000). */
        public Builder samplesPerShard(int samples) {
            if (samples < 1) {
                throw new IllegalArgumentException("samplesPerShard must be at least 1, got " + samples);
            }
            this.samplesPerShard = samples;
            return this;
        }

        /** A shard is closed after the sample that takes it to this many bytes or more (default 512 MiB). */
        public Builder maxShardBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxShardBytes must be at least 1, got " + bytes);
            }
            this.maxShardBytes = bytes;
            return this;
        }

        public WebDatasetSink build() {
            return new WebDatasetSink(this);
        }
    }
}
