package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/**
 * GELU(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), or with {@code tanh} approximation
 * x/2·(1 + tanh(√(2/π)(x + 0.044715x³))), as PyTorch's {@code approximate="tanh"}.
 */
public final class Gelu extends Block {
    private final boolean tanh;

    /** The exact (erf) form. */
    public Gelu() {
        this(false);
    }

    /** The tanh approximation when {@code tanhApproximation}, else the exact form. */
    public Gelu(boolean tanhApproximation) {
        this.tanh = tanhApproximation;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (tanh) {
            Tensor inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
            return x.mul(0.5).mul(inner.tanh().add(1));
        }
        return x.mul(0.5).mul(x.mul(1 / Math.sqrt(2)).erf().add(1));
    }

    @Override
    protected String extraRepr() {
        return tanh ? "approximate=tanh" : "";
    }
}
