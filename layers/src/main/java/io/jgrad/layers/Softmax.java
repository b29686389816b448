package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** {@link Tensor#softmax(int)} over one dim (stable for any magnitude). */
public final class Softmax extends Block {
    private final int dim;

    /** Over dim {@code dim} (negative counts from the end). */
    public Softmax(int dim) {
        this.dim = dim;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.softmax(dim);
    }

    @Override
    protected String extraRepr() {
        return "dim=" + dim;
    }
}
