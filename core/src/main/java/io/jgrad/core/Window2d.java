package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The sliding window of a 2-D convolution or pooling: kernel size, stride, zero padding and
 * dilation per axis. Output size per axis: (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1.
 */
public record Window2d(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                       int dilationH, int dilationW) {
    /** Validates the sizes (kernel, stride, dilation positive; padding non-negative). */
    public Window2d {
        checkArgument(kernelH > 0 && kernelW > 0, "Window2d: kernel must be positive, got %sx%s", kernelH, kernelW);
        checkArgument(strideH > 0 && strideW > 0, "Window2d: stride must be positive, got %sx%s", strideH, strideW);
        checkArgument(padH >= 0 && padW >= 0, "Window2d: padding must be non-negative, got %sx%s", padH, padW);
        checkArgument(dilationH > 0 && dilationW > 0, "Window2d: dilation must be positive, got %sx%s",
                dilationH, dilationW);
    }

    /** A square window: the same kernel, stride, padding and dilation on both axes. */
    public static Window2d square(int kernel, int stride, int padding, int dilation) {
        return new Window2d(kernel, kernel, stride, stride, padding, padding, dilation, dilation);
    }

    /** Output height for an input of height {@code h}; throws if the window does not fit. */
    public int outH(int h) {
        return out("height", h, kernelH, strideH, padH, dilationH);
    }

    /** Output width for an input of width {@code w}; throws if the window does not fit. */
    public int outW(int w) {
        return out("width", w, kernelW, strideW, padW, dilationW);
    }

    /** The same window as kernels take it. */
    io.jgrad.core.backend.Window toWindow() {
        return new io.jgrad.core.backend.Window(kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW);
    }

    private static int out(String axis, int in, int k, int s, int p, int d) {
        long span = (long) d * (k - 1) + 1;
        long padded = in + 2L * p;
        if (padded < span) {
            throw new ShapeException("Window2d: input " + axis + " " + in + " (padded " + padded
                    + ") is smaller than the dilated kernel " + span);
        }
        return (int) ((padded - span) / s + 1);
    }
}
