package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** {@link Tensor#logSoftmax(int)} over one dim (stable for any magnitude). */
public final class LogSoftmax extends Block {
    private final int dim;

    /** Over dim {@code dim} (negative counts from the end). */
    public LogSoftmax(int dim) {
        this.dim = dim;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.logSoftmax(dim);
    }

    @Override
    protected String extraRepr() {
        return "dim=" + dim;
    }
}
