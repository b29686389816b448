package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Autograd;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * Weight initialisers with PyTorch's formulas ({@code torch.nn.init}), drawing from a seeded
 * generator and filling the tensor in place. Fans: fanIn = size(1)·receptive field, fanOut =
 * size(0)·receptive field, where the receptive field is the product of the dims after the
 * first two.
 */
public final class Init {
    /** The activation that follows, for the gain: 1 (linear, sigmoid), 5/3 (tanh), √2 (relu), √(2/(1+a²)) (leaky relu). */
    public enum Nonlinearity {
        /** Gain 1. */
        LINEAR,
        /** Gain 1. */
        SIGMOID,
        /** Gain 5/3. */
        TANH,
        /** Gain √2. */
        RELU,
        /** Gain √(2/(1+a²)) for negative slope a. */
        LEAKY_RELU
    }

    /** Which fan sets the scale: fan-in preserves the forward variance, fan-out the backward one. */
    public enum FanMode {
        /** Scale by the inputs per output unit: preserves the forward pass's variance. */
        FAN_IN,
        /** Scale by the outputs per input unit: preserves the backward pass's variance. */
        FAN_OUT
    }

    private Init() {}

    /** PyTorch's {@code calculate_gain}; {@code slope} is the leaky relu's negative slope. */
    public static double gain(Nonlinearity f, double slope) {
        return switch (f) {
            case LINEAR, SIGMOID -> 1;
            case TANH -> 5.0 / 3;
            case RELU -> Math.sqrt(2);
            case LEAKY_RELU -> Math.sqrt(2 / (1 + slope * slope));
        };
    }

    private static long[] fans(Tensor t) {
        checkArgument(t.dim() >= 2, "Init: fan in and fan out need at least 2 dims, got %s", t.shape());
        long field = 1;
        for (int d = 2; d < t.dim(); d++) {
            field *= t.size(d);
        }
        return new long[] {t.size(1) * field, t.size(0) * field};
    }

    private static Tensor fill(Tensor t, Tensor values) {
        try (var s = Autograd.noGrad()) {
            return t.copyFrom(values);
        }
    }

    private static int[] shape(Tensor t) {
        return t.shape().toArray();
    }

    /** Uniform on ±gain·√(6 / (fanIn + fanOut)) (Glorot). */
    public static Tensor xavierUniform(Tensor t, double gain, Generator rng) {
        long[] f = fans(t);
        double bound = gain * Math.sqrt(6.0 / (f[0] + f[1]));
        return fill(t, Tensor.uniform(rng, t.dtype(), -bound, bound, shape(t)));
    }

    /** Normal with std gain·√(2 / (fanIn + fanOut)) (Glorot). */
    public static Tensor xavierNormal(Tensor t, double gain, Generator rng) {
        long[] f = fans(t);
        double std = gain * Math.sqrt(2.0 / (f[0] + f[1]));
        return fill(t, Tensor.randn(rng, t.dtype(), shape(t)).mul(std));
    }

    /** Uniform on ±gain·√(3 / fan) (He); {@code slope} is used by LEAKY_RELU only. */
    public static Tensor kaimingUniform(Tensor t, double slope, FanMode mode, Nonlinearity f, Generator rng) {
        long[] fan = fans(t);
        double bound = gain(f, slope) * Math.sqrt(3.0 / (mode == FanMode.FAN_IN ? fan[0] : fan[1]));
        return fill(t, Tensor.uniform(rng, t.dtype(), -bound, bound, shape(t)));
    }

    /** Normal with std gain / √fan (He). */
    public static Tensor kaimingNormal(Tensor t, double slope, FanMode mode, Nonlinearity f, Generator rng) {
        long[] fan = fans(t);
        double std = gain(f, slope) / Math.sqrt(mode == FanMode.FAN_IN ? fan[0] : fan[1]);
        return fill(t, Tensor.randn(rng, t.dtype(), shape(t)).mul(std));
    }

    /** Every element set to {@code value}. */
    public static Tensor constant(Tensor t, double value) {
        try (var s = Autograd.noGrad()) {
            return t.fill(value);
        }
    }

    /** Every element set to 0. */
    public static Tensor zeros(Tensor t) {
        return constant(t, 0);
    }
}
