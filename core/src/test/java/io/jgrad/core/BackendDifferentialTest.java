package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.backend.Backend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The whole op table ({@link OpTable}) on the CPU backend and on the reference backend, compared:
 * the forward, the gradient of every input for a random upstream gradient, and the second-order
 * gradient (of the first-order gradients against random weights), in FLOAT64 (to 1e-9) and, for
 * the CPU backend's FLOAT32 paths (vectorized, fused, BLAS), in FLOAT32 (to 2e-4 relative). The
 * reference backend computes every kernel one element at a time in double precision, so a
 * disagreement points at an optimized kernel (or at the reference one).
 */
class BackendDifferentialTest {
    /** What one backend computed for one sample: the output, the first-order and second-order gradients. */
    private record Run(Tensor out, List<Tensor> grads, List<Tensor> second) {}

    @TestFactory
    List<DynamicContainer> everyOpAgreesOnBothBackends() {
        List<DynamicContainer> all = new ArrayList<>();
        for (DType dt : List.of(DType.FLOAT64, DType.FLOAT32)) {
            List<DynamicTest> tests = new ArrayList<>();
            long seed = 5000;
            for (OpTable.Op op : OpTable.all()) {
                for (List<OpTable.In> sample : op.samples()) {
                    long s = seed++;
                    String name = op.name() + " on " + describe(sample);
                    tests.add(dynamicTest(name, () -> compare(op.fn(), sample, s, dt)));
                }
            }
            all.add(DynamicContainer.dynamicContainer(dt.toString(), tests));
        }
        return all;
    }

    private static String describe(List<OpTable.In> sample) {
        List<String> shapes = new ArrayList<>();
        for (OpTable.In in : sample) {
            shapes.add(Arrays.toString(in.shape()));
        }
        return String.join(", ", shapes);
    }

    private static void compare(Function<List<Tensor>, Tensor> fn, List<OpTable.In> sample, long seed, DType dt) {
        Run cpu = run(Backends.cpu(), fn, sample, seed, dt);
        Run ref = run(Backends.reference(), fn, sample, seed, dt);
        assertThat(ref.out().backend()).as("the reference run's output is the reference backend's")
                .isSameAs(Backends.reference());
        assertThat(cpu.out().backend()).isSameAs(Backends.cpu());
        double rtol = dt == DType.FLOAT64 ? 1e-9 : 2e-4;
        double atol = dt == DType.FLOAT64 ? 1e-12 : 1e-5;
        assertClose("forward", cpu.out(), ref.out(), rtol, atol);
        for (int i = 0; i < cpu.grads().size(); i++) {
            assertClose("gradient of input " + i, cpu.grads().get(i), ref.grads().get(i), rtol, atol);
            assertClose("second-order gradient of input " + i, cpu.second().get(i), ref.second().get(i), rtol,
                    atol * 10);
        }
    }

    /** The sample's op on {@code backend}: inputs made there (same values on both), gradients taken there. */
    private static Run run(Backend backend, Function<List<Tensor>, Tensor> fn, List<OpTable.In> sample, long seed,
                           DType dt) {
        return Backends.with(backend, () -> {
            Tensor[] made = OpTable.inputs(sample, seed);
            List<Tensor> xs = new ArrayList<>();
            List<Tensor> diff = new ArrayList<>();
            for (Tensor x : made) {
                Tensor t = x;
                if (x.requiresGrad()) {
                    t = x.detach().to(dt).contiguous().requiresGrad(true);
                    diff.add(t);
                }
                xs.add(t);
            }
            Tensor out = fn.apply(xs);
            Generator g = Generator.seeded(seed + 1);
            Tensor upstream = Tensor.randn(g, DType.FLOAT64, out.shape()).to(out.dtype());
            List<Tensor> grads = Autograd.grad(List.of(out), diff, List.of(upstream), Autograd.Options.createGraph());
            Tensor weighted = null;
            for (int i = 0; i < grads.size(); i++) {
                Tensor v = Tensor.randn(g, DType.FLOAT64, grads.get(i).shape()).to(grads.get(i).dtype());
                Tensor term = grads.get(i).mul(v).sum();
                weighted = weighted == null ? term : weighted.add(term);
            }
            List<Tensor> second = new ArrayList<>();
            if (weighted != null && weighted.requiresGrad()) {
                second = Autograd.grad(List.of(weighted), diff, Autograd.Options.DEFAULT);
            } else {
                for (Tensor x : diff) {
                    second.add(Tensor.zeros(x.dtype(), x.shape()));
                }
            }
            return new Run(out.detach(), detached(grads), second);
        });
    }

    private static List<Tensor> detached(List<Tensor> ts) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : ts) {
            out.add(t.detach());
        }
        return out;
    }

    private static void assertClose(String what, Tensor cpu, Tensor ref, double rtol, double atol) {
        assertThat(ref.shape()).as(what + ": shape").isEqualTo(cpu.shape());
        assertThat(ref.dtype()).as(what + ": dtype").isEqualTo(cpu.dtype());
        double[] a = cpu.toDoubleArray();
        double[] b = ref.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            boolean same = a[i] == b[i] || Double.isNaN(a[i]) && Double.isNaN(b[i])
                    || Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
            assertThat(same).as("%s: element %d: cpu %s, reference %s", what, i, a[i], b[i]).isTrue();
        }
    }
}
