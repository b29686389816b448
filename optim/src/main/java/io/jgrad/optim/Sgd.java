package io.jgrad.optim;

import static io.jgrad.core.backend.UpdateOp.*;

import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with PyTorch's exact update: g = ∇ + λ·p (weight decay);
 * with momentum μ, b = g on the first step and b = μ·b + (1 − dampening)·g after; then
 * g = g + μ·b (Nesterov) or g = b; finally p = p − lr·g.
 */
public final class Sgd extends Optimizer<Sgd.Options> {
    /** Hyperparameters; build with {@link #lr(double)} and the {@code with*} methods. */
    public record Options(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) implements Optimizer.Hyperparameters {
        /** Validates every value, naming the bad one. */
        public Options {
            check("Sgd", lr >= 0 && Double.isFinite(lr), "learning rate must be finite and >= 0", lr);
            check("Sgd", momentum >= 0 && momentum < 1, "momentum must be in [0, 1)", momentum);
            check("Sgd", dampening >= 0 && dampening <= 1, "dampening must be in [0, 1]", dampening);
            check("Sgd", weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be finite and >= 0",
                    weightDecay);
            if (nesterov && (momentum == 0 || dampening != 0)) {
                throw new IllegalArgumentException("Sgd: Nesterov momentum needs momentum > 0 and dampening 0, got "
                        + "momentum " + momentum + " and dampening " + dampening);
            }
        }

        /** Plain SGD with this learning rate. */
        public static Options lr(double lr) {
            return new Options(lr, 0, 0, 0, false);
        }

        /** With momentum μ in [0, 1). */
        public Options withMomentum(double m) {
            return new Options(lr, m, dampening, weightDecay, nesterov);
        }

        /** With dampening in [0, 1]. */
        public Options withDampening(double d) {
            return new Options(lr, momentum, d, weightDecay, nesterov);
        }

        /** With L2 weight decay λ (added to the gradient). */
        public Options withWeightDecay(double wd) {
            return new Options(lr, momentum, dampening, wd, nesterov);
        }

        /** With Nesterov momentum on or off. */
        public Options withNesterov(boolean n) {
            return new Options(lr, momentum, dampening, weightDecay, n);
        }
    }

    /** One group with these options. */
    public Sgd(List<Parameter> params, Options options) {
        super(single(params, options));
    }

    /** Several groups, each with its own options. */
    public Sgd(List<Group<Options>> groups) {
        super(groups);
    }

    @Override
    protected void update(Parameter p, Tensor grad, Options o, double lr, Map<String, Tensor> state) {
        Tensor g = withWeightDecay(state, p, grad, o.weightDecay());
        if (o.momentum() != 0) {
            boolean first = !state.containsKey("momentum_buffer");
            Tensor buf = buffer(state, "momentum_buffer", p);
            if (first) {
                buf.copyFrom(g);
            } else {
                buf.update(SCALE_ADD, g, null, o.momentum(), 1 - o.dampening());
            }
            if (o.nesterov()) {
                g = (g == grad ? scratch(state, p).copyFrom(grad) : g).addInPlace(buf, o.momentum());
            } else {
                g = buf;
            }
        }
        p.addInPlace(g, -lr);
    }
}
