package io.vqrae.pipeline.corpus.format.webdataset.internal;

import java.io.IOException;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.RecoverableWriter;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * What the committer does once a checkpoint completes: publish a closed shard under its name (and record its
 * sample count), or drop the persisted state of an open shard that a newer checkpoint superseded (only
 * filesystems whose writers keep such state, e.g. S3's uploaded parts, need it).
 *
 * @param name the shard's file name
 * @param samples samples in the shard
 * @param bytes the shard's size
 * @param shard the closed shard to publish; null for a clean-up
 * @param superseded the persisted state to drop; null for a publication
 */
public record ShardCommittable(
        String name, int samples, long bytes, RecoverableWriter.CommitRecoverable shard, RecoverableWriter.ResumeRecoverable superseded) {

    public ShardCommittable {
        if ((shard == null) == (superseded == null)) {
            throw new IllegalArgumentException("A committable publishes a shard or drops superseded state, one of the two");
        }
    }

    static ShardCommittable publish(String name, int samples, long bytes, RecoverableWriter.CommitRecoverable shard) {
        return new ShardCommittable(name, samples, bytes, shard, null);
    }

    static ShardCommittable dropSuperseded(String name, RecoverableWriter.ResumeRecoverable state) {
        return new ShardCommittable(name, 0, 0, null, state);
    }

    /** Serializes committables with the recoverable writer of the sink's filesystem. */
    public static final class Serializer implements SimpleVersionedSerializer<ShardCommittable> {
        private final LazyRecoverableWriter writer;

        public Serializer(Path folder) {
            this.writer = new LazyRecoverableWriter(folder);
        }

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(ShardCommittable committable) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(256);
            out.writeUTF(committable.name());
            out.writeInt(committable.samples());
            out.writeLong(committable.bytes());
            out.writeBoolean(committable.shard() != null);
            if (committable.shard() != null) {
                SimpleVersionedSerialization.writeVersionAndSerialize(writer.get().getCommitRecoverableSerializer(), committable.shard(), out);
            } else {
                SimpleVersionedSerialization.writeVersionAndSerialize(writer.get().getResumeRecoverableSerializer(), committable.superseded(), out);
            }
            return out.getCopyOfBuffer();
        }

        @Override
        public ShardCommittable deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("Unknown shard committable version " + version);
            }
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            String name = in.readUTF();
            int samples = in.readInt();
            long bytes = in.readLong();
            return in.readBoolean()
                    ? publish(name, samples, bytes,
                            SimpleVersionedSerialization.readVersionAndDeSerialize(writer.get().getCommitRecoverableSerializer(), in))
                    : dropSuperseded(name,
                            SimpleVersionedSerialization.readVersionAndDeSerialize(writer.get().getResumeRecoverableSerializer(), in));
        }
    }
}
