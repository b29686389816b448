package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;

/** Returns its input unchanged (a placeholder, for example for an optional stage). */
public final class Identity extends Block {
    @Override
    public Tensor forward(Tensor x) {
        return x;
    }
}
