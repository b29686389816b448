package io.jgrad.optim;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.List;

/**
 * A learning-rate schedule over epochs (or steps: whatever {@link #step()} is called per):
 * lr_g(e) = baseLr_g · factor(e), with PyTorch's formulas. Factories: {@link #stepLr},
 * {@link #multiStep}, {@link #exponential}, {@link #cosine}, {@link #linearWarmup}; they compose
 * with {@link #sequential} (for example warm-up then cosine). Create a schedule after the
 * optimizer and call {@link #step()} after each epoch's optimizer steps, as in PyTorch.
 */
public class LrSchedule {
    /** The multiplier of the base learning rate after {@code epoch} schedule steps. */
    @FunctionalInterface
    public interface Factor {
        /** factor(epoch), epoch counting from 0. */
        double at(int epoch);
    }

    private final Optimizer<?> optimizer;
    private final double[] baseLrs;
    private final Factor factor;
    private int epoch;

    /** A schedule applying {@code factor} to the optimizer's current learning rates (taken as the base). */
    public LrSchedule(Optimizer<?> optimizer, Factor factor) {
        this.optimizer = optimizer;
        this.factor = factor;
        this.baseLrs = new double[optimizer.groupCount()];
        for (int g = 0; g < baseLrs.length; g++) {
            baseLrs[g] = optimizer.learningRate(g);
        }
        apply();
    }

    private void apply() {
        double f = factor.at(epoch);
        for (int g = 0; g < baseLrs.length; g++) {
            optimizer.setLearningRate(g, baseLrs[g] * f);
        }
    }

    /** Advances one epoch and sets the new learning rates. */
    public void step() {
        epoch++;
        apply();
    }

    /** Number of {@link #step()} calls so far (saved with checkpoints to resume). */
    public int epoch() {
        return epoch;
    }

    /** Jumps to {@code epoch} (when resuming) and sets the learning rates for it. */
    public void setEpoch(int epoch) {
        checkArgument(epoch >= 0, "LrSchedule: epoch must be >= 0, got %s", epoch);
        this.epoch = epoch;
        apply();
    }

    /** The schedule's factor function. */
    public Factor factor() {
        return factor;
    }

    /** × gamma every {@code stepSize} epochs. */
    public static Factor stepLr(int stepSize, double gamma) {
        checkArgument(stepSize > 0, "stepLr: step size must be positive, got %s", stepSize);
        return e -> Math.pow(gamma, e / stepSize);
    }

    /** × gamma at each milestone epoch (ascending). */
    public static Factor multiStep(int[] milestones, double gamma) {
        int[] m = milestones.clone();
        Arrays.sort(m);
        return e -> {
            int passed = 0;
            for (int x : m) {
                passed += e >= x ? 1 : 0;
            }
            return Math.pow(gamma, passed);
        };
    }

    /** × gamma every epoch. */
    public static Factor exponential(double gamma) {
        return e -> Math.pow(gamma, e);
    }

    /**
     * Cosine annealing from the base rate down to {@code etaMinRatio}·base over {@code tMax}
     * epochs: ratio + (1 − ratio)·(1 + cos(π·e/tMax))/2 (PyTorch's closed form, continuing the
     * cosine past tMax).
     */
    public static Factor cosine(int tMax, double etaMinRatio) {
        checkArgument(tMax > 0, "cosine: tMax must be positive, got %s", tMax);
        return e -> etaMinRatio + (1 - etaMinRatio) * (1 + Math.cos(Math.PI * e / tMax)) / 2;
    }

    /** Linear ramp from startFactor to endFactor over {@code totalIters} epochs, then flat (PyTorch's LinearLR). */
    public static Factor linearWarmup(double startFactor, double endFactor, int totalIters) {
        checkArgument(startFactor > 0 && startFactor <= 1, "linearWarmup: start factor must be in (0, 1], got %s",
                startFactor);
        checkArgument(totalIters > 0, "linearWarmup: total iterations must be positive, got %s", totalIters);
        return e -> startFactor + (endFactor - startFactor) * Math.min(e, totalIters) / totalIters;
    }

    /** Runs factors one after another: factors.get(i) from milestones[i−1] on, counting its epochs from 0 there. */
    public static Factor sequential(List<Factor> factors, int[] milestones) {
        checkArgument(factors.size() == milestones.length + 1, "sequential: %s factors need %s milestones, got %s",
                factors.size(), factors.size() - 1, milestones.length);
        return e -> {
            int i = 0;
            int start = 0;
            while (i < milestones.length && e >= milestones[i]) {
                start = milestones[i];
                i++;
            }
            return factors.get(i).at(e - start);
        };
    }
}
