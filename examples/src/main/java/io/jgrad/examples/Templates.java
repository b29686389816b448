package io.jgrad.examples;

import io.jgrad.core.Tensor;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The rows of a linear classifier's W drawn as images, one tile per class: what each class's
 * template "looks for" (red/blue for CIFAR-like colour images, grey for single channel).
 */
final class Templates {
    private Templates() {}

    /** Renders weight [classes, channels·h·w] as a grid of tiles scaled {@code zoom} times. */
    static Path render(Tensor weight, int channels, int h, int w, List<String> names, int zoom, Path png)
            throws IOException {
        int classes = weight.size(0);
        int cols = Math.min(5, classes);
        int rows = (classes + cols - 1) / cols;
        int tileW = w * zoom;
        int tileH = h * zoom + 16;
        BufferedImage img = new BufferedImage(cols * tileW, rows * tileH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int c = 0; c < classes; c++) {
            float[] row = weight.select(0, c).toFloatArray();
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : row) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            float span = Math.max(max - min, 1e-12f);
            int ox = (c % cols) * tileW;
            int oy = (c / cols) * tileH;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb;
                    if (channels == 3) {
                        int r = (int) (255 * (row[y * w + x] - min) / span);
                        int gr = (int) (255 * (row[h * w + y * w + x] - min) / span);
                        int b = (int) (255 * (row[2 * h * w + y * w + x] - min) / span);
                        rgb = (r << 16) | (gr << 8) | b;
                    } else {
                        int v = (int) (255 * (row[y * w + x] - min) / span);
                        rgb = (v << 16) | (v << 8) | v;
                    }
                    g.setColor(new Color(rgb));
                    g.fillRect(ox + x * zoom, oy + y * zoom, zoom, zoom);
                }
            }
            g.setColor(Color.BLACK);
            g.drawString(c < names.size() ? names.get(c) : Integer.toString(c), ox + 3, oy + h * zoom + 12);
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
        return png;
    }
}
