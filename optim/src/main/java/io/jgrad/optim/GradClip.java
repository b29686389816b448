package io.jgrad.optim;

import static com.google.common.base.Preconditions.checkArgument;
import static io.jgrad.core.backend.UpdateOp.*;

import io.jgrad.core.Autograd;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Tensor;
import java.util.List;

/** Gradient clipping, as PyTorch's {@code clip_grad_norm_} and {@code clip_grad_value_}, in place. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients by min(1, maxNorm / (norm + 1e-6)), where norm is their global L2
     * norm, computed in double with scaling so that even 1e300 entries do not overflow; returns
     * the norm before clipping. A NaN or infinite norm throws {@link NonFiniteException}.
     */
    public static double clipGradNorm(List<? extends Tensor> params, double maxNorm) {
        checkArgument(maxNorm > 0 && Double.isFinite(maxNorm), "clipGradNorm: max norm must be positive, got %s", maxNorm);
        double scale = 0;
        for (Tensor p : params) {
            if (p.grad() != null) {
                for (double v : p.grad().toDoubleArray()) {
                    double a = Math.abs(v);
                    if (!Double.isFinite(a)) {
                        throw new NonFiniteException("clipGradNorm: the gradient norm is not finite (an entry is " + v + ")");
                    }
                    scale = Math.max(scale, a);
                }
            }
        }
        if (scale == 0) {
            return 0;
        }
        double sum = 0;
        for (Tensor p : params) {
            if (p.grad() != null) {
                for (double v : p.grad().toDoubleArray()) {
                    double r = v / scale; // |r| <= 1, so the squares cannot overflow
                    sum += r * r;
                }
            }
        }
        double norm = scale * Math.sqrt(sum);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            try (var s = Autograd.noGrad()) {
                for (Tensor p : params) {
                    if (p.grad() != null) {
                        p.grad().mulInPlace(coef);
                    }
                }
            }
        }
        return norm;
    }

    /** Clamps every gradient entry to [−clip, clip], in place. */
    public static void clipGradValue(List<? extends Tensor> params, double clip) {
        checkArgument(clip > 0, "clipGradValue: clip must be positive, got %s", clip);
        try (var s = Autograd.noGrad()) {
            for (Tensor p : params) {
                if (p.grad() != null) {
                    p.grad().update(CLAMP, null, null, -clip, clip);
                }
            }
        }
    }
}
