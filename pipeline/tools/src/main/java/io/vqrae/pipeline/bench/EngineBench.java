package io.vqrae.pipeline.bench;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine limit: images/s of the encoder graph on pre-made uint8 batches, with nothing else running.
 * Two sides in alternating rounds: bare ONNX Runtime with its default session options (what a Python or Java
 * user would write first) and the job's {@link TokenizerSession} (its options, its input copy and output
 * conversion), at each batch size.
 */
final class EngineBench {
    private final ModelManifest manifest;
    private final SessionConfig config;

    EngineBench(ModelManifest manifest, SessionConfig config) {
        this.manifest = manifest;
        this.config = config;
    }

    /** Images/s per batch size of both sides: medians over {@code rounds}. */
    record Rates(int batchSize, double bare, double session) {}

    List<Rates> run(List<Integer> batchSizes, double seconds, int rounds) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (config.intraOpThreads() > 0) {
                options.setIntraOpNumThreads(config.intraOpThreads());
            }
            try (OrtSession bare = env.createSession(manifest.verifiedGraph("encoder").toString(), options);
                    TokenizerSession session = TokenizerSession.open(config)) {
                List<Rates> rates = new ArrayList<>();
                for (int batchSize : batchSizes) {
                    List<byte[]> images = images(batchSize);
                    ByteBuffer pixels = ByteBuffer.allocateDirect(batchSize * manifest.imageBytes());
                    images.forEach(pixels::put);
                    pixels.flip();
                    long[] shape = {batchSize, 3, manifest.imageHeight(), manifest.imageWidth()};
                    List<Double> bareRates = new ArrayList<>();
                    List<Double> sessionRates = new ArrayList<>();
                    // One untimed run of each first: the first run of a shape allocates ONNX Runtime's arenas.
                    runBare(env, bare, pixels, shape);
                    session.encode(images);
                    for (int round = 0; round < rounds; round++) {
                        bareRates.add(Timing.rate(batchSize, seconds, () -> runBare(env, bare, pixels, shape)));
                        sessionRates.add(Timing.rate(batchSize, seconds, () -> session.encode(images)));
                    }
                    rates.add(new Rates(batchSize, Timing.median(bareRates), Timing.median(sessionRates)));
                }
                return rates;
            }
        }
    }

    private List<byte[]> images(int count) {
        SplittableRandom random = new SplittableRandom(count);
        List<byte[]> images = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] image = new byte[manifest.imageBytes()];
            for (int p = 0; p < image.length; p++) {
                image[p] = (byte) random.nextInt(256);
            }
            images.add(image);
        }
        return images;
    }

    private static void runBare(OrtEnvironment env, OrtSession session, ByteBuffer pixels, long[] shape) throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, pixels.duplicate(), shape, OnnxJavaType.UINT8);
                OrtSession.Result result = session.run(Map.of("pixels", input))) {
            // Outputs are read as a caller would: copied to the heap.
            for (Map.Entry<String, ai.onnxruntime.OnnxValue> output : result) {
                ((OnnxTensor) output.getValue()).getValue();
            }
        }
    }
}
