package io.vqrae.pipeline.render;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Writes the model's uint8 [3, H, W] images as PNG grids, for the commands that show a person pixels. */
public final class ChwImages {
    /** White space between the images of a grid. */
    public static final int GAP = 4;

    private ChwImages() {}

    /**
     * Writes a grid of images ({@code rows.get(r).get(c)}, each [3, height, width]) on white, {@link #GAP}
     * pixels apart and around, as a PNG; parent folders are created.
     */
    public static void writeGrid(List<List<byte[]>> rows, int height, int width, Path file) throws IOException {
        int columns = rows.stream().mapToInt(List::size).max().orElse(0);
        BufferedImage grid = new BufferedImage(columns * width + (columns + 1) * GAP, rows.size() * height + (rows.size() + 1) * GAP,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.dispose();
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < rows.get(r).size(); c++) {
                paint(grid, rows.get(r).get(c), GAP + c * (width + GAP), GAP + r * (height + GAP), width, height);
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        ImageIO.write(grid, "png", file.toFile());
    }

    /** Copies a uint8 [3, H, W] tensor into {@code grid} at (x0, y0). */
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
