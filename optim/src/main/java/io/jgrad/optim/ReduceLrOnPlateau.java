package io.jgrad.optim;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Multiplies every group's learning rate by {@code factor} when a monitored metric (lower is
 * better) has not improved by more than a relative {@code threshold} for {@code patience}
 * epochs, then waits {@code cooldown} epochs; never goes below {@code minLr}. As PyTorch's
 * ReduceLROnPlateau in mode "min" with threshold mode "rel".
 */
public final class ReduceLrOnPlateau {
    private final Optimizer<?> optimizer;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final int cooldown;
    private final double minLr;
    private double best = Double.POSITIVE_INFINITY;
    private int badEpochs;
    private int cooldownLeft;

    /** PyTorch's defaults: factor 0.1, patience 10, threshold 1e-4, no cooldown, min lr 0. */
    public ReduceLrOnPlateau(Optimizer<?> optimizer) {
        this(optimizer, 0.1, 10, 1e-4, 0, 0);
    }

    /** With every setting given; factor must be in (0, 1). */
    public ReduceLrOnPlateau(Optimizer<?> optimizer, double factor, int patience, double threshold, int cooldown,
                             double minLr) {
        checkArgument(factor > 0 && factor < 1, "ReduceLrOnPlateau: factor must be in (0, 1), got %s", factor);
        checkArgument(patience >= 0 && cooldown >= 0, "ReduceLrOnPlateau: patience and cooldown must be >= 0");
        checkArgument(threshold >= 0 && minLr >= 0, "ReduceLrOnPlateau: threshold and min lr must be >= 0");
        this.optimizer = optimizer;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.cooldown = cooldown;
        this.minLr = minLr;
    }

    /** Records this epoch's metric and lowers the learning rates if it has plateaued. */
    public void step(double metric) {
        checkArgument(!Double.isNaN(metric), "ReduceLrOnPlateau: the metric is NaN");
        if (metric < best * (1 - threshold)) {
            best = metric;
            badEpochs = 0;
        } else {
            badEpochs++;
        }
        if (cooldownLeft > 0) {
            cooldownLeft--;
            badEpochs = 0;
        }
        if (badEpochs > patience) {
            for (int g = 0; g < optimizer.groupCount(); g++) {
                double old = optimizer.learningRate(g);
                double next = Math.max(old * factor, minLr);
                if (old - next > 1e-8) {
                    optimizer.setLearningRate(g, next);
                }
            }
            cooldownLeft = cooldown;
            badEpochs = 0;
        }
    }
}
