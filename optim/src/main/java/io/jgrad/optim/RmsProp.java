package io.jgrad.optim;

import static io.jgrad.core.backend.UpdateOp.*;

import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * RMSprop with PyTorch's exact update: s = α·s + (1 − α)·g²; d = √s + ε (centered: √(s − ḡ²) + ε
 * with ḡ = α·ḡ + (1 − α)·g); with momentum μ, b = μ·b + g/d and p = p − lr·b, else p = p − lr·g/d.
 */
public final class RmsProp extends Optimizer<RmsProp.Options> {
    /** Hyperparameters; build with {@link #lr(double)} and the {@code with*} methods. */
    public record Options(double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) implements Optimizer.Hyperparameters {
        /** Validates every value, naming the bad one. */
        public Options {
            check("RmsProp", lr >= 0 && Double.isFinite(lr), "learning rate must be finite and >= 0", lr);
            check("RmsProp", alpha >= 0 && alpha <= 1, "alpha must be in [0, 1]", alpha);
            check("RmsProp", eps >= 0 && Double.isFinite(eps), "eps must be finite and >= 0", eps);
            check("RmsProp", weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be finite and >= 0",
                    weightDecay);
            check("RmsProp", momentum >= 0 && momentum < 1, "momentum must be in [0, 1)", momentum);
        }

        /** PyTorch's defaults (α 0.99, ε 1e-8) with this learning rate. */
        public static Options lr(double lr) {
            return new Options(lr, 0.99, 1e-8, 0, 0, false);
        }

        /** With smoothing constant α. */
        public Options withAlpha(double a) {
            return new Options(lr, a, eps, weightDecay, momentum, centered);
        }

        /** With weight decay λ. */
        public Options withWeightDecay(double wd) {
            return new Options(lr, alpha, eps, wd, momentum, centered);
        }

        /** With momentum μ. */
        public Options withMomentum(double m) {
            return new Options(lr, alpha, eps, weightDecay, m, centered);
        }

        /** Centered (normalise by an estimate of the variance) or not. */
        public Options withCentered(boolean c) {
            return new Options(lr, alpha, eps, weightDecay, momentum, c);
        }
    }

    /** One group with these options. */
    public RmsProp(List<Parameter> params, Options options) {
        super(single(params, options));
    }

    /** Several groups, each with its own options. */
    public RmsProp(List<Group<Options>> groups) {
        super(groups);
    }

    @Override
    protected void update(Parameter p, Tensor grad, Options o, double lr, Map<String, Tensor> state) {
        nextStep(state);
        Tensor g = withWeightDecay(state, p, grad, o.weightDecay());
        Tensor sq = buffer(state, "square_avg", p).mulInPlace(o.alpha()).update(ADD_PRODUCT, g, g, 1 - o.alpha(), 0);
        Tensor avg = buffer(state, "~avg", p).copyFrom(sq);
        if (o.centered()) {
            Tensor ga = buffer(state, "grad_avg", p).update(SCALE_ADD, g, null, o.alpha(), 1 - o.alpha());
            avg.update(ADD_PRODUCT, ga, ga, -1, 0);
        }
        avg.update(SQRT, null, null, 0, 0).update(ADD_SCALAR, null, null, o.eps(), 0);
        if (o.momentum() > 0) {
            Tensor buf = buffer(state, "momentum_buffer", p).mulInPlace(o.momentum()).update(ADD_QUOTIENT, g, avg, 1, 0);
            p.addInPlace(buf, -lr);
        } else {
            p.update(ADD_QUOTIENT, g, avg, -lr, 0);
        }
    }
}
