package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link Tensor#zeroGrad()} zeroes a gradient in place, as PyTorch's {@code zero_grad(set_to_none=False)}
 * does, whether or not the CPU backend writes the zeros at once (it writes them when the gradient is
 * next read, or skips them when the next backward overwrites the whole gradient): the same tensor
 * object, reading as zeros through any reference, and the next backward's sum has the bits of adding
 * into zeros (a -0 term gives +0).
 */
class ZeroGradTest {
    private static Tensor leafWithGrad(float... values) {
        Tensor x = Tensor.of(values, values.length).requiresGrad(true);
        x.mul(Tensor.of(new float[] {2, -3, 0.5f, -0f}, 4)).sum().backward();
        return x;
    }

    @Test
    void aZeroedGradientReadsAsZerosThroughAReferenceTakenBefore() {
        Tensor x = leafWithGrad(1, 2, 3, 4);
        Tensor held = x.grad();
        Tensor view = held.narrow(0, 1, 2);
        x.zeroGrad();
        assertThat(x.grad()).isSameAs(held);
        assertThat(held.toFloatArray()).containsExactly(0f, 0f, 0f, 0f);
        assertThat(view.toFloatArray()).containsExactly(0f, 0f);
    }

    @Test
    void theNextBackwardGivesTheSumIntoZerosBitForBit() {
        Tensor x = leafWithGrad(1, 2, 3, 4);
        Tensor held = x.grad();
        x.zeroGrad();
        // d/dx of sum(x · w) is w: 4, -6, 1, -0 (the last a negative zero, which zeros turn into +0)
        x.mul(Tensor.of(new float[] {4, -6, 1, -0f}, 4)).sum().backward();
        assertThat(x.grad()).isSameAs(held);
        float[] g = x.grad().toFloatArray();
        assertThat(g).containsExactly(4f, -6f, 1f, 0f);
        assertThat(Float.floatToRawIntBits(g[3])).as("-0 added into +0 is +0").isZero();
        // a second backward without zeroing adds to it
        x.mul(Tensor.of(new float[] {1, 1, 1, 1}, 4)).sum().backward();
        assertThat(x.grad().toFloatArray()).containsExactly(5f, -5f, 2f, 1f);
    }

    @Test
    void aValueComputedFromTheOldGradientKeepsTheOldValues() {
        Tensor x = leafWithGrad(1, 2, 3, 4);
        Tensor doubled = x.grad().mul(2); // may be computed lazily: it must still see 2·[2, -3, 0.5, -0]
        x.zeroGrad();
        assertThat(doubled.toFloatArray()).containsExactly(4f, -6f, 1f, -0f);
        assertThat(x.grad().toFloatArray()).containsExactly(0f, 0f, 0f, 0f);
    }

    @Test
    void aPartialWriteAfterZeroingKeepsTheOtherZeros() {
        Tensor x = leafWithGrad(1, 2, 3, 4);
        x.zeroGrad();
        Tensor g = x.grad();
        try (var off = Autograd.noGrad()) {
            g.narrow(0, 1, 2).addInPlace(Tensor.of(new float[] {7, 8}, 2), 1.0);
        }
        assertThat(g.toFloatArray()).containsExactly(0f, 7f, 8f, 0f);
    }

    /**
     * A gradient over a shared array (Tensor.wrapArray, a data-parallel trainer's buffer): zeroed in the
     * array itself, and a write into the array after is kept.
     */
    @Test
    void aGradientOverASharedArrayIsZeroedInTheArray() {
        float[] buffer = {1, 2, 3, 4};
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 4).requiresGrad(true);
        x.setGrad(Tensor.wrapArray(buffer, 4));
        x.zeroGrad();
        assertThat(buffer).containsExactly(0f, 0f, 0f, 0f);
        buffer[2] = 9; // an all-reduce writing the summed gradient straight into the buffer
        assertThat(x.grad().toFloatArray()).containsExactly(0f, 0f, 9f, 0f);
    }

    @Test
    void aZeroedGradientOfAParameterUnusedInTheNextBackwardStaysZero() {
        Tensor x = leafWithGrad(1, 2, 3, 4);
        Tensor y = Tensor.of(new float[] {1, 1}, 2).requiresGrad(true);
        x.zeroGrad();
        y.mul(3).sum().backward();
        assertThat(x.grad().toFloatArray()).containsExactly(0f, 0f, 0f, 0f);
        assertThat(x.grad().sum().item()).isEqualTo(0.0);
    }
}
