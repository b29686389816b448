package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.*;
import io.jgrad.core.backend.UpdateOp;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Kernels with a float32 fast path give what their general path gives on the same values (run
 * in float64): patches, their adjoint, and max/min with indices, NaN and ties.
 */
class KernelPathsTest {
    private static final List<Window2d> WINDOWS = List.of(
            Window2d.square(3, 1, 0, 1), Window2d.square(2, 2, 0, 1), Window2d.square(3, 2, 1, 1),
            Window2d.square(3, 1, 2, 2), new Window2d(2, 3, 1, 2, 1, 0, 1, 2));

    @Test
    void im2colAndItsAdjointMatchTheGeneralPath() {
        Generator g = Generator.seeded(31);
        for (Window2d w : WINDOWS) {
            Tensor x = Tensor.randn(g, 3, 2, 7, 8);
            Tensor fast = x.im2col(w, -5);
            Tensor general = x.to(DType.FLOAT64).im2col(w, -5);
            assertThat(fast.toDoubleArray()).as("%s", w).containsExactly(general.toDoubleArray());
            Tensor cols = Tensor.randn(g, fast.shape().toArray());
            Tensor back = cols.col2im(new int[] {3, 2, 7, 8}, w);
            Tensor backGeneral = cols.to(DType.FLOAT64).col2im(new int[] {3, 2, 7, 8}, w);
            assertThat(back.allClose(backGeneral.to(DType.FLOAT32), 1e-5, 1e-5)).as("%s adjoint", w).isTrue();
        }
    }

    @Test
    void maxAndMinMatchTheGeneralPathWithNaNAndTies() {
        Tensor x = Tensor.of(new double[][] {{1, 3, 3, -2}, {Double.NaN, 5, 9, 0}, {4, 4, 4, 4}, {-1, Double.NaN, 7, -9}});
        for (int dim : new int[] {0, 1}) {
            for (boolean max : new boolean[] {true, false}) {
                Tensor.ValuesIndices f = max ? x.to(DType.FLOAT32).max(dim, false) : x.to(DType.FLOAT32).min(dim, false);
                Tensor.ValuesIndices d = max ? x.to(DType.FLOAT64).max(dim, false) : x.to(DType.FLOAT64).min(dim, false);
                assertThat(f.values().toDoubleArray()).as("dim %s max %s", dim, max)
                        .containsExactly(d.values().toDoubleArray());
                assertThat(f.indices().toLongArray()).containsExactly(d.indices().toLongArray());
            }
        }
        assertThat(x.to(DType.FLOAT32).max(1, false).indices().toLongArray()).containsExactly(1, 0, 0, 1);
    }

