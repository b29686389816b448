package io.jgrad.layers;

import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/** The max of each window, per channel ({@link Tensor#maxPool2d}); padding never wins; the gradient goes to the (first) max. */
public final class MaxPool2d extends Pool2d {
    /** Square kernel, stride equal to the kernel, no padding (PyTorch's default). */
    public MaxPool2d(int kernel) {
        this(Window2d.square(kernel, kernel, 0, 1));
    }

    /** Any window. */
    public MaxPool2d(Window2d window) {
        super(window);
    }

    @Override
    Tensor pool(Tensor x, Window2d window) {
        return x.maxPool2d(window);
    }
}
