package io.vqrae.pipeline.corpus.source;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.pipeline.corpus.source.enumerator.CorpusSplitEnumerator;
import io.vqrae.pipeline.corpus.source.enumerator.PendingSplitsSerializer;
import io.vqrae.pipeline.corpus.source.reader.CorpusSourceReader;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import java.util.Collection;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The bounded source of a corpus job: every file of {@link CorpusInputs}, one split per file, listed when the
 * job starts (on the JobManager, like Flink's {@code FileSource}). A shard yields one input per sample, a loose
 * image itself; a job restored from a checkpoint reads no finished file again and resumes a shard at the
 * sample it had reached. Built by {@link CorpusInputs#source}.
 */
public final class CorpusSource implements Source<InputImage, CorpusSplit, Collection<CorpusSplit>>, ResultTypeQueryable<InputImage> {
    private static final long serialVersionUID = 1L;

    private final CorpusInputs inputs;
    private final InputLimits limits;

    CorpusSource(CorpusInputs inputs, InputLimits limits) {
        this.inputs = inputs;
        this.limits = limits;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<InputImage, CorpusSplit> createReader(SourceReaderContext context) {
        return new CorpusSourceReader(context, limits);
    }

    @Override
    public SplitEnumerator<CorpusSplit, Collection<CorpusSplit>> createEnumerator(SplitEnumeratorContext<CorpusSplit> context)
            throws Exception {
        return new CorpusSplitEnumerator(context, inputs.splits());
    }

    @Override
    public SplitEnumerator<CorpusSplit, Collection<CorpusSplit>> restoreEnumerator(
            SplitEnumeratorContext<CorpusSplit> context, Collection<CorpusSplit> remaining) {
        return new CorpusSplitEnumerator(context, remaining);
    }

    @Override
    public SimpleVersionedSerializer<CorpusSplit> getSplitSerializer() {
        return CorpusSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<Collection<CorpusSplit>> getEnumeratorCheckpointSerializer() {
        return PendingSplitsSerializer.INSTANCE;
    }

    @Override
    public TypeInformation<InputImage> getProducedType() {
        return TypeInformation.of(InputImage.class);
    }
}
