package io.vqrae.pipeline.corpus.source.enumerator;

import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/** The enumerator's state, the files not handed out yet, in checkpoints: version 1. */
public final class PendingSplitsSerializer implements SimpleVersionedSerializer<Collection<CorpusSplit>> {
    public static final PendingSplitsSerializer INSTANCE = new PendingSplitsSerializer();

    @Override
    public int getVersion() {
        return 1;
    }

    @Override
    public byte[] serialize(Collection<CorpusSplit> splits) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64 + splits.size() * 128);
        out.writeInt(splits.size());
        for (CorpusSplit split : splits) {
            CorpusSplit.Serializer.write(split, out);
        }
        return out.getCopyOfBuffer();
    }

    @Override
    public Collection<CorpusSplit> deserialize(int version, byte[] serialized) throws IOException {
        if (version != 1) {
            throw new IOException("Unknown pending corpus splits version " + version);
        }
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        int count = in.readInt();
        List<CorpusSplit> splits = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            splits.add(CorpusSplit.Serializer.read(in));
        }
        return splits;
    }
}
