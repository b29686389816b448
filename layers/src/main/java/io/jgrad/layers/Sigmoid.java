package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** 1 / (1 + e^-x), elementwise. */
public final class Sigmoid extends Block {
    @Override
    public Tensor forward(Tensor x) {
        return x.sigmoid();
    }
}
