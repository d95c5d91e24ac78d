package io.vqrae.models.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;

/**
 * Runs a VQRAE model's encoder graph: a batch of preprocessed uint8 images in, per image the token ids,
 * the continuous semantic features and the quantisation error of each token out.
 *
 * <p>Opening verifies the graph against its manifest (file SHA-256, model id/version/codebook metadata,
 * input and output signature) and refuses a mismatch with a {@link ModelLoadException}. Instances opened
 * with equal {@link SessionConfig}s share one native session, reference-counted: each instance must be
 * closed once, and the native session closes with the last one.
 *
 * <p>An instance reuses one direct input buffer across batches (allocating a direct buffer per batch
 * would leave its release to the garbage collector and run into Flink's direct-memory limit), so
 * concurrent {@link #encode} calls on one instance run one at a time. Threads that should run in
 * parallel open their own instances; those still share the native session and its weights.
 */
public final class TokenizerSession extends GraphSession {
    static final String ROLE = "encoder";
    static final String INPUT_PIXELS = "pixels";
    static final String OUTPUT_FEATURES = "features";
    static final String OUTPUT_TOKEN_IDS = "token_ids";
    static final String OUTPUT_QUANT_ERROR = "quant_error";

    /** Input pixels of the last batch; grows to the largest batch seen. Guarded by {@code this}. */
    private ByteBuffer pixels = ByteBuffer.allocateDirect(0);

    private TokenizerSession(SharedGraph graph) {
        super(graph);
    }

    /** Opens (or joins) the encoder session for {@code config}. */
    public static TokenizerSession open(SessionConfig config) throws ModelLoadException {
        return new TokenizerSession(SharedGraph.acquire(config, ROLE, TokenizerSession::signature));
    }

    private static SharedGraph.GraphSignature signature(ModelManifest m) {
        long n = m.numTokens();
        return new SharedGraph.GraphSignature(
                List.of(new SharedGraph.TensorSignature(INPUT_PIXELS, OnnxJavaType.UINT8, -1, 3, m.imageHeight(),
                        m.imageWidth())),
                List.of(new SharedGraph.TensorSignature(OUTPUT_FEATURES, OnnxJavaType.FLOAT, -1, n, m.featureDim()),
                        new SharedGraph.TensorSignature(OUTPUT_TOKEN_IDS, OnnxJavaType.INT64, -1, n),
                        new SharedGraph.TensorSignature(OUTPUT_QUANT_ERROR, OnnxJavaType.FLOAT, -1, n)));
    }

    /**
     * Encodes a batch in one ONNX Runtime run.
     *
     * @param chwImages each a uint8 [3, H, W] image of the manifest's input size, as {@code
     *     io.vqrae.models.preprocess.Preprocessor#toChw} produces
     * @throws IllegalArgumentException if the batch is empty or an image has the wrong size
     * @throws TokenizerException if ONNX Runtime fails
     */
    public synchronized EncodedBatch encode(List<byte[]> chwImages) {
        OrtSession session = session();
        int batch = chwImages.size();
        if (batch == 0) {
            throw new IllegalArgumentException("Cannot encode an empty batch");
        }
        int imageBytes = manifest().imageBytes();
        int batchBytes;
        try {
            batchBytes = Math.multiplyExact(batch, imageBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("A batch of " + batch + " images of " + imageBytes
                    + " bytes is over 2 GiB; use smaller batches", e);
        }
        // A direct buffer lets ONNX Runtime read the pixels in place instead of copying them once more.
        if (pixels.capacity() < batchBytes) {
            pixels = ByteBuffer.allocateDirect(batchBytes);
        }
        pixels.clear();
        for (int i = 0; i < batch; i++) {
            byte[] image = chwImages.get(i);
            if (image.length != imageBytes) {
                throw new IllegalArgumentException("Image " + i + " of the batch has " + image.length
                        + " bytes; the model takes uint8 [3, " + manifest().imageHeight() + ", "
                        + manifest().imageWidth() + "] = " + imageBytes + " bytes");
            }
            pixels.put(image);
        }
        pixels.flip();
        long[] shape = {batch, 3, manifest().imageHeight(), manifest().imageWidth()};
        try (OnnxTensor input = OnnxTensor.createTensor(SharedGraph.environment(), pixels, shape, OnnxJavaType.UINT8);
                OrtSession.Result result = session.run(Map.of(INPUT_PIXELS, input))) {
            return new EncodedBatch(batch, manifest().numTokens(), manifest().featureDim(),
                    floats(result, OUTPUT_FEATURES), tokenIds(result), floats(result, OUTPUT_QUANT_ERROR));
        } catch (OrtException e) {
            throw new TokenizerException("ONNX Runtime failed to encode a batch of " + batch + " images with "
                    + manifest().modelId() + ": " + e.getMessage(), e);
        }
    }

    private static float[] floats(OrtSession.Result result, String name) {
        FloatBuffer buffer = tensor(result, name).getFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }

    private static int[] tokenIds(OrtSession.Result result) {
        LongBuffer buffer = tensor(result, OUTPUT_TOKEN_IDS).getLongBuffer();
        int[] ids = new int[buffer.remaining()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Math.toIntExact(buffer.get(i));
        }
        return ids;
    }

    private static OnnxTensor tensor(OrtSession.Result result, String name) {
        return (OnnxTensor) result.get(name).orElseThrow(
                () -> new IllegalStateException("The verified graph lost its output '" + name + "'"));
    }

}
