package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** tanh(x), elementwise. */
public final class Tanh extends Block {
    @Override
    public Tensor forward(Tensor x) {
        return x.tanh();
    }
}
