package io.vqrae.pipeline.demo;

import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.quality.ImageQuality;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Writes a PNG grid with the model-size input of each image on the top row and the decoder's
 * reconstruction from its committed token ids below, so a person can see what the tokens hold.
 */
final class PreviewWriter {
    private static final int GAP = 4;

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
        int h = manifest.imageHeight();
        int w = manifest.imageWidth();
        int n = pairs.size();
        BufferedImage grid = new BufferedImage(n * w + (n + 1) * GAP, 2 * h + 3 * GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.dispose();
        for (int i = 0; i < n; i++) {
            int x = GAP + i * (w + GAP);
            paint(grid, originals.get(i), x, GAP, w, h);
            paint(grid, reconstructions.get(i), x, 2 * GAP + h, w, h);
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        ImageIO.write(grid, "png", file.toFile());
        double psnrSum = 0;
        for (int i = 0; i < n; i++) {
            psnrSum += ImageQuality.psnr(originals.get(i), reconstructions.get(i));
        }
        return psnrSum / n;
    }

    /** Copies a uint8 [3, H, W] tensor into the grid at (x0, y0). */
    private static void paint(BufferedImage grid, byte[] chw, int x0, int y0, int w, int h) {
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int rgb = (chw[i] & 255) << 16 | (chw[plane + i] & 255) << 8 | (chw[2 * plane + i] & 255);
                grid.setRGB(x0 + x, y0 + y, rgb);
            }
        }
    }
}
