package io.jgrad.layers;

import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/** The mean of each window, per channel; zero padding is counted in the mean (PyTorch's count_include_pad). */
public final class AvgPool2d extends Pool2d {
    /** Square kernel, stride equal to the kernel, no padding. */
    public AvgPool2d(int kernel) {
        this(Window2d.square(kernel, kernel, 0, 1));
    }

    /** Any window. */
    public AvgPool2d(Window2d window) {
        super(window);
    }

    @Override
    Tensor reduce(Tensor windows) {
        return windows.mean(-1);
    }

    @Override
    double padValue() {
        return 0;
    }
}
