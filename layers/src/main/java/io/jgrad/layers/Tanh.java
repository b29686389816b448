package io.jgrad.layers;

import io.jgrad.core.Module;
import io.jgrad.core.Tensor;

/** tanh(x), elementwise. */
public final class Tanh extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return x.tanh();
    }
}
