package io.jgrad.optim;

import static io.jgrad.core.backend.UpdateOp.*;

import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adagrad with PyTorch's exact update: at step t, lr_t = lr / (1 + (t − 1)·lrDecay);
 * s = s + g²; p = p − lr_t · g / (√s + ε). The accumulator starts at {@code initialAccumulator}.
 */
public final class Adagrad extends Optimizer<Adagrad.Options> {
    /** Hyperparameters; build with {@link #lr(double)} and the {@code with*} methods. */
    public record Options(double lr, double lrDecay, double weightDecay, double initialAccumulator, double eps) implements Optimizer.Hyperparameters {
        /** Validates every value, naming the bad one. */
        public Options {
            check("Adagrad", lr >= 0 && Double.isFinite(lr), "learning rate must be finite and >= 0", lr);
            check("Adagrad", lrDecay >= 0 && Double.isFinite(lrDecay), "lr decay must be finite and >= 0", lrDecay);
            check("Adagrad", weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be finite and >= 0",
                    weightDecay);
            check("Adagrad", initialAccumulator >= 0 && Double.isFinite(initialAccumulator),
                    "initial accumulator must be finite and >= 0", initialAccumulator);
            check("Adagrad", eps >= 0 && Double.isFinite(eps), "eps must be finite and >= 0", eps);
        }

        /** PyTorch's defaults (ε 1e-10) with this learning rate. */
        public static Options lr(double lr) {
            return new Options(lr, 0, 0, 0, 1e-10);
        }

        /** With learning-rate decay. */
        public Options withLrDecay(double d) {
            return new Options(lr, d, weightDecay, initialAccumulator, eps);
        }

        /** With weight decay λ. */
        public Options withWeightDecay(double wd) {
            return new Options(lr, lrDecay, wd, initialAccumulator, eps);
        }

        /** With this initial accumulator value. */
        public Options withInitialAccumulator(double v) {
            return new Options(lr, lrDecay, weightDecay, v, eps);
        }
    }

    /** One group with these options. */
    public Adagrad(List<Parameter> params, Options options) {
        super(single(params, options));
    }

    /** Several groups, each with its own options. */
    public Adagrad(List<Group<Options>> groups) {
        super(groups);
    }

    @Override
    protected void update(Parameter p, Tensor grad, Options o, double lr, Map<String, Tensor> state) {
        boolean fresh = !state.containsKey("sum");
        Tensor sum = buffer(state, "sum", p);
        if (fresh && o.initialAccumulator() != 0) {
            sum.fill(o.initialAccumulator());
        }
        long t = nextStep(state);
        Tensor g = withWeightDecay(state, p, grad, o.weightDecay());
        double clr = lr / (1 + (t - 1) * o.lrDecay());
        sum.update(ADD_PRODUCT, g, g, 1, 0);
        Tensor std = buffer(state, "~std", p).copyFrom(sum).update(SQRT, null, null, 0, 0).update(ADD_SCALAR, null, null, o.eps(), 0);
        p.update(ADD_QUOTIENT, g, std, -clr, 0);
    }
}
