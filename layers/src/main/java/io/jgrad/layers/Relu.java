package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** max(x, 0), elementwise. */
public final class Relu extends Block {
    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }
}
