package io.vqrae.operators.decode;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.metrics.JobMetrics;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Decodes each input image and preprocesses it to the model's uint8 [3, H, W] input through
 * {@link ImagePreparer}. CPU-bound and stateless, so it runs at its own (high) parallelism ahead of the
 * tokenizer.
 *
 * <p>Anything wrong with an input (unreadable record, undecodable or oversized image) goes to
 * {@link #REJECTED} with a stable reason code; this function never throws for bad input.
 */
public final class DecodeFunction extends ProcessFunction<InputImage, PreprocessedImage> {
    private static final long serialVersionUID = 1L;

    /** Inputs this stage rejected. */
    public static final OutputTag<Rejection> REJECTED = new OutputTag<>("decode-rejected") {};

    private final DecodeSpec spec;

    private transient ImagePreparer preparer;
    private transient JobMetrics jobMetrics;

    public DecodeFunction(DecodeSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    @Override
    public void open(OpenContext openContext) {
        preparer = new ImagePreparer(spec.manifest(), spec.limits());
        jobMetrics = JobMetrics.open(spec.metrics(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask())
                .withDecodeMemory(DecodeMemory.shared());
    }

    @Override
    public void processElement(InputImage input, Context ctx, Collector<PreprocessedImage> out) {
        // Every input record reaches this stage once, readable or not: it counts what the pipeline consumed.
        jobMetrics.consumed();
        ImagePreparer.Outcome outcome = preparer.prepare(input);
        if (outcome instanceof ImagePreparer.Prepared prepared) {
            jobMetrics.decoded(prepared.decodeNanos() + prepared.preprocessNanos());
            out.collect(prepared.image());
        } else if (outcome instanceof ImagePreparer.Rejected refused) {
            ctx.output(REJECTED, refused.rejection());
        }
    }

    @Override
    public void close() throws Exception {
        if (jobMetrics != null) {
            jobMetrics.close();
        }
        super.close();
    }
}
