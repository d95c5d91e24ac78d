package io.vqrae.pipeline.corpus.format.webdataset.internal;

import java.io.IOException;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.RecoverableWriter;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * What a shard writer checkpoints: its writer number, the sequence number its next shard takes, and the
 * shard it has open, persisted, to be resumed after a restore.
 *
 * @param writer the writer's number: its subtask index, which names its shards
 * @param nextSeq the sequence number of the writer's next shard
 * @param open the open shard, or null
 */
public record ShardWriterState(int writer, long nextSeq, OpenShard open) {

    /**
     * An open shard as persisted at a checkpoint.
     *
     * @param seq its sequence number
     * @param samples the samples it holds
     * @param resumable where to resume writing it
     */
    public record OpenShard(long seq, int samples, RecoverableWriter.ResumeRecoverable resumable) {}

    /** Serializes the state with the recoverable writer of the sink's filesystem. */
    public static final class Serializer implements SimpleVersionedSerializer<ShardWriterState> {
        private final LazyRecoverableWriter writer;

        public Serializer(Path folder) {
            this.writer = new LazyRecoverableWriter(folder);
        }

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(ShardWriterState state) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(256);
            out.writeInt(state.writer());
            out.writeLong(state.nextSeq());
            out.writeBoolean(state.open() != null);
            if (state.open() != null) {
                out.writeLong(state.open().seq());
                out.writeInt(state.open().samples());
                SimpleVersionedSerialization.writeVersionAndSerialize(writer.get().getResumeRecoverableSerializer(), state.open().resumable(), out);
            }
            return out.getCopyOfBuffer();
        }

        @Override
        public ShardWriterState deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("Unknown shard writer state version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            int writerNumber = in.readInt();
            long nextSeq = in.readLong();
            OpenShard open = null;
            if (in.readBoolean()) {
                long seq = in.readLong();
                int samples = in.readInt();
                open = new OpenShard(seq, samples,
                        SimpleVersionedSerialization.readVersionAndDeSerialize(writer.get().getResumeRecoverableSerializer(), in));
            }
            return new ShardWriterState(writerNumber, nextSeq, open);
        }
    }
}
