package io.jgrad.layers;

import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;

/**
 * Scaled dot-product attention, softmax(q kᵀ / √d + mask) v, as PyTorch's
 * {@code F.scaled_dot_product_attention}, written with tensor ops (so gradients of any order flow
 * through it). Shapes: q [..., L, d], k [..., S, d], v [..., S, dv] → [..., L, dv].
 */
public final class Attention {
    private Attention() {}

    /**
     * The attention output. {@code allowed} (null: everything) is 1 where a query may attend to a
     * key and 0 where not, broadcast to [..., L, S] (PyTorch's boolean {@code attn_mask}); with
     * {@code causal}, query i attends to keys 0..i only. A query allowed no key gets NaN, as in
     * PyTorch.
     */
    public static Tensor scaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor allowed, boolean causal) {
        return withWeights(q, k, v, allowed, causal)[0];
    }

    /** The output and the attention weights [..., L, S]. */
    static Tensor[] withWeights(Tensor q, Tensor k, Tensor v, Tensor allowed, boolean causal) {
        if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2 || q.size(-1) != k.size(-1) || k.size(-2) != v.size(-2)) {
            throw new ShapeException("attention: need q [..., L, d], k [..., S, d], v [..., S, dv], got " + q.shape()
                    + ", " + k.shape() + ", " + v.shape());
        }
        Tensor scores = q.matmul(k.transpose(-1, -2)).div(Math.sqrt(q.size(-1)));
        Tensor mask = allowed;
        if (causal) {
            int l = q.size(-2);
            int s = k.size(-2);
            double[] tri = new double[l * s];
            for (int i = 0; i < l; i++) {
                for (int j = 0; j <= Math.min(i, s - 1); j++) {
                    tri[i * s + j] = 1;
                }
            }
            Tensor lower = Tensor.of(tri, l, s);
            mask = mask == null ? lower : mask.mul(lower.to(mask.dtype()));
        }
        if (mask != null) {
            scores = Tensor.where(mask, scores, Tensor.scalar(scores.dtype(), Double.NEGATIVE_INFINITY));
        }
        Tensor weights = scores.softmax(-1);
        return new Tensor[] {weights.matmul(v), weights};
    }
}
