package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A leaf with no gradient yet may keep the storage of the gradient backward computed for it
 * instead of a copy; these are the cases where that storage can be seen elsewhere, so the leaf
 * must get its own copy. Each test zeroes one gradient in place and checks the others kept
 * their values.
 */
class GradientTakeOverTest {
    private static Tensor leaf(double... values) {
        return Tensor.of(values).requiresGrad(true);
    }

    @Test
    void twoLeavesReachedByTheSameGradientGetSeparateStorage() {
        Tensor a = leaf(1, 2, 3);
        Tensor b = leaf(4, 5, 6);
        a.add(b).mul(2).sum().backward(); // add passes one fresh gradient to both
        assertThat(a.grad().toDoubleArray()).containsExactly(2, 2, 2);
        assertThat(b.grad().toDoubleArray()).containsExactly(2, 2, 2);
        a.grad().mulInPlace(0);
        assertThat(b.grad().toDoubleArray()).containsExactly(2, 2, 2);
        assertThat(a.grad().storage).isNotSameAs(b.grad().storage);
    }

    @Test
    void aGradientAHookKeptIsNotTakenOver() {
        Tensor x = leaf(1, 2, 3, 4);
        Tensor y = x.reshape(2, 2);
        Tensor[] seen = new Tensor[1];
        y.registerHook(g -> {
            seen[0] = g;
            return null;
        });
        y.mul(3).sum().backward(); // x's gradient is a view of the one the hook kept
        x.grad().mulInPlace(0);
        assertThat(seen[0].toDoubleArray()).containsExactly(3, 3, 3, 3);
    }

    @Test
    void aGradientACustomOpKeptOrReturnedIsNotTakenOver() {
        Tensor[] kept = new Tensor[2];
        CustomOp op = new CustomOp() {
            @Override
            public String name() {
                return "keeper";
            }

            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                return in[0].mul(1);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                kept[0] = dOut;
                kept[1] = dOut.mul(5);
                return new Tensor[] {kept[1]};
            }
        };
        Tensor x = leaf(1, 2);
        op.apply(x).mul(2).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(10, 10);
        x.grad().mulInPlace(0);
        assertThat(kept[1].toDoubleArray()).containsExactly(10, 10);
        assertThat(kept[0].toDoubleArray()).containsExactly(2, 2);

        Tensor z = leaf(1, 2);
        Tensor w = leaf(3, 4);
        op.apply(z.add(w)).mul(2).sum().backward(); // add hands the op's returned gradient to both leaves
        z.grad().mulInPlace(0);
        assertThat(w.grad().toDoubleArray()).containsExactly(10, 10);
        assertThat(kept[1].toDoubleArray()).containsExactly(10, 10);
    }

    @Test
    void theCallersGradientIsNeverTakenOver() {
        Tensor x = leaf(1, 2, 3, 4);
        Tensor seed = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        x.reshape(2, 2).backward(seed); // reshape's backward returns a view of the seed
        x.grad().mulInPlace(0);
        assertThat(seed.toDoubleArray()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void aRetainedNonLeafGradientAndTheLeafBelowItAreSeparate() {
        Tensor x = leaf(1, 2, 3, 4);
        Tensor y = x.reshape(2, 2).retainGrad();
        y.mul(3).sum().backward();
        x.grad().mulInPlace(0);
        assertThat(y.grad().toDoubleArray()).containsExactly(3, 3, 3, 3);
    }

    @Test
    void aGradientStillInFlightForAnotherTensorIsNotTakenOver() {
        // x's gradient and the one flowing on into exp's backward share storage
        Tensor x = leaf(0, 0);
        Tensor e = leaf(0, 0);
        Tensor s = x.add(e.exp());
        s.mul(2).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(2, 2);
        assertThat(e.grad().toDoubleArray()).containsExactly(2, 2);
        x.grad().mulInPlace(0);
        assertThat(e.grad().toDoubleArray()).containsExactly(2, 2);
    }

    @Test
    void laterBackwardsAccumulateIntoATakenOverGradient() {
        Tensor x = leaf(1, 2);
        Tensor c = Tensor.of(new double[] {3, 4});
        x.mul(c).sum().backward();
        x.mul(c).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsExactly(6, 8);
        assertThat(c.toDoubleArray()).containsExactly(3, 4);
    }
}
