package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) of NCHW input: x [N, in, H, W] ->
 * [N, out, Ho, Wo]; weight [out, in, kh, kw], bias [out]; initialised uniform on ±1/√(in·kh·kw)
 * like PyTorch. Computed by {@link Tensor#conv2d}: one matrix product for the whole batch.
 */
public final class Conv2d extends Block {
    private final int in;
    private final int out;
    private final Window2d window;
    private final boolean bias;

    /** Square kernel, stride 1, no padding, with bias, from the default generator. */
    public Conv2d(int in, int out, int kernel) {
        this(in, out, Window2d.square(kernel, 1, 0, 1), true, Generator.getDefault());
    }

    /** Any window (kernel, stride, padding, dilation); {@code bias} false leaves out the bias. */
    public Conv2d(int in, int out, Window2d window, boolean bias, Generator rng) {
        checkArgument(in > 0 && out > 0, "Conv2d: channel counts must be positive, got in=%s out=%s", in, out);
        this.in = in;
        this.out = out;
        this.window = window;
        this.bias = bias;
        double bound = 1 / Math.sqrt((double) in * window.kernelH() * window.kernelW());
        registerParameter("weight", new Parameter(Tensor.uniform(rng, -bound, bound, out, in, window.kernelH(),
                window.kernelW())));
        if (bias) {
            registerParameter("bias", new Parameter(Tensor.uniform(rng, -bound, bound, out)));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 4 || x.size(1) != in) {
            throw new ShapeException("Conv2d(" + in + " -> " + out + "): input " + x.shape() + " must be [N, " + in
                    + ", H, W]");
        }
        return x.conv2d(param("weight"), bias ? param("bias") : null, window);
    }

    @Override
    protected String extraRepr() {
        return in + ", " + out + ", kernel=" + window.kernelH() + "x" + window.kernelW() + ", stride="
                + window.strideH() + "x" + window.strideW() + ", padding=" + window.padH() + "x" + window.padW()
                + ", dilation=" + window.dilationH() + "x" + window.dilationW() + ", bias=" + bias;
    }
}
