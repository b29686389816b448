package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * A Transformer encoder layer as PyTorch's {@code nn.TransformerEncoderLayer} (dropout left out):
 * self-attention and a feed-forward block (Linear, ReLU or GELU, Linear), each with a residual
 * connection and a LayerNorm, after it (post-norm, PyTorch's default) or before it
 * ({@code normFirst}). Sub-modules carry PyTorch's names ({@code self_attn}, {@code linear1},
 * {@code linear2}, {@code norm1}, {@code norm2}), so state dicts move between the two.
 */
public final class TransformerEncoderLayer extends Block {
    private final MultiheadAttention attention;
    private final Linear linear1;
    private final Linear linear2;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final boolean normFirst;
    private final boolean gelu;

    /**
     * A layer of {@code width} with {@code heads} attention heads and a feed-forward block of
     * {@code feedForward} units (GELU when {@code gelu}, else ReLU); {@code normFirst} for pre-norm.
     */
    public TransformerEncoderLayer(int width, int heads, int feedForward, boolean gelu, boolean normFirst,
                                   boolean batchFirst, Generator rng) {
        this.attention = registerChild("self_attn", new MultiheadAttention(width, heads, true, batchFirst, rng));
        this.linear1 = registerChild("linear1", new Linear(width, feedForward, true, rng));
        this.linear2 = registerChild("linear2", new Linear(feedForward, width, true, rng));
        this.norm1 = registerChild("norm1", new LayerNorm(new int[] {width}, 1e-5, true));
        this.norm2 = registerChild("norm2", new LayerNorm(new int[] {width}, 1e-5, true));
        this.normFirst = normFirst;
        this.gelu = gelu;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, null, null);
    }

    /** With an optional {@code keyPadding} [N, T] (1: ignore) and {@code blocked} [T, T] (1: may not attend). */
    public Tensor forward(Tensor x, Tensor keyPadding, Tensor blocked) {
        if (normFirst) {
            Tensor n = norm1.forward(x);
            x = x.add(attention.forward(n, n, n, keyPadding, blocked).output());
            return x.add(feedForward(norm2.forward(x)));
        }
        x = norm1.forward(x.add(attention.forward(x, x, x, keyPadding, blocked).output()));
        return norm2.forward(x.add(feedForward(x)));
    }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.forward(x);
        h = gelu ? h.mul(0.5).mul(h.mul(1 / Math.sqrt(2)).erf().add(1)) : h.relu();
        return linear2.forward(h);
    }

    @Override
    protected String extraRepr() {
        return (normFirst ? "pre-norm" : "post-norm") + ", " + (gelu ? "gelu" : "relu");
    }
}
