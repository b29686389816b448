package io.jgrad.layers;

import io.jgrad.core.Module;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/** Shared forward of {@link MaxPool2d} and {@link AvgPool2d}: each channel's windows reduced by max or mean. */
abstract class Pool2d extends Module {
    private final Window2d window;

    Pool2d(Window2d window) {
        this.window = window;
    }

    abstract Tensor reduce(Tensor windows);

    abstract double padValue();

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4) {
            throw new ShapeException(getClass().getSimpleName() + ": input " + x.shape() + " must be [N, C, H, W]");
        }
        int n = x.size(0);
        int c = x.size(1);
        int oh = window.outH(x.size(2));
        int ow = window.outW(x.size(3));
        // every channel as its own one-channel image, so each patch row is one channel's window
        Tensor windows = x.reshape(n * c, 1, x.size(2), x.size(3)).im2col(window, padValue());
        return reduce(windows).reshape(n, c, oh, ow);
    }

    @Override
    protected String extraRepr() {
        return "kernel=" + window.kernelH() + "x" + window.kernelW() + ", stride=" + window.strideH() + "x"
                + window.strideW() + ", padding=" + window.padH() + "x" + window.padW();
    }
}
