package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Autograd;
import io.jgrad.core.CustomOp;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Backward hands the gradients it made and consumed back to the CPU backend ({@link ArrayPool}),
 * which reuses their arrays for later results. Nothing anyone can still read may be reused: a
 * leaf's {@code grad}, a retained gradient, one a hook or a custom op saw. Each test keeps such
 * tensors, runs more work that allocates the same sizes, and checks that their values did not
 * change, and that training gives the same bits with the pool as without it.
 */
class ArrayPoolTest {
    private final boolean saved = ArrayPool.enabled;

    @AfterEach
    void restore() {
        ArrayPool.enabled = saved;
    }

    /** Two tanh layers, widths big enough to be pooled; returns the loss. */
    private static Tensor loss(Tensor x, Tensor w1, Tensor w2, List<Tensor> seenByHook) {
        Tensor h = x.matmul(w1).tanh();
        if (seenByHook != null) {
            h.registerHook(g -> {
                seenByHook.add(g); // user code keeps the gradient: it must not be reused
                return null;
            });
        }
        return h.mul(h).matmul(w2).sigmoid().sum();
    }

    private static List<float[]> train(boolean pool, int steps) {
        ArrayPool.enabled = pool;
        Generator g = Generator.seeded(3);
        Tensor x = Tensor.randn(g, 64, 96);
        Tensor w1 = Tensor.randn(g, 96, 128).mul(0.1).requiresGrad(true);
        Tensor w2 = Tensor.randn(g, 128, 64).mul(0.1).requiresGrad(true);
        List<float[]> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            w1.setGrad(null);
            w2.setGrad(null);
            loss(x, w1, w2, null).backward();
            out.add(w1.grad().toFloatArray());
            out.add(w2.grad().toFloatArray());
            try (var n = Autograd.noGrad()) {
                w1.addInPlace(w1.grad(), -0.1);
                w2.addInPlace(w2.grad(), -0.1);
            }
        }
        return out;
    }

    @Test
    void trainingGivesTheSameBitsWithAndWithoutThePool() {
        List<float[]> with = train(true, 5);
        assertThat(ArrayPool.heldBytes()).as("backward gave its consumed gradients back").isPositive();
        List<float[]> without = train(false, 5);
        for (int i = 0; i < with.size(); i++) {
            assertThat(with.get(i)).as("gradient %d", i).containsExactly(without.get(i));
        }
    }

    @Test
    void whatUserCodeCanStillReadIsNeverReused() {
        ArrayPool.enabled = true;
        Generator g = Generator.seeded(4);
        Tensor x = Tensor.randn(g, 64, 96);
        Tensor w1 = Tensor.randn(g, 96, 128).mul(0.1).requiresGrad(true);
        Tensor w2 = Tensor.randn(g, 128, 64).mul(0.1).requiresGrad(true);
        List<Tensor> hooked = new ArrayList<>();
        Tensor h = x.matmul(w1).tanh().retainGrad();
        h.mul(h).matmul(w2).sigmoid().sum().backward();
        loss(x, w1, w2, hooked).backward(); // accumulates into the grads; the hook keeps its gradient
        Tensor leafGrad = w1.grad();
        Tensor retained = h.grad();
        float[] leafBefore = leafGrad.toFloatArray();
        float[] retainedBefore = retained.toFloatArray();
        float[] hookedBefore = hooked.get(0).toFloatArray();
        for (int s = 0; s < 4; s++) { // the same sizes again and again: any reused array would be overwritten
            w1.setGrad(null);
            w2.setGrad(null);
            loss(x, w1, w2, null).backward();
        }
        assertThat(leafGrad.toFloatArray()).containsExactly(leafBefore);
        assertThat(retained.toFloatArray()).containsExactly(retainedBefore);
        assertThat(hooked.get(0).toFloatArray()).containsExactly(hookedBefore);
    }

    /** A custom op that keeps the gradient it is given. */
    private static final class Keeper extends CustomOp {
        Tensor kept;

        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            return in[0].mul(2.0);
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor dOut) {
            kept = dOut;
            return new Tensor[] {dOut.mul(2.0)};
        }
    }

    @Test
    void aGradientACustomOpKeptIsNeverReused() {
        ArrayPool.enabled = true;
        Generator g = Generator.seeded(5);
        Tensor x = Tensor.randn(g, DType.FLOAT32, 64, 96).requiresGrad(true);
        Keeper keeper = new Keeper();
        keeper.apply(x.tanh()).tanh().sum().backward();
        float[] before = keeper.kept.toFloatArray();
        for (int s = 0; s < 4; s++) {
            x.setGrad(null);
            x.tanh().mul(3.0).tanh().mul(x).sum().backward();
        }
        assertThat(keeper.kept.toFloatArray()).containsExactly(before);
    }
}
