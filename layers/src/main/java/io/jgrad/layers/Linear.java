package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;

/**
 * y = x Wᵀ + b. x [..., in] -> y [..., out]; weight [out, in] (row j is class j's template in a
 * linear classifier), bias [out]. Initialised like PyTorch: W and b uniform on ±1/√in.
 */
public final class Linear extends Block {
    private final int in;
    private final int out;
    private final boolean bias;

    /** A layer with bias, initialised from the default generator. */
    public Linear(int in, int out) {
        this(in, out, true, Generator.getDefault());
    }

    /** A layer initialised from {@code rng}; {@code bias} false leaves out b. */
    public Linear(int in, int out, boolean bias, Generator rng) {
        checkArgument(in > 0 && out > 0, "Linear: sizes must be positive, got in=%s out=%s", in, out);
        this.in = in;
        this.out = out;
        this.bias = bias;
        double bound = 1 / Math.sqrt(in); // fan-in scaling keeps early outputs in a sane range
        registerParameter("weight", new Parameter(Tensor.uniform(rng, -bound, bound, out, in)));
        if (bias) {
            registerParameter("bias", new Parameter(Tensor.uniform(rng, -bound, bound, out)));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() == 0 || x.size(-1) != in) {
            throw new io.jgrad.core.ShapeException("Linear(" + in + " -> " + out + "): input " + x.shape()
                    + " must end in " + in);
        }
        Tensor y = x.matmul(param("weight").t());
        return bias ? y.add(param("bias")) : y;
    }

    @Override
    protected String extraRepr() {
        return "in=" + in + ", out=" + out + ", bias=" + bias;
    }
}
