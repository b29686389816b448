package io.jgrad.layers;

import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/** The max of each window, per channel; padding counts as -infinity; the gradient goes to the (first) max. */
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
    Tensor reduce(Tensor windows) {
        return windows.max(-1, false).values();
    }

    @Override
    double padValue() {
        return Double.NEGATIVE_INFINITY;
    }
}
