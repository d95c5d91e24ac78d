package io.vqrae.pipeline.embedded;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The demo's default input, generated (seeded, so every run sees the same pictures) rather than shipped:
 * landscape-like scenes (sky gradient, sun, layered hills, sensor-like noise) as JPEG and PNG at a size
 * that needs resizing, plus three broken files so the dead-letter path shows in the report.
 */
public final class SampleImages {
    /** File names of the broken samples. */
    public static final String TRUNCATED = "broken-truncated.jpg";
    public static final String TEXT = "broken-not-an-image.png";
    public static final String EMPTY = "broken-empty.jpg";

    private SampleImages() {}

    /** Whether {@code fileName} is one of the broken samples. */
    public static boolean isBroken(String fileName) {
        return fileName.equals(TRUNCATED) || fileName.equals(TEXT) || fileName.equals(EMPTY);
    }

    /** Writes {@code good} scenes and the three broken files into {@code dir}. */
    public static void write(Path dir, int good) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(20251128L);
        byte[] lastJpeg = null;
        for (int i = 0; i < good; i++) {
            BufferedImage scene = scene(random, 320 + 16 * (i % 5), 240 + 12 * (i % 3));
            String format = i % 3 == 2 ? "png" : "jpg";
            byte[] bytes = encode(scene, format);
            Files.write(dir.resolve(String.format("scene-%03d.%s", i, format)), bytes);
            if (format.equals("jpg")) {
                lastJpeg = bytes;
            }
        }
        byte[] source = lastJpeg != null ? lastJpeg : encode(scene(random, 320, 240), "jpg");
        Files.write(dir.resolve(TRUNCATED), Arrays.copyOf(source, Math.min(source.length, 600)));
        Files.write(dir.resolve(TEXT), "<html><body>404 Not Found</body></html>\n".getBytes(StandardCharsets.US_ASCII));
        Files.write(dir.resolve(EMPTY), new byte[0]);
    }

    private static BufferedImage scene(Random random, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        float hue = random.nextFloat();
        Color zenith = Color.getHSBColor(0.55f + 0.1f * (hue - 0.5f), 0.5f + 0.4f * random.nextFloat(), 0.5f + 0.3f * random.nextFloat());
        Color horizon = Color.getHSBColor(0.08f + 0.1f * random.nextFloat(), 0.3f + 0.4f * random.nextFloat(), 0.9f);
        g.setPaint(new GradientPaint(0, 0, zenith, 0, height * 0.7f, horizon));
        g.fillRect(0, 0, width, height);
        int sun = 20 + random.nextInt(40);
        g.setColor(new Color(255, 240 - random.nextInt(60), 170 - random.nextInt(80)));
        g.fill(new Ellipse2D.Float(random.nextInt(width - sun), height * 0.1f + random.nextInt(height / 4), sun, sun));
        for (int layer = 0; layer < 3; layer++) {
            float base = height * (0.5f + 0.15f * layer);
            Path2D hill = new Path2D.Float();
            hill.moveTo(0, height);
            for (int x = 0; x <= width; x += 8) {
                double y = base - 30 * Math.sin(x / (40.0 + 30 * layer) + random.nextDouble() * 0.2 + layer) - random.nextInt(6);
                hill.lineTo(x, y);
            }
            hill.lineTo(width, height);
            hill.closePath();
            float shade = 0.25f + 0.2f * layer;
            g.setColor(Color.getHSBColor(0.25f + 0.1f * random.nextFloat(), 0.5f, 0.7f - shade));
            g.fill(hill);
        }
        g.setStroke(new BasicStroke(2f));
        for (int tree = random.nextInt(6); tree > 0; tree--) {
            int x = random.nextInt(width);
            int y = (int) (height * 0.8f) + random.nextInt(height / 6);
            g.setColor(new Color(60, 40, 20));
            g.drawLine(x, y, x, y - 20);
            g.setColor(new Color(20, 90 + random.nextInt(60), 30));
            g.fill(new Ellipse2D.Float(x - 9, y - 38, 18, 24));
        }
        g.dispose();
        // Sensor-like noise, so the images are not flat colour fields that compress to nothing.
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = image.getRGB(x, y);
                int n = (int) (random.nextGaussian() * 4);
                image.setRGB(x, y, (clamp(((rgb >> 16) & 255) + n) << 16) | (clamp(((rgb >> 8) & 255) + n) << 8) | clamp((rgb & 255) + n));
            }
        }
        return image;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IOException("No ImageIO writer for " + format);
        }
        return out.toByteArray();
    }
}
