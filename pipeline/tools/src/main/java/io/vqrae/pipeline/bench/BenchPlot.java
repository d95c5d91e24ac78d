package io.vqrae.pipeline.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG of throughput against batch size (log2 axis): the engine's two sides, and the whole job's steady state
 * where it was measured, so a reader sees how far the pipeline stays below the engine and where batching stops
 * paying.
 */
final class BenchPlot {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 480;
    private static final int LEFT = 80;
    private static final int RIGHT = 230;
    private static final int TOP = 50;
    private static final int BOTTOM = 55;

    /** One line of the plot: images/s at each batch size. */
    record Series(String label, Color color, List<double[]> points) {}

    private BenchPlot() {}

    static void write(String title, List<Series> series, Path file) throws IOException {
        double maxRate = series.stream().flatMap(s -> s.points().stream()).mapToDouble(p -> p[1]).max().orElse(1);
        double maxBatch = series.stream().flatMap(s -> s.points().stream()).mapToDouble(p -> p[0]).max().orElse(1);
        double top = niceCeiling(maxRate);
        double log2Max = Math.max(1, Math.log(maxBatch) / Math.log(2));
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 5; i++) {
            double rate = top * i / 5;
            int y = TOP + plotHeight - (int) Math.round(rate / top * plotHeight);
            g.setColor(new Color(0xdd, 0xdd, 0xdd));
            g.drawLine(LEFT + 1, y, LEFT + plotWidth, y);
            g.setColor(Color.BLACK);
            String label = String.format(Locale.ROOT, "%.0f", rate);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        for (int batch = 1; batch <= maxBatch; batch *= 2) {
            int x = x(batch, log2Max, plotWidth);
            g.drawString(Integer.toString(batch), x - 4, TOP + plotHeight + 16);
        }
        g.drawLine(LEFT, TOP + plotHeight, LEFT + plotWidth, TOP + plotHeight);
        g.drawLine(LEFT, TOP, LEFT, TOP + plotHeight);
        g.drawString("batch size (images per encoder run)", LEFT + plotWidth / 2 - 100, HEIGHT - 15);
        g.drawString("images/s", 10, TOP + plotHeight / 2);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int legendY = TOP + 10;
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(new BasicStroke(2.5f));
            int[] previous = null;
            for (double[] point : s.points()) {
                int px = x(point[0], log2Max, plotWidth);
                int py = TOP + plotHeight - (int) Math.round(point[1] / top * plotHeight);
                g.fillOval(px - 4, py - 4, 8, 8);
                if (previous != null) {
                    g.drawLine(previous[0], previous[1], px, py);
                }
                previous = new int[] {px, py};
            }
            g.fillRect(LEFT + plotWidth + 15, legendY - 8, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(s.label(), LEFT + plotWidth + 35, legendY + 2);
            legendY += 20;
        }
        g.dispose();
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        ImageIO.write(image, "png", file.toFile());
    }

    private static int x(double batch, double log2Max, int plotWidth) {
        return LEFT + 10 + (int) Math.round(Math.log(batch) / Math.log(2) / log2Max * (plotWidth - 20));
    }

    /** 1, 2 or 5 times a power of ten, at or above {@code value}. */
    private static double niceCeiling(double value) {
        double power = Math.pow(10, Math.floor(Math.log10(Math.max(value, 1e-9))));
        for (double step : new double[] {1, 2, 5, 10}) {
            if (step * power >= value) {
                return step * power;
            }
        }
        return 10 * power;
    }
}
