package io.jgrad.metrics;

import io.jgrad.core.Tensor;

/**
 * The fraction of examples whose target is among the {@code k} highest scores (top-1: the
 * argmax, with ties going to the lowest class index, as {@code argmax} and PyTorch do).
 */
public final class Accuracy implements Metric {
    private final int k;
    private long correct;
    private long seen;

    /** Top-1 accuracy. */
    public Accuracy() {
        this(1);
    }

    /** Top-{@code k} accuracy ({@code k} at least 1). */
    public Accuracy(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("Accuracy: k must be at least 1, got " + k);
        }
        this.k = k;
    }

    @Override
    public String name() {
        return k == 1 ? "accuracy" : "top" + k + "_accuracy";
    }

    @Override
    public void update(Tensor scores, Tensor targets) {
        long[] y = Checks.targets("Accuracy", scores, targets);
        int classes = scores.size(1);
        if (k > classes) {
            throw new IllegalArgumentException("Accuracy: top-" + k + " of " + classes + " classes");
        }
        double[] s = scores.detach().to(io.jgrad.core.DType.FLOAT64).toDoubleArray();
        for (int i = 0; i < y.length; i++) {
            double target = s[i * classes + (int) y[i]];
            if (Double.isNaN(target)) {
                seen++;
                continue; // a NaN score ranks nowhere: a miss, not a hit
            }
            int above = 0; // classes ranked before the target: higher score, or equal with a lower index
            for (int j = 0; j < classes && above < k; j++) {
                double v = s[i * classes + j];
                if (v > target || v == target && j < y[i]) {
                    above++;
                }
            }
            if (above < k) {
                correct++;
            }
        }
        seen += y.length - nanRows(s, y, classes);
    }

    private static int nanRows(double[] s, long[] y, int classes) {
        int n = 0;
        for (int i = 0; i < y.length; i++) {
            n += Double.isNaN(s[i * classes + (int) y[i]]) ? 1 : 0;
        }
        return n;
    }

    @Override
    public double value() {
        return seen == 0 ? Double.NaN : (double) correct / seen;
    }

    @Override
    public void reset() {
        correct = 0;
        seen = 0;
    }
}
