package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** Merges dims startDim..endDim (default 1..-1: everything but the batch dim), e.g. [N, 1, 28, 28] -> [N, 784]. */
public final class Flatten extends Block {
    private final int startDim;
    private final int endDim;

    /** Flattens all dims after the first. */
    public Flatten() {
        this(1, -1);
    }

    /** Flattens dims startDim..endDim inclusive. */
    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.flatten(startDim, endDim);
    }

    @Override
    protected String extraRepr() {
        return "startDim=" + startDim + ", endDim=" + endDim;
    }
}
