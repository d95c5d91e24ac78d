package io.vqrae.pipeline.demo;

import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.quality.ImageQuality;
import io.vqrae.models.render.ChwImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a PNG grid with the model-size input of each image on the top row and the decoder's
 * reconstruction from its committed token ids below, so a person can see what the tokens hold.
 */
final class PreviewWriter {
    private PreviewWriter() {}

    /** One column of the grid: the original file bytes and the token ids read back from Kafka. */
    record Pair(byte[] original, int[] tokenIds) {}

    /** Writes the grid and returns the mean PSNR (dB) of the reconstructions against their model-size inputs. */
    static double write(ModelManifest manifest, List<Pair> pairs, Path file) throws IOException, ModelLoadException, ImageDecodeException {
        Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());
        ImageDecoder decoder = manifest.imageDecoder().build();
        List<byte[]> originals = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (Pair pair : pairs) {
            originals.add(preprocessor.toChw(decoder.decode(pair.original())));
            ids.add(pair.tokenIds());
        }
        List<byte[]> reconstructions;
        try (DetokenizerSession detokenizer = DetokenizerSession.open(SessionConfig.cpu(manifest))) {
            reconstructions = detokenizer.decode(ids);
        }
        ChwImages.writeGrid(List.of(originals, reconstructions), manifest.imageHeight(), manifest.imageWidth(), file);
        int n = pairs.size();
        double psnrSum = 0;
        for (int i = 0; i < n; i++) {
            psnrSum += ImageQuality.psnr(originals.get(i), reconstructions.get(i));
        }
        return psnrSum / n;
    }

}
