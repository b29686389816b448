package io.jgrad.losses;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Regularization penalties R(W), so that {@code L = 1/N Σ L_i + λ R(W)} is one expression:
 * {@code loss.forward(scores, y).add(Regularization.l2(1e-3, model))}.
 *
 * <p>Conventions: L2 is {@code λ·Σ W²} with no factor 1/2 (the lecture's R(W) = Σ W²), so its
 * gradient is 2λW and it equals SGD weight decay of 2λ. L1 is {@code λ·Σ |W|}. By default only
 * the weights are penalised, not the biases: parameters with at least 2 dims.
 */
public final class Regularization {
    private Regularization() {}

    /** The parameters a penalty applies to by default: those with at least 2 dims (weights, not biases). */
    public static List<Parameter> weightsOf(Block model) {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            if (p.dim() >= 2) {
                out.add(p);
            }
        }
        return out;
    }

    /** λ·Σ W² over the model's weights. */
    public static Tensor l2(double lambda, Block model) {
        return l2(lambda, weightsOf(model));
    }

    /** λ·Σ W² over the given tensors. */
    public static Tensor l2(double lambda, List<? extends Tensor> params) {
        return penalty("l2", lambda, params, false);
    }

    /** λ·Σ |W| over the model's weights. */
    public static Tensor l1(double lambda, Block model) {
        return l1(lambda, weightsOf(model));
    }

    /** λ·Σ |W| over the given tensors. */
    public static Tensor l1(double lambda, List<? extends Tensor> params) {
        return penalty("l1", lambda, params, true);
    }

    /** Elastic net λ1·Σ |W| + λ2·Σ W² over the model's weights. */
    public static Tensor elasticNet(double lambda1, double lambda2, Block model) {
        List<Parameter> w = weightsOf(model);
        return l1(lambda1, w).add(l2(lambda2, w));
    }

    private static Tensor penalty(String name, double lambda, List<? extends Tensor> params, boolean abs) {
        checkArgument(lambda >= 0 && Double.isFinite(lambda), "Regularization.%s: lambda must be finite and >= 0, got %s",
                name, lambda);
        checkArgument(!params.isEmpty(), "Regularization.%s: no parameters to penalise", name);
        Tensor total = null;
        for (Tensor p : params) {
            Tensor term = (abs ? p.abs() : p.square()).sum();
            total = total == null ? term : total.add(term);
        }
        return total.mul(lambda);
    }
}
