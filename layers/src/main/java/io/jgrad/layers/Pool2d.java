package io.jgrad.layers;

import io.jgrad.core.Block;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/** Shared shape check and description of {@link MaxPool2d} and {@link AvgPool2d}. */
abstract class Pool2d extends Block {
    private final Window2d window;

    Pool2d(Window2d window) {
        this.window = window;
    }

    /** The pooled image [N, C, Ho, Wo] of x [N, C, H, W]. */
    abstract Tensor pool(Tensor x, Window2d window);

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4) {
            throw new ShapeException(getClass().getSimpleName() + ": input " + x.shape() + " must be [N, C, H, W]");
        }
        return pool(x, window);
    }

    @Override
    protected String extraRepr() {
        return "kernel=" + window.kernelH() + "x" + window.kernelW() + ", stride=" + window.strideH() + "x"
                + window.strideW() + ", padding=" + window.padH() + "x" + window.padW();
    }
}
