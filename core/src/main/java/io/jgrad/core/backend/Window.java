package io.jgrad.core.backend;

/**
 * The sliding window of a 2-D convolution or pooling, as kernels take it (the caller has checked
 * it: sizes positive, padding non-negative, the window fits the image): kernel size, stride,
 * zero padding and dilation per axis.
 */
public record Window(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int dilationH,
                     int dilationW) {
    /** Output height for an input of height {@code h}. */
    public int outH(int h) {
        return (h + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }

    /** Output width for an input of width {@code w}. */
    public int outW(int w) {
        return (w + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }
}
