package io.vqrae.models.render;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The model's uint8 [3, H, W] images as PNGs, for what shows a person pixels: the commands' PNG grids and the live
 * view's thumbnails.
 */
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

    /** One [3, height, width] image as PNG bytes. */
    public static byte[] png(byte[] chw, int height, int width) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        paint(image, chw, 0, 0, width, height);
        return png(image);
    }

    /** {@code image} as PNG bytes. */
    static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException("Writing a PNG to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    /** Copies a uint8 [3, H, W] tensor into {@code target} at (x0, y0). */
    private static void paint(BufferedImage target, byte[] chw, int x0, int y0, int w, int h) {
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int rgb = (chw[i] & 255) << 16 | (chw[plane + i] & 255) << 8 | (chw[2 * plane + i] & 255);
                target.setRGB(x0 + x, y0 + y, rgb);
            }
        }
    }
}
