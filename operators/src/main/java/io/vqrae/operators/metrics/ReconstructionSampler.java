package io.vqrae.operators.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.quality.ImageQuality;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes sampled token grids with the model's decoder graph on a thread of its own and records the PSNR of
 * each reconstruction against the model-size input, and hands both images to a listener (the live view) if one
 * is given. The tokenizer only {@link #offer offers} a sample: when the decoder is still busy with the previous
 * one the sample is skipped (and counted), so sampling never stalls the batch loop.
 */
final class ReconstructionSampler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReconstructionSampler.class);

    private record Sample(int[] tokenIds, byte[] chw) {}

    /** Takes each sample's model-size input, its reconstruction (uint8 [3, H, W] both) and their PSNR, on the sampler's thread. */
    interface Listener {
        void sampled(byte[] input, byte[] reconstruction, double psnr);
    }

    private final BlockingQueue<Sample> queue = new ArrayBlockingQueue<>(2);
    private final DetokenizerSession decoder;
    private final DistributionDataPoint psnr;
    private final CounterDataPoint skipped;
    private final Listener listener;
    private final Thread thread;
    private volatile boolean running = true;

    /** @param listener takes every sample, or null */
    ReconstructionSampler(SessionConfig session, DistributionDataPoint psnr, CounterDataPoint skipped, Listener listener)
            throws ModelLoadException {
        this.decoder = DetokenizerSession.open(session);
        this.psnr = psnr;
        this.skipped = skipped;
        this.listener = listener;
        this.thread = new Thread(this::run, "vqrae-psnr-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a sample unless the decoder is behind; never blocks. */
    void offer(int[] tokenIds, byte[] chw) {
        if (!queue.offer(new Sample(tokenIds, chw))) {
            skipped.inc();
        }
    }

    private void run() {
        while (running) {
            Sample sample;
            try {
                sample = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (sample == null) {
                continue;
            }
            try {
                byte[] reconstruction = decoder.decode(List.of(sample.tokenIds())).get(0);
                double db = ImageQuality.psnr(sample.chw(), reconstruction);
                psnr.observe(db);
                if (listener != null) {
                    listener.sampled(sample.chw(), reconstruction, db);
                }
            } catch (RuntimeException e) {
                // A health metric must not take the job down; the log says why samples stop.
                LOG.warn("Reconstruction sample failed", e);
            }
        }
    }


    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(); // the decoder must not close under a running decode
        decoder.close();
    }
}
