package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Window2d;

/**
 * A 1-D convolution as PyTorch's {@code nn.Conv1d}: x [N, in, L] → [N, out, L'], weight
 * [out, in, kernel], bias [out], stride, padding and dilation along L; initialised like
 * PyTorch's (uniform on ±1/√(in·kernel)). Runs as a 2-D convolution of height 1.
 */
public final class Conv1d extends Block {
    private final int in;
    private final int out;
    private final int kernel;
    private final boolean bias;
    private final Window2d window;

    /** {@code in} to {@code out} channels with a kernel of {@code kernel} taps; {@code bias} false leaves out b. */
    public Conv1d(int in, int out, int kernel, int stride, int padding, int dilation, boolean bias, Generator rng) {
        checkArgument(in > 0 && out > 0 && kernel > 0 && stride > 0 && padding >= 0 && dilation > 0,
                "Conv1d: sizes, kernel, stride and dilation must be positive and padding >= 0, got in=%s out=%s "
                        + "kernel=%s stride=%s padding=%s dilation=%s", in, out, kernel, stride, padding, dilation);
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.bias = bias;
        this.window = new Window2d(1, kernel, 1, stride, 0, padding, 1, dilation);
        double bound = 1 / Math.sqrt((double) in * kernel);
        registerParameter("weight", new Parameter(Tensor.uniform(rng, -bound, bound, out, in, kernel)));
        if (bias) {
            registerParameter("bias", new Parameter(Tensor.uniform(rng, -bound, bound, out)));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(1) != in) {
            throw new ShapeException("Conv1d(" + in + " -> " + out + "): input " + x.shape() + " must be [N, " + in
                    + ", L]");
        }
        Tensor y = x.unsqueeze(2).conv2d(param("weight").unsqueeze(2), bias ? param("bias") : null, window);
        return y.squeeze(2);
    }

    @Override
    protected String extraRepr() {
        return "in=" + in + ", out=" + out + ", kernel=" + kernel + ", " + window;
    }
}
