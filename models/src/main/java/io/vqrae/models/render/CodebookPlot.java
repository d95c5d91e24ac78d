package io.vqrae.models.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG of codebook usage: each code's count (log scale), codes sorted from most to least used, with the
 * utilisation in the title. A healthy codebook shows a long, flat curve; a collapsing one a few tall bars and a long
 * zero tail. The demo writes it for its committed tokens, the live view shows it for the health window.
 */
public final class CodebookPlot {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 50;
    private static final int BOTTOM = 50;

    private CodebookPlot() {}

    /** Writes the plot of {@code counts} (one per code) to {@code file}; parent folders are created. */
    public static void write(long[] counts, String title, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        ImageIO.write(render(counts, title), "png", file.toFile());
    }

    /** The plot of {@code counts} (one per code) as PNG bytes. */
    public static byte[] png(long[] counts, String title) {
        return ChwImages.png(render(counts, title));
    }

    private static BufferedImage render(long[] counts, String title) {
        long[] sorted = Arrays.stream(counts).boxed().sorted((a, b) -> Long.compare(b, a)).mapToLong(Long::longValue).toArray();
        long used = Arrays.stream(counts).filter(c -> c > 0).count();
        long max = Math.max(1, sorted.length == 0 ? 1 : sorted[0]);
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        g.setColor(new Color(0x33, 0x66, 0xcc));
        for (int i = 0; i < sorted.length; i++) {
            int x = LEFT + (int) ((long) i * plotWidth / sorted.length);
            int nextX = LEFT + (int) ((long) (i + 1) * plotWidth / sorted.length);
            int h = (int) Math.round(Math.log10(1 + sorted[i]) / Math.log10(1 + max) * plotHeight);
            g.fillRect(x, TOP + plotHeight - h, Math.max(1, nextX - x), h);
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1));
        g.drawLine(LEFT, TOP + plotHeight, LEFT + plotWidth, TOP + plotHeight);
        g.drawLine(LEFT, TOP, LEFT, TOP + plotHeight);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(String.format(Locale.ROOT, "%s: codebook utilization %.1f%% (%d of %d codes used)",
                title, 100.0 * used / Math.max(1, counts.length), used, counts.length), LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("codes, sorted by count (most used first)", LEFT + plotWidth / 2 - 110, HEIGHT - 15);
        for (long tick = 1; tick <= max; tick *= 10) {
            int y = TOP + plotHeight - (int) Math.round(Math.log10(1 + tick) / Math.log10(1 + max) * plotHeight);
            g.setColor(new Color(0xdd, 0xdd, 0xdd));
            g.drawLine(LEFT + 1, y, LEFT + plotWidth, y);
            g.setColor(Color.BLACK);
            g.drawString(Long.toString(tick), LEFT - 8 - g.getFontMetrics().stringWidth(Long.toString(tick)), y + 4);
        }
        g.drawString("0", LEFT - 16, TOP + plotHeight + 4);
        g.drawString("count", 10, TOP + plotHeight / 2 - 8);
        g.drawString("(log)", 14, TOP + plotHeight / 2 + 8);
        g.drawString(Integer.toString(counts.length), LEFT + plotWidth - 30, TOP + plotHeight + 16);
        g.dispose();
        return image;
    }
}
