package io.jgrad.examples;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Adam;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Small 2-D classification helpers shared by the hard-cases and error-decomposition programs. */
final class Toy2d {
    private Toy2d() {}

    /** A linear classifier (hidden 0) or a network with one hidden ReLU layer of that width. */
    static Block model(int hidden, int classes, Generator rng) {
        return hidden == 0 ? new Linear(2, classes, true, rng)
                : new Sequential(new Linear(2, hidden, true, rng), new Relu(), new Linear(hidden, classes, true, rng));
    }

    /** Full-batch Adam on softmax cross-entropy for {@code steps} steps. */
    static Block train(Block m, Tensor x, Tensor y, int steps, double lr) {
        Adam opt = new Adam(m.parameters(), Adam.Options.lr(lr));
        CrossEntropyLoss loss = new CrossEntropyLoss();
        for (int s = 0; s < steps; s++) {
            Tensor l = loss.forward(m.forward(x), y);
            opt.zeroGrad();
            l.backward();
            opt.step();
        }
        return m;
    }

    /** Fraction of points classified correctly. */
    static double accuracy(Block m, Tensor x, Tensor y) {
        try (var s = Autograd.noGrad()) {
            return m.forward(x).argmax(1).eq(y).to(DType.FLOAT32).mean().item();
        }
    }

    /**
     * The model's decision regions over [-lim, lim]² with the points on top, as a PNG with a
     * title, both axes labelled with their range, and a legend of the classes' colours.
     */
    static Path plot(Block m, Tensor x, Tensor y, double lim, String title, Path png) throws IOException {
        int size = 300;
        int left = 44;
        int top = 30;
        int right = 120;
        int bottom = 40;
        float[] grid = new float[size * size * 2];
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                grid[2 * (i * size + j)] = (float) (-lim + 2 * lim * j / (size - 1.0));
                grid[2 * (i * size + j) + 1] = (float) (lim - 2 * lim * i / (size - 1.0));
            }
        }
        long[] pred;
        try (var s = Autograd.noGrad()) {
            pred = m.forward(Tensor.of(grid, size * size, 2)).argmax(1).toLongArray();
        }
        Color[] region = {new Color(0xCFE0F7), new Color(0xF7D9CF), new Color(0xD9F2D0)};
        Color[] dot = {new Color(0x1F5BB5), new Color(0xB5401F), new Color(0x2E8A1F)};
        BufferedImage img = new BufferedImage(left + size + right, top + size + bottom, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING,
                java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        for (int k = 0; k < pred.length; k++) {
            img.setRGB(left + k % size, top + k / size, region[(int) pred[k] % 3].getRGB());
        }
        float[] px = x.toFloatArray();
        long[] py = y.toLongArray();
        int classes = 0;
        for (int n = 0; n < py.length; n++) {
            classes = Math.max(classes, (int) py[n] + 1);
            int c = (int) Math.round((px[2 * n] + lim) / (2 * lim) * (size - 1));
            int r = (int) Math.round((lim - px[2 * n + 1]) / (2 * lim) * (size - 1));
            for (int dr = -1; dr <= 1; dr++) {
                for (int dc = -1; dc <= 1; dc++) {
                    if (r + dr >= 0 && r + dr < size && c + dc >= 0 && c + dc < size) {
                        img.setRGB(left + c + dc, top + r + dr, dot[(int) py[n] % 3].getRGB());
                    }
                }
            }
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, size, size);
        g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 12));
        g.drawString(title, 6, 18);
        g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        String lo = String.format(java.util.Locale.ROOT, "%.0f", -lim);
        String hi = String.format(java.util.Locale.ROOT, "%.0f", lim);
        g.drawString(lo, left - 4, top + size + 14);
        g.drawString(hi, left + size - 6, top + size + 14);
        g.drawString("0", left + size / 2 - 3, top + size + 14);
        g.drawString("x1", left + size / 2 - 5, top + size + 32);
        g.drawString(hi, left - 16, top + 10);
        g.drawString(lo, left - 20, top + size);
        g.drawString("x2", 8, top + size / 2);
        for (int c = 0; c < classes; c++) {
            int ly = top + 14 + 34 * c;
            g.setColor(region[c % 3]);
            g.fillRect(left + size + 12, ly - 10, 14, 14);
            g.setColor(dot[c % 3]);
            g.fillRect(left + size + 16, ly - 6, 6, 6);
            g.setColor(Color.BLACK);
            g.drawString("class " + c, left + size + 32, ly + 1);
        }
        g.drawString("area: predicted", left + size + 12, top + 14 + 34 * classes);
        g.drawString("dots: actual", left + size + 12, top + 28 + 34 * classes);
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
        return png;
    }
}
