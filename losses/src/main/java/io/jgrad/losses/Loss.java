package io.jgrad.losses;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;

/**
 * A loss L(input, target) as a module: {@link #forward(Tensor, Tensor)} gives the per-example
 * losses reduced by {@link Reduction} (the mean by default, L = 1/N Σ L_i).
 *
 * <p>Non-finite inputs, for every loss here: where the input holds NaN or ±Inf (anywhere in a row
 * for the losses over class scores, element by element for the pointwise ones) the loss is
 * non-finite, its limit where that is infinite (cross-entropy's +Inf for a target score of −Inf)
 * and NaN otherwise, and the gradient there is NaN, even where a subgradient would be finite. So
 * a non-finite input never passes as a finite loss or a finite update, and value and gradient
 * agree. Finite inputs are untouched.
 */
public abstract class Loss extends Block {
    /** How per-example losses L_i are combined. */
    public enum Reduction {
        /** 1/N Σ L_i (for weighted losses, divided by the sum of the weights, as in PyTorch). */
        MEAN,
        /** Σ L_i. */
        SUM,
        /** The vector of L_i. */
        NONE
    }

    /** How this loss combines per-example losses. */
    protected final Reduction reduction;

    /** A loss with the given reduction (not null). */
    protected Loss(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    /** The loss of {@code input} against {@code target}. */
    public abstract Tensor forward(Tensor input, Tensor target);

    /** Losses need a target: always throws; call {@link #forward(Tensor, Tensor)}. */
    @Override
    public final Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " needs a target: call forward(input, target)");
    }

    /** Mean, sum or the vector itself, per {@link #reduction}. */
    protected Tensor reduce(Tensor perExample) {
        return switch (reduction) {
            case MEAN -> perExample.mean();
            case SUM -> perExample.sum();
            case NONE -> perExample;
        };
    }

    @Override
    protected String extraRepr() {
        return "reduction=" + reduction;
    }

    /**
     * Checks scores [N, K] against class indices [N] (INT64, each in [0, K)), naming the first bad
     * row and value. Rows whose target equals {@code ignoreIndex} are allowed.
     */
    static long[] checkClassTargets(String loss, Tensor scores, Tensor target, long ignoreIndex) {
        if (scores.dim() != 2) {
            throw new ShapeException(loss + ": scores must be [N, K], got " + scores.shape());
        }
        if (target.dtype() != DType.INT64) {
            throw new IllegalArgumentException(loss + ": class-index targets must be int64, got " + target.dtype());
        }
        if (target.dim() != 1 || target.size(0) != scores.size(0)) {
            throw new ShapeException(loss + ": expected " + scores.size(0) + " targets (batch size of scores "
                    + scores.shape() + "), got targets of shape " + target.shape());
        }
        long[] y = target.toLongArray();
        int k = scores.size(1);
        for (int i = 0; i < y.length; i++) {
            if ((y[i] < 0 || y[i] >= k) && y[i] != ignoreIndex) {
                throw new IllegalArgumentException(loss + ": target " + y[i] + " at batch index " + i
                        + " out of range [0, " + k + ")");
            }
        }
        return y;
    }

    static void checkSameShape(String loss, Tensor input, Tensor target) {
        if (!input.shape().equals(target.shape())) {
            throw new ShapeException(loss + ": input " + input.shape() + " and target " + target.shape()
                    + " must have the same shape");
        }
    }
}
