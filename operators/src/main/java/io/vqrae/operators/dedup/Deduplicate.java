package io.vqrae.operators.dedup;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.metrics.MetricsSpec;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Lets the first input of each image (keyed by the SHA-256 of its bytes) through and turns every later one
 * into a {@link Duplicate} naming the first id, so an image is tokenized once however often a corpus holds
 * it. The first id lives in keyed state, checkpointed with the source position, so a restored job
 * recognises duplicates of images it read before the failure and replays neither more nor fewer.
 *
 * <p>Placed before decode, where an image is smallest (its encoded bytes): the keyBy is the only extra
 * network hop, and it replaces the rebalance between source and decode. Unreadable inputs have no image to
 * key on; they are not keyed here (see {@link #key}).
 */
public final class Deduplicate extends KeyedProcessFunction<String, InputImage, InputImage> {
    private static final long serialVersionUID = 1L;

    /** Inputs recognised as duplicates. */
    public static final OutputTag<Duplicate> DUPLICATES = new OutputTag<>("duplicates") {};

    private final Duration ttl;
    private final MetricsSpec metrics;

    private transient ValueState<String> firstId;
    private transient JobMetrics jobMetrics;

    /**
     * @param ttl how long an image's first id is remembered after it was last seen; zero keeps it forever
     * @param metrics the job's metrics, where duplicates are counted ({@code vqrae_duplicates_total})
     */
    public Deduplicate(Duration ttl, MetricsSpec metrics) {
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("ttl must not be negative, got " + ttl);
        }
        this.ttl = ttl;
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * The key of an input: its digest, or for an unreadable record its id, which only spreads such records
     * over the subtasks: they pass through to be dead-lettered, never deduplicated, and touch no state. (Not
     * the origin: it carries the input's metadata, up to a megabyte, and the key is computed on both sides of
     * the network hop.)
     */
    public static String key(InputImage input) {
        return input.readable() ? input.sha256() : "unreadable:" + input.id();
    }

    /**
     * {@code descriptor}, its values forgotten {@code ttl} after their key was last read or written (zero:
     * never), as deduplication forgets an image: one seen again and again stays remembered.
     */
    public static <S extends StateDescriptor<?, ?>> S forgottenAfter(S descriptor, Duration ttl) {
        if (!ttl.isZero()) {
            descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
                    .setUpdateType(StateTtlConfig.UpdateType.OnReadAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build());
        }
        return descriptor;
    }

    @Override
    public void open(OpenContext openContext) {
        firstId = getRuntimeContext().getState(forgottenAfter(new ValueStateDescriptor<>("first-id", Types.STRING), ttl));
        jobMetrics = JobMetrics.open(metrics, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask()).withDuplicates();
    }

    @Override
    public void close() throws Exception {
        if (jobMetrics != null) {
            jobMetrics.close();
        }
        super.close();
    }

    @Override
    public void processElement(InputImage input, Context ctx, Collector<InputImage> out) throws Exception {
        if (!input.readable()) {
            out.collect(input);
            return;
        }
        String first = firstId.value();
        if (first == null) {
            firstId.update(input.id());
            out.collect(input);
        } else {
            jobMetrics.duplicate();
            ctx.output(DUPLICATES, new Duplicate(input.id(), input.sha256(), first, input.origin(), System.currentTimeMillis()));
        }
    }
}
