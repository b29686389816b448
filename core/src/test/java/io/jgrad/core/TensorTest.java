package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.jgrad.core.backend.UpdateOp;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Creation, dtypes, views, shape errors and printing. */
class TensorTest {
    @Test
    void reviewedEdgesOfTheNewOps() {
        // norm's gradient is 0 where the norm is 0 (not NaN), and shared between tied largest values
        Tensor z = Tensor.zeros(DType.FLOAT64, 3).requiresGrad(true);
        z.norm().backward();
        assertThat(z.grad().toDoubleArray()).containsExactly(0, 0, 0);
        Tensor t = Tensor.of(new double[] {3, -3, 1}).requiresGrad(true);
        t.norm(Double.POSITIVE_INFINITY).backward();
        assertThat(t.grad().toDoubleArray()).containsExactly(0.5, -0.5, 0);
        assertThatThrownBy(() -> Tensor.zeros(DType.FLOAT64, 2, 3, 4).norm(Double.POSITIVE_INFINITY, new int[] {1, -2},
                false)).hasMessageContaining("norm: dim 1 appears twice");
        // cumsum's gradient is a running sum from the end: an infinite upstream value does not spread NaN
        Tensor c = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        Tensor g = Autograd.grad(c.cumsum(0).mul(Tensor.of(new double[] {1, Double.POSITIVE_INFINITY, 1})).sum(), c).get(0);
        assertThat(g.toDoubleArray()).containsExactly(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 1);
        // integers sort exactly beyond 2^53
        Tensor big = Tensor.of(new long[] {9007199254740993L, 9007199254740992L});
        assertThat(big.argsort(0, false).toLongArray()).containsExactly(1, 0);
        // einsum without a contraction is a broadcast product, for integers too
        Tensor a = Tensor.of(new long[] {1, 2, 3});
        assertThat(Tensor.einsum("i,i->", a, a).item()).isEqualTo(14.0);
        assertThat(Tensor.einsum("i,i->i", a, a).toLongArray()).containsExactly(1, 4, 9);
        assertThat(Tensor.einsum("i,j->ij", a, Tensor.of(new long[] {1, 10})).toLongArray()).containsExactly(1, 10, 2, 20, 3, 30);
    }

