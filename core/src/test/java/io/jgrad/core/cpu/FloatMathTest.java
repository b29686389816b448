package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.*;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * FLOAT32's exp, sigmoid and tanh ({@link FloatMath}) are within one ulp of the correctly rounded
 * value (that of {@code (float) Math.f((double) x)}, which rounds a result far more accurate
 * than a float) across float's whole range, equal to it for nearly every argument, and right on
 * the special values.
 */
class FloatMathTest {
    private interface FloatFn {
        float at(float x);
    }

    private static void withinOneUlp(String name, FloatFn fn, DoubleUnaryOperator exact) {
        Random r = new Random(7);
        int differ = 0;
        int n = 400_000;
        for (int i = 0; i < n; i++) {
            // every exponent: random bit patterns, and values in [-30, 30] where these functions vary
            float x = i % 2 == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) (r.nextDouble() * 60 - 30);
            if (Float.isNaN(x)) {
                continue;
            }
            float got = fn.at(x);
            float want = (float) exact.applyAsDouble(x);
            if (Float.floatToIntBits(got) != Float.floatToIntBits(want)) {
                differ++;
                assertThat(Math.abs((double) got - want)).as("%s(%s) = %s, correctly rounded %s", name, x, got, want)
                        .isLessThanOrEqualTo(Math.ulp(want));
            }
        }
        assertThat(differ).as("%s: arguments whose result is not the correctly rounded one", name).isLessThan(n / 1000);
    }

    @Test
    void expIsFaithfullyRounded() {
        withinOneUlp("exp", FloatMath::exp, Math::exp);
    }

    @Test
    void sigmoidIsFaithfullyRounded() {
        withinOneUlp("sigmoid", FloatMath::sigmoid, v -> v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    }

    @Test
    void tanhIsFaithfullyRounded() {
        withinOneUlp("tanh", FloatMath::tanh, Math::tanh);
    }

    @Test
    void specialValues() {
        assertThat(FloatMath.exp(Float.NaN)).isNaN();
        assertThat(FloatMath.exp(Float.POSITIVE_INFINITY)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(FloatMath.exp(Float.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(FloatMath.exp(89f)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(FloatMath.exp(-104f)).isEqualTo(0f);
        assertThat(FloatMath.exp(-103f)).isEqualTo((float) Math.exp(-103)); // a subnormal
        assertThat(FloatMath.exp(0f)).isEqualTo(1f);
        assertThat(FloatMath.exp(-0f)).isEqualTo(1f);
        assertThat(FloatMath.sigmoid(Float.NaN)).isNaN();
        assertThat(FloatMath.sigmoid(Float.POSITIVE_INFINITY)).isEqualTo(1f);
        assertThat(FloatMath.sigmoid(Float.NEGATIVE_INFINITY)).isEqualTo(0f);
        assertThat(FloatMath.sigmoid(0f)).isEqualTo(0.5f);
        assertThat(FloatMath.sigmoid(-100f)).isEqualTo((float) (Math.exp(-100) / (1 + Math.exp(-100))));
        assertThat(FloatMath.tanh(Float.NaN)).isNaN();
        assertThat(FloatMath.tanh(Float.POSITIVE_INFINITY)).isEqualTo(1f);
        assertThat(FloatMath.tanh(Float.NEGATIVE_INFINITY)).isEqualTo(-1f);
        assertThat(Float.floatToIntBits(FloatMath.tanh(-0f))).isEqualTo(Float.floatToIntBits(-0f));
        assertThat(Float.floatToIntBits(FloatMath.tanh(0f))).isEqualTo(Float.floatToIntBits(0f));
        assertThat(FloatMath.tanh(Float.MIN_VALUE)).isEqualTo(Float.MIN_VALUE);
        assertThat(FloatMath.tanh(-1e-5f)).isEqualTo((float) Math.tanh(-1e-5f));
    }

    @Test
    void tensorOpsUseThemForFloat32AndMathForFloat64() {
        Tensor x = Tensor.linspace(-12, 12, 1001);
        float[] got = x.tanh().toFloatArray();
        float[] sig = x.sigmoid().toFloatArray();
        float[] ex = x.exp().toFloatArray();
        float[] in = x.toFloatArray();
        for (int i = 0; i < in.length; i++) {
            assertThat(got[i]).isEqualTo(FloatMath.tanh(in[i]));
            assertThat(sig[i]).isEqualTo(FloatMath.sigmoid(in[i]));
            assertThat(ex[i]).isEqualTo(FloatMath.exp(in[i]));
        }
        Tensor d = x.to(DType.FLOAT64);
        double[] dv = d.tanh().toDoubleArray();
        double[] din = d.toDoubleArray();
        for (int i = 0; i < din.length; i++) {
            assertThat(dv[i]).isEqualTo(Math.tanh(din[i]));
        }
    }
}
