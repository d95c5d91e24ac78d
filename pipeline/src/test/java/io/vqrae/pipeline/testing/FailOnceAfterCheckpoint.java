package io.vqrae.pipeline.testing;

import io.vqrae.operators.data.InputImage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Throws once, after at least one checkpoint has completed and part of the input went through, so the
 * job must restart from that checkpoint. Slows records down so checkpoints happen mid-stream.
 */
public final class FailOnceAfterCheckpoint extends RichMapFunction<InputImage, InputImage> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    public static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger CHECKPOINTS = new AtomicInteger();
    private int seen;

    public static void reset() {
        FAILED.set(false);
        CHECKPOINTS.set(0);
    }

    @Override
    public InputImage map(InputImage image) throws Exception {
        // Slower until the first checkpoint completes, so even a loaded machine checkpoints mid-stream: at 150 ms
        // an image, a 26-input corpus ran out before a checkpoint completed at load average 30 on two cores
        // ("failure was injected: false"). Sleeping between images, not waiting inside one, lets the barrier pass.
        Thread.sleep(CHECKPOINTS.get() == 0 ? 500 : 40);
        seen++;
        if (seen >= 10 && CHECKPOINTS.get() > 0 && FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure at " + image.id());
        }
        return image;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINTS.incrementAndGet();
    }
}
