package io.vqrae.pipeline.corpus.sink.internal;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

/**
 * Counts the records on their way to the file sinks, by kind, and reports the counts as accumulators
 * ({@link #accumulator}) for the run's {@code _SUCCESS.json}. The counts are operator state, checkpointed
 * with the sinks' pending files, so after a restore they cover exactly the records the committed files
 * hold: replayed records are counted once, like the files hold them once.
 */
public final class OutputCounter extends RichMapFunction<EncodedSample, EncodedSample> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private transient LongCounter[] counters;
    private transient long[] restored;
    private transient ListState<Tuple2<Integer, Long>> state;

    /** The accumulator that holds the count of {@code kind}. */
    public static String accumulator(RecordKind kind) {
        return "vqrae-records-" + kind.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // One (kind, count) entry per kind and subtask; on rescaling the entries are redistributed and still add up.
        state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("record-counts", Types.TUPLE(Types.INT, Types.LONG)));
        restored = new long[RecordKind.values().length];
        for (Tuple2<Integer, Long> entry : state.get()) {
            restored[entry.f0] += entry.f1;
        }
    }

    @Override
    public void open(OpenContext openContext) {
        counters = new LongCounter[RecordKind.values().length];
        for (RecordKind kind : RecordKind.values()) {
            counters[kind.ordinal()] = new LongCounter(restored[kind.ordinal()]);
            getRuntimeContext().addAccumulator(accumulator(kind), counters[kind.ordinal()]);
        }
    }

    @Override
    public EncodedSample map(EncodedSample sample) {
        counters[sample.kind().ordinal()].add(1);
        if (sample.features() != null) {
            counters[RecordKind.FEATURES.ordinal()].add(1);
        }
        return sample;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        List<Tuple2<Integer, Long>> entries = new ArrayList<>();
        for (RecordKind kind : RecordKind.values()) {
            entries.add(Tuple2.of(kind.ordinal(), counters[kind.ordinal()].getLocalValue()));
        }
        state.update(entries);
    }
}
