package io.jgrad.optim;

import static io.jgrad.core.backend.UpdateOp.*;

import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW with PyTorch's exact updates: m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
 * p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε), with v replaced by its running maximum for
 * AMSGrad. Weight decay λ is added to the gradient (Adam) or, when {@code decoupled}, applied
 * as p = p·(1 − lr·λ) before the step (AdamW; {@link #adamW}).
 */
public final class Adam extends Optimizer<Adam.Options> {
    /** Hyperparameters; build with {@link #lr(double)} or {@link #adamW(double)} and the {@code with*} methods. */
    public record Options(double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad,
                          boolean decoupled) implements Optimizer.Hyperparameters {
        /** Validates every value, naming the bad one. */
        public Options {
            check("Adam", lr >= 0 && Double.isFinite(lr), "learning rate must be finite and >= 0", lr);
            check("Adam", beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)", beta1);
            check("Adam", beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)", beta2);
            check("Adam", eps >= 0 && Double.isFinite(eps), "eps must be finite and >= 0", eps);
            check("Adam", weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be finite and >= 0",
                    weightDecay);
        }

        /** Adam with PyTorch's defaults (β 0.9, 0.999; ε 1e-8; no weight decay) and this learning rate. */
        public static Options lr(double lr) {
            return new Options(lr, 0.9, 0.999, 1e-8, 0, false, false);
        }

        /** AdamW with PyTorch's defaults (decoupled weight decay 0.01) and this learning rate. */
        public static Options adamW(double lr) {
            return new Options(lr, 0.9, 0.999, 1e-8, 0.01, false, true);
        }

        /** With these betas. */
        public Options withBetas(double b1, double b2) {
            return new Options(lr, b1, b2, eps, weightDecay, amsgrad, decoupled);
        }

        /** With this ε. */
        public Options withEps(double e) {
            return new Options(lr, beta1, beta2, e, weightDecay, amsgrad, decoupled);
        }

        /** With weight decay λ (coupled for Adam, decoupled for AdamW). */
        public Options withWeightDecay(double wd) {
            return new Options(lr, beta1, beta2, eps, wd, amsgrad, decoupled);
        }

        /** With AMSGrad on or off. */
        public Options withAmsgrad(boolean a) {
            return new Options(lr, beta1, beta2, eps, weightDecay, a, decoupled);
        }
    }

    /** One group with these options. */
    public Adam(List<Parameter> params, Options options) {
        super(single(params, options));
    }

    /** Several groups, each with its own options. */
    public Adam(List<Group<Options>> groups) {
        super(groups);
    }

    /** AdamW over {@code params} with PyTorch's defaults and this learning rate. */
    public static Adam adamW(List<Parameter> params, double lr) {
        return new Adam(params, Options.adamW(lr));
    }

    @Override
    protected void update(Parameter p, Tensor grad, Options o, double lr, Map<String, Tensor> state) {
        long t = nextStep(state);
        Tensor g = grad;
        if (o.weightDecay() != 0) {
            if (o.decoupled()) {
                p.mulInPlace(1 - lr * o.weightDecay());
            } else {
                g = scratch(state, p).copyFrom(grad).addInPlace(p, o.weightDecay());
            }
        }
        Tensor m = buffer(state, "exp_avg", p).update(SCALE_ADD, g, null, o.beta1(), 1 - o.beta1());
        Tensor v = buffer(state, "exp_avg_sq", p).mulInPlace(o.beta2()).update(ADD_PRODUCT, g, g, 1 - o.beta2(), 0);
        if (o.amsgrad()) {
            v = buffer(state, "max_exp_avg_sq", p).update(MAXIMUM, v, null, 0, 0);
        }
        double bc1 = 1 - Math.pow(o.beta1(), t);
        double bc2 = 1 - Math.pow(o.beta2(), t);
        Tensor denom = buffer(state, "~denom", p).copyFrom(v).update(SQRT, null, null, 0, 0).mulInPlace(1 / Math.sqrt(bc2))
                .update(ADD_SCALAR, null, null, o.eps(), 0);
        p.update(ADD_QUOTIENT, m, denom, -lr / bc1, 0);
    }
}