    @Test
    void maxPoolingReadsTheImageDirectly() {
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor x = Tensor.of(new double[] {1, 5, 2, Double.NaN, 3, 5, 0, 4, -1, -2, 7, 7, -3, -4, 6, 8}, 1, 1, 4, 4)
                    .to(dt).requiresGrad(true);
            Tensor y = x.maxPool2d(Window2d.square(2, 2, 0, 1));
            assertThat(y.toDoubleArray()).as("%s", dt).containsExactly(5, Double.NaN, -1, 8);
            y.sum().backward();
            // first max of each window gets the gradient: 5 at index 1 (not the tie at 5), the NaN, -1, 8
            assertThat(x.grad().toDoubleArray()).containsExactly(0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1);
        }
        Tensor f = Tensor.randn(Generator.seeded(3), 2, 3, 9, 7);
        for (Window2d w : List.of(Window2d.square(3, 2, 1, 1), Window2d.square(2, 1, 0, 2))) {
            assertThat(f.maxPool2d(w).toDoubleArray()).as("%s", w)
                    .containsExactly(f.to(DType.FLOAT64).maxPool2d(w).toDoubleArray());
            assertThat(f.maxPool2d(w).toDoubleArray()).as("%s against im2col + max", w)
                    .containsExactly(f.reshape(6, 1, 9, 7).im2col(w, Double.NEGATIVE_INFINITY).max(-1, false).values()
                            .toDoubleArray());
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.maxPool2d(Window2d.square(2, 2, 2, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most half the kernel");
    }

    @Test
    void float32PoolingGivesTheFirstMaximumLikeTheFloat64Loop() {
        // few distinct values, so windows tie, among them both zeros, infinities and some NaNs
        double[] values = {-0.0, 0.0, 1, -1, 2, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 1, -0.0, 0.0};
        java.util.Random r = new java.util.Random(5);
        double[] data = new double[3 * 2 * 7 * 9];
        for (int i = 0; i < data.length; i++) {
            data[i] = r.nextInt(25) == 0 ? Double.NaN : values[r.nextInt(values.length)];
        }
        List<Window2d> windows = List.of(Window2d.square(2, 2, 0, 1), Window2d.square(2, 1, 0, 1),
                new Window2d(2, 2, 1, 2, 0, 0, 2, 1), Window2d.square(3, 2, 1, 1), Window2d.square(2, 2, 1, 1));
        for (Window2d w : windows) {
            Tensor x32 = Tensor.of(data, 3, 2, 7, 9).to(DType.FLOAT32).requiresGrad(true);
            Tensor x64 = Tensor.of(data, 3, 2, 7, 9).to(DType.FLOAT64).requiresGrad(true);
            Tensor y32 = x32.maxPool2d(w);
            Tensor y64 = x64.maxPool2d(w);
            // Double.equals: NaN equals NaN, -0.0 differs from 0.0
            assertThat(y32.toDoubleArray()).as("%s", w).containsExactly(y64.toDoubleArray());
            y32.sum().backward();
            y64.sum().backward();
            assertThat(x32.grad().toDoubleArray()).as("%s: the gradient goes to the same elements", w)
                    .containsExactly(x64.grad().toDoubleArray());
        }
        // PyTorch's rule (the first maximum stays on a tie): -0 before +0 gives -0, and its gradient
        Tensor z = Tensor.of(new double[] {-0.0, 0.0, -1, -2}, 1, 1, 2, 2).to(DType.FLOAT32).requiresGrad(true);
        Tensor m = z.maxPool2d(Window2d.square(2, 2, 0, 1));
        assertThat(Double.doubleToRawLongBits(m.item())).isEqualTo(Double.doubleToRawLongBits(-0.0));
        m.sum().backward();
        assertThat(z.grad().toDoubleArray()).containsExactly(1, 0, 0, 0);
    }

    /**
     * Max pooling's float32 backward against the float64 loop with an upstream gradient holding -0:
     * bit for bit where each element gets one term (2x2, stride 2: -0 gives +0, as added into zeros;
     * ties and NaNs as in forward), and closely where overlapping windows add several.
     */
    @Test
    void poolingBackwardMatchesTheFloat64Loop() {
        double[] values = {-0.0, 0.0, 1, -1, 2, 3, -3, 1, 0.5};
        java.util.Random r = new java.util.Random(8);
        double[] data = new double[3 * 2 * 8 * 10];
        for (int i = 0; i < data.length; i++) {
            data[i] = r.nextInt(40) == 0 ? Double.NaN : values[r.nextInt(values.length)];
        }
        for (Window2d w : List.of(Window2d.square(2, 2, 0, 1), Window2d.square(4, 2, 1, 1))) {
            Tensor x32 = Tensor.of(data, 3, 2, 8, 10).to(DType.FLOAT32).requiresGrad(true);
            Tensor x64 = Tensor.of(data, 3, 2, 8, 10).to(DType.FLOAT64).requiresGrad(true);
            Tensor y32 = x32.maxPool2d(w);
            Tensor y64 = x64.maxPool2d(w);
            double[] up = new double[y32.numel()];
            for (int i = 0; i < up.length; i++) {
                up[i] = i % 7 == 0 ? -0.0 : r.nextGaussian();
            }
            Tensor u = Tensor.of(up, y32.shape().toArray());
            y32.mul(u.to(DType.FLOAT32)).sum().backward();
            y64.mul(u).sum().backward();
            double[] want = x64.grad().to(DType.FLOAT32).toDoubleArray();
            if (w.kernelH() == 2) { // one term per element: the same float either way, -0 included
                assertThat(x32.grad().toDoubleArray()).as("%s", w).containsExactly(want);
            } else { // overlapping windows add several terms, in float32 here and float64 there
                assertThat(x32.grad().toDoubleArray()).as("%s", w)
                        .containsExactly(want, org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    @Test
    void transposingCopiesMatchTheGeneralPath() {
        Generator g = Generator.seeded(4);
        List<Tensor> views = List.of(
                Tensor.randn(g, 33, 45).t(),
                Tensor.randn(g, 3, 50, 9).transpose(1, 2),
                Tensor.randn(g, 4, 3, 40, 12).permute(1, 0, 3, 2),               // batch dims permuted too
                Tensor.randn(g, 2, 70, 20).narrow(1, 5, 60).transpose(1, 2));   // a window
        for (Tensor v : views) {
            Tensor fast = v.contiguous();
            Tensor general = v.to(DType.FLOAT64).contiguous();
            assertThat(fast.isContiguous()).isTrue();
            assertThat(fast.toDoubleArray()).as("%s", v.shape().toArray()).containsExactly(general.toDoubleArray());
        }
    }

    /** A view at a non-zero offset (the general loops) against the same values at offset 0 (the vectorized loops). */
    private static Tensor shifted(Tensor t) {
        Tensor big = Tensor.zeros(t.dtype(), t.numel() + 3);
        big.narrow(0, 3, t.numel()).copyFrom(t);
        return big.narrow(0, 3, t.numel());
    }

    @Test
    void alignedAndOffsetLoopsGiveTheSameBits() {
        Generator g = Generator.seeded(12);
        Tensor a = Tensor.randn(g, 200_000);
        Tensor b = Tensor.randn(g, 200_000).add(0.1);
        Tensor sa = shifted(a);
        Tensor sb = shifted(b);
        List<java.util.function.BinaryOperator<Tensor>> binary = List.of(Tensor::add, Tensor::sub, Tensor::mul, Tensor::div,
                Tensor::maximum, Tensor::minimum, (x, y) -> x.add(2.5), (x, y) -> x.mul(-3), (x, y) -> x.relu(),
                (x, y) -> x.neg(), (x, y) -> x.abs(), (x, y) -> x.clamp(-0.5, 0.7));
        for (int i = 0; i < binary.size(); i++) {
            assertThat(binary.get(i).apply(a, b).toFloatArray()).as("op %s", i)
                    .isEqualTo(binary.get(i).apply(sa, sb).toFloatArray());
        }
        assertThat(a.clone().addInPlace(b, 0.3).toFloatArray()).isEqualTo(sa.clone().addInPlace(sb, 0.3).toFloatArray());
        Tensor viewTarget = shifted(a);
        viewTarget.addInPlace(sb, 0.3);
        assertThat(viewTarget.toFloatArray()).isEqualTo(a.clone().addInPlace(b, 0.3).toFloatArray());
        Tensor m1 = a.clone().update(UpdateOp.SCALE_ADD, b, null, 0.9, 0.1);
        Tensor m2 = shifted(a);
        m2.update(UpdateOp.SCALE_ADD, b, null, 0.9, 0.1);
        assertThat(m2.toFloatArray()).isEqualTo(m1.toFloatArray());
        Tensor p1 = a.clone().update(UpdateOp.ADD_PRODUCT, a, b, 0.5, 0).update(UpdateOp.ADD_QUOTIENT, a, b, 0.25, 0);
        Tensor p2 = a.clone().update(UpdateOp.ADD_PRODUCT, sa, sb, 0.5, 0).update(UpdateOp.ADD_QUOTIENT, sa, sb, 0.25, 0);
        assertThat(p2.toFloatArray()).isEqualTo(p1.toFloatArray());
    }

    @Test
    void aRowAppliedToEveryRowMatchesElementByElement() {
        Generator g = Generator.seeded(13);
        int rows = 300;
        int n = 257; // 77,100 elements: the parallel row path
        Tensor x = Tensor.randn(g, rows, n);
        Tensor row = Tensor.randn(g, n).add(0.1);
        float[] xv = x.toFloatArray();
        float[] rv = row.toFloatArray();
        Tensor shiftedX = shifted(x.reshape(rows * n)).reshape(rows, n);
        Tensor shiftedRow = shifted(row).reshape(1, n);
        List<java.util.function.BinaryOperator<Tensor>> ops = List.of(Tensor::add, Tensor::sub, Tensor::mul, Tensor::div,
                Tensor::maximum);
        for (int k = 0; k < ops.size(); k++) {
            float[] expected = new float[rows * n];
            for (int i = 0; i < rows * n; i++) {
                float a = xv[i];
                float b = rv[i % n];
                expected[i] = switch (k) {
                    case 0 -> a + b;
                    case 1 -> a - b;
                    case 2 -> a * b;
                    case 3 -> a / b;
                    default -> Math.max(a, b);
                };
            }
            assertThat(ops.get(k).apply(x, row).toFloatArray()).as("op %s", k).isEqualTo(expected);
            assertThat(ops.get(k).apply(shiftedX, shiftedRow).toFloatArray()).as("op %s on offset views", k)
                    .isEqualTo(expected);
        }
    }

    /** The strided in-place add a gradient sum uses gives dst + src's bits in any pair of layouts. */
    @Test
    void inPlaceAddsIntoPermutedLayoutsGiveTheSumsBits() {
        Generator g = Generator.seeded(5);
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor base = Tensor.randn(g, 3, 4, 5).to(dt);
            Tensor other = Tensor.randn(g, 3, 4, 5).to(dt);
            double[] want = base.add(other).toDoubleArray();
            int[][] perms = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {0, 2, 1}};
            for (int[] pd : perms) {
                for (int[] ps : perms) {
                    // dst laid out in permutation pd's memory order, src in ps's, both of logical shape [3, 4, 5]
                    Tensor dst = base.permute(pd).contiguous().clone().permute(inverse(pd));
                    Tensor src = other.permute(ps).contiguous().clone().permute(inverse(ps));
                    Elementwise.addInPlace(TensorInternals.view(src), TensorInternals.view(dst), 1);
                    assertThat(dst.toDoubleArray()).as("%s dst %s src %s", dt, java.util.Arrays.toString(pd),
                            java.util.Arrays.toString(ps)).containsExactly(want);
                }
            }
            Tensor window = Tensor.zeros(dt, 6, 5).t().slice(1, 1, 6, 2); // [5, 3], strides (1, 10)
            Elementwise.addInPlace(TensorInternals.view(other.select(1, 0).t()), TensorInternals.view(window), 1);
            assertThat(window.toDoubleArray()).containsExactly(other.select(1, 0).t().toDoubleArray());
        }
    }

    private static int[] inverse(int[] p) {
        int[] q = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            q[p[i]] = i;
        }
        return q;
    }
}
