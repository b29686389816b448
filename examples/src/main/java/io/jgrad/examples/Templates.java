package io.jgrad.examples;

import io.jgrad.core.Tensor;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The rows of a linear classifier's W drawn as images, one tile per class: what each class's
 * template "looks for". Single-channel weights share one diverging scale (blue negative, white
 * 0, red positive, the same for every tile) shown by a scale bar; colour weights show each
 * tile's three channels as red, green and blue, each tile stretched to its own range (said
 * under the tiles). A title says what the picture is.
 */
final class Templates {
    private static final Color NEGATIVE = new Color(0x2166AC);
    private static final Color POSITIVE = new Color(0xB2182B);

    private Templates() {}

    /** Renders weight [classes, channels·h·w] as a grid of tiles scaled {@code zoom} times. */
    static Path render(Tensor weight, int channels, int h, int w, List<String> names, int zoom, Path png)
            throws IOException {
        int classes = weight.size(0);
        int cols = Math.min(5, classes);
        int rows = (classes + cols - 1) / cols;
        int tileW = w * zoom + 8;
        int tileH = h * zoom + 18;
        int top = 28;
        int bottom = 46;
        int width = Math.max(cols * tileW, 360);
        BufferedImage img = new BufferedImage(width, top + rows * tileH + bottom, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString("rows of W as " + h + "x" + w + " templates, one per class", 6, 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        float[] all = weight.toFloatArray();
        float m = 1e-12f;
        for (float v : all) {
            m = Math.max(m, Math.abs(v));
        }
        for (int c = 0; c < classes; c++) {
            float[] row = weight.select(0, c).toFloatArray();
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : row) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            float span = Math.max(max - min, 1e-12f);
            int ox = (c % cols) * tileW + 4;
            int oy = top + (c / cols) * tileH;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    Color colour;
                    if (channels == 3) {
                        int r = (int) (255 * (row[y * w + x] - min) / span);
                        int gr = (int) (255 * (row[h * w + y * w + x] - min) / span);
                        int b = (int) (255 * (row[2 * h * w + y * w + x] - min) / span);
                        colour = new Color(r, gr, b);
                    } else {
                        colour = diverging(row[y * w + x] / m);
                    }
                    g.setColor(colour);
                    g.fillRect(ox + x * zoom, oy + y * zoom, zoom, zoom);
                }
            }
            g.setColor(Color.BLACK);
            g.drawString(c < names.size() ? names.get(c) : Integer.toString(c), ox, oy + h * zoom + 13);
        }
        int by = top + rows * tileH + 6;
        if (channels == 3) {
            g.drawString("R, G, B: the weights of the three channels; each tile stretched to its own min..max", 6,
                    by + 14);
        } else {
            int barW = Math.min(300, width - 60);
            int bx = (width - barW) / 2;
            for (int i = 0; i < barW; i++) {
                g.setColor(diverging(2f * i / (barW - 1) - 1));
                g.fillRect(bx + i, by, 1, 12);
            }
            g.setColor(Color.BLACK);
            g.drawRect(bx, by, barW, 12);
            String lo = String.format(Locale.ROOT, "%.3g", -m);
            String hi = String.format(Locale.ROOT, "+%.3g", m);
            g.drawString(lo, bx - g.getFontMetrics().stringWidth(lo) - 4, by + 11);
            g.drawString(hi, bx + barW + 4, by + 11);
            g.drawString("0", bx + barW / 2 - 3, by + 26);
            g.drawString("weight (one scale for all tiles)", bx, by + 38);
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
        return png;
    }

    /** White at 0, {@link #NEGATIVE} at -1, {@link #POSITIVE} at +1. */
    private static Color diverging(float t) {
        float a = Math.min(1, Math.abs(t));
        Color end = t < 0 ? NEGATIVE : POSITIVE;
        return new Color(Math.round(255 + (end.getRed() - 255) * a), Math.round(255 + (end.getGreen() - 255) * a),
                Math.round(255 + (end.getBlue() - 255) * a));
    }
}
