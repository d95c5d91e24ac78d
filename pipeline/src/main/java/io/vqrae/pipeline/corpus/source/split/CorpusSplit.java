package io.vqrae.pipeline.corpus.source.split;

import java.io.IOException;
import java.util.Objects;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * One corpus file to read, whole (shards and images are never cut), and how far a reader got: for a shard the
 * byte offset of the first sample not wholly emitted, so a restored reader seeks there instead of reading the
 * shard again from its start, and how many of that sample's inputs (a sample may hold several images) were
 * emitted already.
 *
 * @param path the file's URI
 * @param length its size, from the listing
 * @param looseId the id the file's image gets if it is a loose image (its path below its input folder)
 * @param jsonSidecar a loose image's {@code NAME.json}, as the listing found it, or null
 * @param textSidecar a loose image's {@code NAME.txt}, as the listing found it, or null
 * @param offset where to resume: for a shard, where the first tar header of the first sample not wholly
 *     emitted starts; 0 before the first
 * @param skip inputs from {@code offset} on that were emitted already (a loose image emitted is skip 1)
 */
public record CorpusSplit(String path, long length, String looseId, String jsonSidecar, String textSidecar, long offset, long skip)
        implements SourceSplit {

    public CorpusSplit {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(looseId, "looseId");
    }

    /** A file not read yet. */
    public static CorpusSplit of(String path, long length, String looseId, String jsonSidecar, String textSidecar) {
        return new CorpusSplit(path, length, looseId, jsonSidecar, textSidecar, 0, 0);
    }

    /** This split resumed at {@code offset}, skipping {@code skip} inputs from there. */
    public CorpusSplit at(long offset, long skip) {
        return new CorpusSplit(path, length, looseId, jsonSidecar, textSidecar, offset, skip);
    }

    @Override
    public String splitId() {
        return path;
    }

    /** The split's bytes in checkpoints: version 1. */
    public static final class Serializer implements SimpleVersionedSerializer<CorpusSplit> {
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(CorpusSplit split) throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(split.path().length() + split.looseId().length() + 64);
            write(split, out);
            return out.getCopyOfBuffer();
        }

        @Override
        public CorpusSplit deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("Unknown corpus split version " + version);
            }
            return read(new DataInputDeserializer(serialized));
        }

        /** Writes a split into a larger structure (the enumerator's state). */
        public static void write(CorpusSplit split, DataOutputSerializer out) throws IOException {
            out.writeUTF(split.path());
            out.writeLong(split.length());
            out.writeUTF(split.looseId());
            writeNullable(split.jsonSidecar(), out);
            writeNullable(split.textSidecar(), out);
            out.writeLong(split.offset());
            out.writeLong(split.skip());
        }

        /** Reads a split written by {@link #write}. */
        public static CorpusSplit read(DataInputDeserializer in) throws IOException {
            return new CorpusSplit(in.readUTF(), in.readLong(), in.readUTF(), readNullable(in), readNullable(in), in.readLong(), in.readLong());
        }

        private static void writeNullable(String value, DataOutputSerializer out) throws IOException {
            out.writeBoolean(value != null);
            if (value != null) {
                out.writeUTF(value);
            }
        }

        private static String readNullable(DataInputDeserializer in) throws IOException {
            return in.readBoolean() ? in.readUTF() : null;
        }
    }
}
