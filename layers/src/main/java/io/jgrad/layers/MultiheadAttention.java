package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;

/**
 * Multi-head attention as PyTorch's {@code nn.MultiheadAttention} (query, key and value of one
 * width E, no dropout): the input projections in one {@code in_proj_weight [3E, E]} and
 * {@code in_proj_bias [3E]}, each head attending with {@link Attention}, then
 * {@code out_proj.weight}, {@code out_proj.bias}; PyTorch's names and initialisation, so state
 * dicts move between the two. Inputs are [L, N, E] (or [N, L, E] with {@code batchFirst}).
 */
public final class MultiheadAttention extends Block {
    /** The output [L, N, E] (or batch-first) and the attention weights averaged over the heads [N, L, S]. */
    public record Output(Tensor output, Tensor weights) {}

    private final int embed;
    private final int heads;
    private final boolean bias;
    private final boolean batchFirst;
    private final Linear outProj;

    /** {@code heads} heads of width embed / heads (which must divide). */
    public MultiheadAttention(int embed, int heads, boolean bias, boolean batchFirst, Generator rng) {
        checkArgument(embed > 0 && heads > 0 && embed % heads == 0,
                "MultiheadAttention: %s heads do not divide the width %s", heads, embed);
        this.embed = embed;
        this.heads = heads;
        this.bias = bias;
        this.batchFirst = batchFirst;
        double a = Math.sqrt(6.0 / (embed + 3 * embed)); // PyTorch: xavier_uniform_ on [3E, E]
        registerParameter("in_proj_weight", new Parameter(Tensor.uniform(rng, -a, a, 3 * embed, embed)));
        if (bias) {
            registerParameter("in_proj_bias", new Parameter(Tensor.zeros(3 * embed)));
        }
        outProj = registerChild("out_proj", new Linear(embed, embed, bias, rng));
        if (bias) {
            outProj.namedParameters().get("bias").detach().fill(0); // PyTorch starts both biases at 0
        }
    }

    /** Self-attention of {@code x} with no mask. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, x, x, null, null).output();
    }

    /**
     * Attention of {@code query} to {@code key} and {@code value}. {@code keyPadding} [N, S]
     * (null: none) is 1 for keys to ignore; {@code blocked} [L, S] (null: none) is 1 where a query
     * may not attend to a key; both as PyTorch's boolean masks.
     */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPadding, Tensor blocked) {
        Tensor q = batchFirst ? query : query.transpose(0, 1); // [N, L, E]
        Tensor k = batchFirst ? key : key.transpose(0, 1);
        Tensor v = batchFirst ? value : value.transpose(0, 1);
        if (q.dim() != 3 || q.size(2) != embed || k.dim() != 3 || k.size(2) != embed || v.dim() != 3
                || v.size(2) != embed || k.size(1) != v.size(1) || q.size(0) != k.size(0)) {
            throw new ShapeException("MultiheadAttention: query, key and value must be " + (batchFirst ? "[N, L, "
                    : "[L, N, ") + embed + "] with one batch and key and value of one length, got " + query.shape()
                    + ", " + key.shape() + ", " + value.shape());
        }
        int n = q.size(0);
        int l = q.size(1);
        int s = k.size(1);
        int d = embed / heads;
        Tensor w = param("in_proj_weight");
        Tensor b = bias ? param("in_proj_bias") : null;
        Tensor qp = heads(project(q, w.narrow(0, 0, embed), b == null ? null : b.narrow(0, 0, embed)), n, l, d);
        Tensor kp = heads(project(k, w.narrow(0, embed, embed), b == null ? null : b.narrow(0, embed, embed)), n, s, d);
        Tensor vp = heads(project(v, w.narrow(0, 2 * embed, embed), b == null ? null : b.narrow(0, 2 * embed, embed)),
                n, s, d);
        Tensor allowed = null;
        if (keyPadding != null) {
            if (keyPadding.dim() != 2 || keyPadding.size(0) != n || keyPadding.size(1) != s) {
                throw new ShapeException("MultiheadAttention: keyPadding must be [" + n + ", " + s + "], got "
                        + keyPadding.shape());
            }
            allowed = keyPadding.eq(0).reshape(n, 1, 1, s);
        }
        if (blocked != null) {
            if (blocked.dim() != 2 || blocked.size(0) != l || blocked.size(1) != s) {
                throw new ShapeException("MultiheadAttention: blocked must be [" + l + ", " + s + "], got "
                        + blocked.shape());
            }
            Tensor open = blocked.eq(0);
            allowed = allowed == null ? open : allowed.mul(open.to(allowed.dtype()));
        }
        Tensor[] att = Attention.withWeights(qp, kp, vp, allowed, false); // [N, h, L, d], [N, h, L, S]
        Tensor merged = att[0].transpose(1, 2).reshape(n, l, embed);
        Tensor out = outProj.forward(merged);
        return new Output(batchFirst ? out : out.transpose(0, 1), att[1].mean(1));
    }

    private static Tensor project(Tensor x, Tensor w, Tensor b) {
        Tensor y = x.matmul(w.t());
        return b == null ? y : y.add(b);
    }

    /** [N, T, E] → [N, heads, T, d]. */
    private Tensor heads(Tensor x, int n, int t, int d) {
        return x.reshape(n, t, heads, d).transpose(1, 2);
    }

    @Override
    protected String extraRepr() {
        return "embed=" + embed + ", heads=" + heads + ", bias=" + bias + ", batchFirst=" + batchFirst;
    }
}