    @Test
    void einsumNamesWhatIsWrongWithAnEquation() {
        Tensor a = Tensor.zeros(DType.FLOAT64, 2, 3);
        Tensor b = Tensor.zeros(DType.FLOAT64, 4, 5);
        assertThatThrownBy(() -> Tensor.einsum("ij,jk->ik", a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2 operand terms for 1 tensors");
        assertThatThrownBy(() -> Tensor.einsum("ijk->i", a)).hasMessageContaining("term 'ijk' has 3 indices, operand 0 has rank 2");
        assertThatThrownBy(() -> Tensor.einsum("ij,jk->ik", a, b)).hasMessageContaining("index 'j' has size 3 in one place and 4");
        assertThatThrownBy(() -> Tensor.einsum("ii->i", Tensor.zeros(DType.FLOAT64, 2, 2)))
                .hasMessageContaining("repeats within term 'ii'");
        assertThatThrownBy(() -> Tensor.einsum("ij->z", a)).hasMessageContaining("output index 'z' appears in no operand");
        assertThat(Tensor.einsum("ij->", Tensor.ones(DType.FLOAT64, 2, 3)).item()).isEqualTo(6.0);
    }

    @Test
    void sortTopkCumsumRepeatNormAndLinspaceOnEdgesAndBadArguments() {
        Tensor x = Tensor.of(new double[] {3, 1, 2, 1});
        assertThat(x.sort(0, false).indices().toLongArray()).containsExactly(1, 3, 2, 0); // stable on ties
        assertThat(x.sort(0, true).indices().toLongArray()).containsExactly(0, 2, 1, 3);
        assertThat(x.topk(0, 0, true).values().shape().toArray()).containsExactly(0);
        assertThat(Tensor.of(new long[] {1, 2, 3}).cumsum(0).toLongArray()).containsExactly(1, 3, 6); // stays INT64
        Tensor big = Tensor.ones(DType.FLOAT32, 100_000).cumsum(0); // a long axis costs O(n)
        assertThat(big.toFloatArray()[99_999]).isEqualTo(100_000f);
        assertThat(Tensor.scalar(DType.FLOAT64, -2).norm().item()).isEqualTo(2.0);
        assertThat(Tensor.of(new double[] {3, -4}).norm().item()).isEqualTo(5.0);
        assertThat(Tensor.linspace(0, 1, 0).numel()).isZero();
        assertThat(Tensor.of(new double[] {1, 2}).repeat(0).numel()).isZero();
        assertThatThrownBy(() -> x.topk(5, 0, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("k = 5 is outside [0, 4]");
        assertThatThrownBy(() -> Tensor.zeros(DType.FLOAT32, 2, 3).repeat(2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 repeat counts for a tensor of rank 2");
        assertThatThrownBy(() -> x.norm(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("p must be > 0");
        assertThatThrownBy(() -> Tensor.linspace(0, 1, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Tensor.linspace(0, Double.NaN, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("finite");
        assertThatThrownBy(() -> x.cumsum(1)).isInstanceOf(RuntimeException.class).hasMessageContaining("cumsum");
    }

    @Test
    void wrapArraySharesTheArrayBothWays() {
        float[] a = {1, 2, 3, 4, 5, 6};
        Tensor t = Tensor.wrapArray(a, 2, 3);
        a[4] = 50; // a write to the array shows in the tensor
        assertThat(t.toFloatArray()).containsExactly(1, 2, 3, 4, 50, 6);
        t.narrow(0, 1, 1).view(3).copyFrom(Tensor.of(new float[] {7, 8, 9})); // an in-place op writes the array
        assertThat(a).containsExactly(1, 2, 3, 7, 8, 9);
        assertThat(Tensor.of(a, 2, 3).toFloatArray()).isEqualTo(a); // of() copies: later writes do not show
        double[] d = {1, 2};
        Tensor td = Tensor.wrapArray(d);
        td.mulInPlace(2);
        assertThat(d).containsExactly(2, 4);
        assertThatThrownBy(() -> Tensor.wrapArray(new float[5], 2, 3)).isInstanceOf(RuntimeException.class);
    }

    @Test
    void factoriesGiveShapesDtypesAndValues() {
        assertThat(Tensor.zeros(2, 3).shape().toArray()).containsExactly(2, 3);
        assertThat(Tensor.zeros(2, 3).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(Tensor.ones(DType.FLOAT64, 2).toDoubleArray()).containsExactly(1, 1);
        assertThat(Tensor.full(7.5, 2).toFloatArray()).containsExactly(7.5f, 7.5f);
        assertThat(Tensor.arange(4).toLongArray()).containsExactly(0, 1, 2, 3);
        assertThat(Tensor.arange(4).dtype()).isEqualTo(DType.INT64);
        assertThat(Tensor.arange(0, 1, 0.25).toFloatArray()).containsExactly(0f, 0.25f, 0.5f, 0.75f);
        assertThat(Tensor.eye(DType.FLOAT64, 2, 3).toDoubleArray()).containsExactly(1, 0, 0, 0, 1, 0);
        assertThat(Tensor.of(new int[] {3, 1}).dtype()).isEqualTo(DType.INT64);
        assertThat(Tensor.of(new double[][] {{1, 2}, {3, 4}}).get(1, 0)).isEqualTo(3.0);
        Tensor s = Tensor.scalar(2.5);
        assertThat(s.dim()).isZero();
        assertThat(s.numel()).isEqualTo(1);
        assertThat(s.item()).isEqualTo(2.5);
    }

    @Test
    void zeroSizeDimensionsWork() {
        Tensor e = Tensor.zeros(0, 3);
        assertThat(e.numel()).isZero();
        assertThat(e.sum().item()).isZero();
        assertThat(e.sum(0).shape().toArray()).containsExactly(3);
        assertThat(Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3)).toFloatArray()).containsOnly(0f).hasSize(6);
        assertThat(Tensor.cat(List.of(Tensor.ones(2, 1), Tensor.zeros(2, 0)), 1).shape().toArray()).containsExactly(2, 1);
        assertThat(e.add(Tensor.ones(3)).shape().toArray()).containsExactly(0, 3);
    }

    @Test
    void randomFactoriesAreSeededAndInRange() {
        Tensor a = Tensor.randn(Generator.seeded(7), 1000);
        Tensor b = Tensor.randn(Generator.seeded(7), 1000);
        assertThat(a.toFloatArray()).containsExactly(b.toFloatArray());
        assertThat(a.mean().item()).isCloseTo(0, within(0.1));
        assertThat(a.var().item()).isCloseTo(1, within(0.15));
        Tensor u = Tensor.uniform(Generator.seeded(1), -2, 3, 1000);
        assertThat(u.min().item()).isGreaterThanOrEqualTo(-2);
        assertThat(u.max().item()).isLessThan(3);
        Tensor r = Tensor.randint(Generator.seeded(1), 0, 10, 500);
        assertThat(r.min().item()).isEqualTo(0);
        assertThat(r.max().item()).isEqualTo(9);
    }

    @Test
    void ofRejectsAWrongCountAndRaggedRows() {
        assertThatThrownBy(() -> Tensor.of(new float[] {1, 2, 3}, 2, 2)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("3 values cannot fill shape [2, 2]");
        assertThatThrownBy(() -> Tensor.of(new double[][] {{1, 2}, {3}})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row 1 has 1 values");
    }

    @Test
    void shapesTooLargeForAJavaArrayFailBeforeAllocating() {
        assertThatThrownBy(() -> Tensor.zeros(50_000, 50_000)).isInstanceOf(TensorTooLargeException.class)
                .hasMessageContaining("[50000, 50000] has 2500000000 elements; limit is 2147483639");
        assertThatThrownBy(() -> Tensor.zeros(65_536, 65_536)).isInstanceOf(TensorTooLargeException.class);
        assertThatThrownBy(() -> Tensor.zeros(1 << 20, 1 << 20, 1 << 20, 1 << 20))
                .isInstanceOf(TensorTooLargeException.class);
        assertThatThrownBy(() -> Tensor.zeros(3, -1)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("negative dimension -1");
        assertThatThrownBy(() -> Tensor.zeros(new int[65])).isInstanceOf(ShapeException.class)
                .hasMessageContaining("has rank 65; limit is 64");
        assertThatThrownBy(() -> Tensor.ones(50_000, 1).matmul(Tensor.ones(1, 50_000)))
                .isInstanceOf(TensorTooLargeException.class);
        // a zero dimension makes a shape empty, however large (or overflowing) the product of the others
        assertThat(Tensor.zeros(1 << 20, 1 << 20, 1 << 20, 1 << 20, 0).numel()).isZero();
        assertThat(Tensor.zeros(0, 1 << 30, 1 << 30).numel()).isZero();
    }

    @Test
    void shapeErrorsNameTheOpAndEveryShape() {
        assertThatThrownBy(() -> Tensor.zeros(3, 4).add(Tensor.zeros(4, 3))).isInstanceOf(ShapeException.class)
                .hasMessage("add: cannot broadcast [3, 4] with [4, 3]: dim 0 is 3 vs 4");
        assertThatThrownBy(() -> Tensor.zeros(128, 784).matmul(Tensor.zeros(512, 10)))
                .isInstanceOf(ShapeException.class).hasMessage("matmul: inner dimensions differ: [128, 784] @ [512, 10]");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).sum(2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sum: dim 2 out of range [-2, 1]");
        assertThatThrownBy(() -> Tensor.zeros(3, 4).reshape(5, -1)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("[5, -1]").hasMessageContaining("[3, 4]");
        assertThatThrownBy(() -> Tensor.zeros(3, 4).narrow(1, 3, 2)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("[3, 5)").hasMessageContaining("size 4");
        assertThatThrownBy(() -> Tensor.cat(List.of(Tensor.zeros(2, 3), Tensor.zeros(3, 3)), 1))
                .isInstanceOf(ShapeException.class).hasMessageContaining("[2, 3], [3, 3]");
        assertThatThrownBy(() -> Tensor.zeros(3).expand(2, 4)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("cannot expand [3] to [2, 4]");
        assertThatThrownBy(() -> Tensor.zeros(3, 4).indexSelect(0, Tensor.of(new long[] {3})))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("index 3");
        assertThatThrownBy(() -> Tensor.zeros(3, 4).permute(0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("repeated");
        assertThatThrownBy(() -> Tensor.of(new long[] {1, 7}).oneHot(5)).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("class index 7 at position 1");
        assertThatThrownBy(() -> Tensor.zeros(2, 3).item()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("6 elements");
    }

    @Test
    void typePromotionFollowsPyTorch() {
        Tensor f = Tensor.ones(2);
        Tensor d = Tensor.ones(DType.FLOAT64, 2);
        Tensor i = Tensor.of(new long[] {4, 6});
        assertThat(f.add(d).dtype()).isEqualTo(DType.FLOAT64);
        assertThat(f.add(Tensor.scalar(DType.FLOAT64, 1)).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(i.add(f).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(i.add(1).dtype()).isEqualTo(DType.INT64);
        assertThat(i.add(0.5).dtype()).isEqualTo(DType.FLOAT32);
        assertThat(i.div(Tensor.of(new long[] {8, 4})).toFloatArray()).containsExactly(0.5f, 1.5f);
        assertThat(i.exp().dtype()).isEqualTo(DType.FLOAT32);
        assertThat(i.mean().dtype()).isEqualTo(DType.FLOAT32);
    }

    @Test
    void comparisonsGiveZerosAndOnesWithoutGradient() {
        Tensor x = Tensor.of(new double[] {-1, 0, 2}).requiresGrad(true);
        Tensor m = x.gt(0);
        assertThat(m.toDoubleArray()).containsExactly(0, 0, 1);
        assertThat(m.requiresGrad()).isFalse();
        assertThat(x.ge(0).toDoubleArray()).containsExactly(0, 1, 1);
        assertThat(x.lt(0).toDoubleArray()).containsExactly(1, 0, 0);
        assertThat(x.le(0).toDoubleArray()).containsExactly(1, 1, 0);
        assertThat(x.eq(2).toDoubleArray()).containsExactly(0, 0, 1);
        Tensor labels = Tensor.of(new long[] {1, 2, 3});
        assertThat(labels.eq(Tensor.of(new long[] {1, 0, 3})).sum().item()).isEqualTo(2);
        assertThat(Tensor.where(x.gt(0), x, Tensor.scalar(DType.FLOAT64, -5)).toDoubleArray())
                .containsExactly(-5, -5, 2);
    }

    @Test
    void viewsShareStorageAndVersion() {
        Tensor x = Tensor.arange(DType.FLOAT64, 0, 6, 1).reshape(2, 3);
        Tensor t = x.t();
        assertThat(t.isContiguous()).isFalse();
        assertThat(t.get(2, 1)).isEqualTo(5.0);
        x.fill(1);
        assertThat(t.get(2, 1)).isEqualTo(1.0);
        assertThat(t.version()).isEqualTo(1);
        Tensor col = x.select(1, 2);
        col.fill(9);
        assertThat(x.toDoubleArray()).containsExactly(1, 1, 9, 1, 1, 9);
        assertThat(x.expand(4, 2, 3).strides()).containsExactly(0, 3, 1);
        assertThat(x.slice(1, 0, 3, 2).toDoubleArray()).containsExactly(1, 9, 1, 9);
    }

    @Test
    void reductionsAndIndexResults() {
        Tensor x = Tensor.of(new double[] {3, 1, 4, 1, 5, 9}, 2, 3);
        Tensor.ValuesIndices mx = x.max(1, false);
        assertThat(mx.values().toDoubleArray()).containsExactly(4, 9);
        assertThat(mx.indices().toLongArray()).containsExactly(2, 2);
        assertThat(x.max(0, true).values().shape().toArray()).containsExactly(1, 3);
        assertThat(x.argmax().item()).isEqualTo(5);
        assertThat(x.argmin(1).toLongArray()).containsExactly(1, 0);
        assertThat(x.sum(new int[] {0, 1}, false).item()).isEqualTo(23);
        assertThat(x.mean(0).toDoubleArray()).containsExactly(2, 3, 6.5);
        assertThat(Tensor.of(new long[] {2, 0}).oneHot(3, DType.FLOAT32).toFloatArray())
                .containsExactly(0, 0, 1, 1, 0, 0);
        Tensor nan = Tensor.of(new double[] {1, Double.NaN, 3});
        assertThat(nan.max().item()).isNaN();
    }

    @Test
    void conversionsAndCopies() {
        Tensor x = Tensor.of(new double[] {1.7, -2.2});
        assertThat(x.to(DType.FLOAT32).toFloatArray()).containsExactly(1.7f, -2.2f);
        assertThat(x.to(DType.INT64).toLongArray()).containsExactly(1, -2);
        assertThat(x.to(DType.FLOAT64)).isSameAs(x);
        Tensor c = x.clone();
        c.fill(0);
        assertThat(x.toDoubleArray()).containsExactly(1.7, -2.2);
        assertThat(x.allClose(Tensor.of(new double[] {1.7 + 1e-9, -2.2}), 1e-6, 0)).isTrue();
        assertThat(x.allClose(Tensor.of(new double[] {1.8, -2.2}))).isFalse();
    }

    @Test
    void inPlaceUpdatesBumpTheVersion() {
        Tensor p = Tensor.ones(3);
        p.addInPlace(Tensor.full(2, 3), -0.5);
        p.mulInPlace(4);
        assertThat(p.toFloatArray()).containsExactly(0, 0, 0);
        assertThat(p.version()).isEqualTo(2);
        p.copyFrom(Tensor.scalar(3));
        assertThat(p.toFloatArray()).containsExactly(3, 3, 3);
        assertThatThrownBy(() -> p.copyFrom(Tensor.ones(2))).isInstanceOf(ShapeException.class);
        assertThatThrownBy(() -> p.addInPlace(Tensor.ones(2, 3))).isInstanceOf(ShapeException.class);
    }

    /** Expected strings printed by PyTorch 1.13 for the same tensors; jgrad appends shape and dtype. */
    @Test
    void toStringLaysOutValuesLikePyTorch() {
        assertThat(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).toString())
                .isEqualTo("tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)");
        assertThat(Tensor.of(new float[] {0.5f, -1.25f, 3f}).toString())
                .isEqualTo("tensor([ 0.5000, -1.2500,  3.0000], shape=[3], dtype=float32)");
        assertThat(Tensor.of(new float[] {1e-5f, 1f, 1000f}).toString())
                .isEqualTo("tensor([1.0000e-05, 1.0000e+00, 1.0000e+03], shape=[3], dtype=float32)");
        assertThat(Tensor.scalar(3.5).toString()).isEqualTo("tensor(3.5000, shape=[], dtype=float32)");
        assertThat(Tensor.arange(1, 9).reshape(2, 2, 2).toString())
                .isEqualTo("tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]], shape=[2, 2, 2], dtype=int64)");
        assertThat(Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1.5f}).toString())
                .isEqualTo("tensor([   nan,    inf, 1.5000], shape=[3], dtype=float32)");
        assertThat(Tensor.arange(0, 30, 1).div(7).toString()).isEqualTo("tensor([0.0000, 0.1429, 0.2857, 0.4286, "
                + "0.5714, 0.7143, 0.8571, 1.0000, 1.1429,\n        1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, "
                + "2.1429, 2.2857, 2.4286,\n        2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, "
                + "3.7143,\n        3.8571, 4.0000, 4.1429], shape=[30], dtype=float32)");
        String big = Tensor.arange(0, 2000, 1).reshape(40, 50).toString();
        assertThat(big).startsWith("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
                + "         4.9000e+01],\n        [5.0000e+01,");
        assertThat(big).contains("        ...,\n        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03,");
        assertThat(big).endsWith("1.9990e+03]], shape=[40, 50], dtype=float32)");
        Tensor g = Tensor.ones(DType.FLOAT64, 1).requiresGrad(true);
        assertThat(g.toString()).endsWith("dtype=float64, requiresGrad=true)");
        assertThat(g.mul(2).toString()).endsWith("gradFn=mul)");
    }

    @Test
    void scaleAddUpdateRoundsExactlyLikeItsTwoSteps() {
        Generator g = Generator.seeded(21);
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Tensor buf = Tensor.randn(g, dt, 1000);
            Tensor grad = Tensor.randn(g, dt, 1000);
            Tensor twoSteps = buf.clone().mulInPlace(0.9).addInPlace(grad, 0.3);
            int version = buf.version();
            assertThat(buf.update(UpdateOp.SCALE_ADD, grad, null, 0.9, 0.3).toDoubleArray())
                    .containsExactly(twoSteps.toDoubleArray());
            assertThat(buf.version()).isGreaterThan(version);
        }
        Tensor strided = Tensor.ones(4, 6).slice(1, 0, 6, 2);
        strided.update(UpdateOp.SCALE_ADD, Tensor.ones(4, 3), null, 2, -0.5);
        assertThat(strided.toDoubleArray()).containsOnly(1.5);
        assertThatThrownBy(() -> Tensor.ones(3).update(UpdateOp.SCALE_ADD, Tensor.ones(4), null, 1, 1))
                .isInstanceOf(ShapeException.class).hasMessageContaining("[4]").hasMessageContaining("[3]");
        assertThatThrownBy(() -> Tensor.ones(3).update(UpdateOp.ADD_PRODUCT, Tensor.ones(3), null, 1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs operand b");
    }


    @Test
    void splitChunkBmmViewAndMaskedFillFollowPyTorchAndNameBadArguments() {
        Tensor x = Tensor.arange(10).reshape(2, 5);
        assertThat(x.split(2, 1)).extracting(Tensor::shape).containsExactly(Shape.of(2, 2), Shape.of(2, 2), Shape.of(2, 1));
        assertThat(x.chunk(3, 1)).extracting(Tensor::shape).containsExactly(Shape.of(2, 2), Shape.of(2, 2), Shape.of(2, 1));
        assertThat(Tensor.zeros(6).chunk(4, 0)).as("PyTorch gives fewer chunks: ceil(6/4) = 2 each").hasSize(3);
        assertThat(x.split(2, 1).get(0).sharesStorage(x)).as("views, as in PyTorch").isTrue();
        assertThatThrownBy(() -> x.split(new int[] {2, 2}, 1)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("add up to 4, not dim 1's 5");
        assertThatThrownBy(() -> x.split(0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("split: size must be positive");
        assertThatThrownBy(() -> Tensor.ones(2, 3, 4).bmm(Tensor.ones(3, 4, 5))).isInstanceOf(ShapeException.class)
                .hasMessageContaining("bmm").hasMessageContaining("[2, 3, 4] @ [3, 4, 5]");
        assertThatThrownBy(() -> Tensor.ones(3, 4).t().view(12)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not contiguous");
        assertThatThrownBy(() -> Tensor.ones(3).maskedFill(Tensor.ones(2, 3), 0)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("mask [2, 3] does not broadcast to the tensor's [3]");
        assertThat(Tensor.of(new float[] {1, 2, 3}, 3).maskedFill(Tensor.of(new long[] {0, 1, 0}, 3),
                Double.NEGATIVE_INFINITY).toFloatArray()).containsExactly(1, Float.NEGATIVE_INFINITY, 3);
    }

    @Test
    void sumsUpdatesAndInPlaceAddsKeepTheirContracts() {
        // a 0-d tensor summed over its one allowed dim is itself, as in PyTorch
        assertThat(Tensor.scalar(3).sum(new int[] {0}, false).item()).isEqualTo(3);
        assertThat(Tensor.scalar(3).sum(new int[] {-1}, true).dim()).isZero();
        // several dims in one pass: element (i, j, k) is 12i + 4j + k, so each j sums to 60 + 32j
        Tensor x = Tensor.arange(24).reshape(2, 3, 4).to(DType.FLOAT64);
        assertThat(x.sum(new int[] {0, 2}, false).toDoubleArray()).containsExactly(60, 92, 124);
        assertThat(x.sum(new int[] {2, 0}, true).shape()).isEqualTo(Shape.of(1, 3, 1));
        // a strided input (copied first): element (k, j, i) of the transpose is 12i + 4j + k; over k, 48i + 16j + 6
        assertThat(x.transpose(0, 2).sum(new int[] {0}, false).toDoubleArray()).containsExactly(6, 54, 22, 70, 38, 86);
        assertThatThrownBy(() -> Tensor.ones(3).update(UpdateOp.CLAMP, null, null, 1, -1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("min 1.0 is above max -1.0");
        // an in-place add of another dtype adds in the promoted dtype, then converts (1 + 6.0000002 -> 7)
        Tensor ints = Tensor.of(new long[] {1, 2});
        ints.addInPlace(Tensor.of(new float[] {0.6f, 0.6f}, 2), 10);
        assertThat(ints.toLongArray()).containsExactly(7, 8);
        // an output too large for a Java array is refused before anything is allocated
        assertThatThrownBy(() -> Tensor.zeros(1, 1, 1, 1).im2col(Window2d.square(1, 1, 40_000, 1)))
                .isInstanceOf(TensorTooLargeException.class);
    }
}
