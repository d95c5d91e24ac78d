package io.vqrae.models.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a VQRAE model's decoder graph: token ids in, reconstructed uint8 [3, H, W] images out. Sharing,
 * verification and closing work as for {@link TokenizerSession}.
 */
public final class DetokenizerSession extends GraphSession {
    static final String ROLE = "decoder";
    static final String INPUT_TOKEN_IDS = "token_ids";
    static final String OUTPUT_PIXELS = "pixels";


    private DetokenizerSession(SharedGraph graph) {
        super(graph);
    }

    /** Opens (or joins) the decoder session for {@code config}. */
    public static DetokenizerSession open(SessionConfig config) throws ModelLoadException {
        return new DetokenizerSession(SharedGraph.acquire(config, ROLE, DetokenizerSession::signature));
    }

    private static SharedGraph.GraphSignature signature(ModelManifest m) {
        return new SharedGraph.GraphSignature(
                List.of(new SharedGraph.TensorSignature(INPUT_TOKEN_IDS, OnnxJavaType.INT64, -1, m.numTokens())),
                List.of(new SharedGraph.TensorSignature(OUTPUT_PIXELS, OnnxJavaType.UINT8, -1, 3, m.imageHeight(),
                        m.imageWidth())));
    }

    /**
     * Decodes a batch in one ONNX Runtime run.
     *
     * @param tokenIds per image the {@code N} token ids, each in {@code [0, K)}
     * @return per image uint8 [3, H, W]
     */
    public List<byte[]> decode(List<int[]> tokenIds) {
        OrtSession session = session();
        int batch = tokenIds.size();
        if (batch == 0) {
            throw new IllegalArgumentException("Cannot decode an empty batch");
        }
        int n = manifest().numTokens();
        LongBuffer ids = ByteBuffer.allocateDirect(batch * n * Long.BYTES)
                .order(ByteOrder.nativeOrder()).asLongBuffer();
        for (int i = 0; i < batch; i++) {
            int[] row = tokenIds.get(i);
            if (row.length != n) {
                throw new IllegalArgumentException("Image " + i + " has " + row.length + " token ids; the model takes " + n);
            }
            for (int id : row) {
                if (id < 0 || id >= manifest().codebookSize()) {
                    throw new IllegalArgumentException("Token id " + id + " of image " + i + " is outside [0, "
                            + manifest().codebookSize() + ")");
                }
                ids.put(id);
            }
        }
        ids.flip();
        try (OnnxTensor input = OnnxTensor.createTensor(SharedGraph.environment(), ids, new long[] {batch, n});
                OrtSession.Result result = session.run(Map.of(INPUT_TOKEN_IDS, input))) {
            ByteBuffer pixels = ((OnnxTensor) result.get(OUTPUT_PIXELS).orElseThrow()).getByteBuffer();
            int imageBytes = manifest().imageBytes();
            List<byte[]> images = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                byte[] image = new byte[imageBytes];
                pixels.get(image);
                images.add(image);
            }
            return images;
        } catch (OrtException e) {
            throw new TokenizerException("ONNX Runtime failed to decode a batch of " + batch + " token grids with "
                    + manifest().modelId() + ": " + e.getMessage(), e);
        }
    }
}
