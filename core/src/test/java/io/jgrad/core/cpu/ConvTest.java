package io.jgrad.core.cpu;



import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.*;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Tensor#conv2d}'s own kernels (channel-major columns, one product, scatter with bias)
 * against the same convolution written with im2col and matmul, in both float types, for
 * windows with stride, padding, dilation and non-square kernels, values and gradients.
 */
class ConvTest {
    static Stream<Arguments> cases() {
        return shapes().flatMap(a -> BlasBackends.names().stream().map(b -> Arguments.of(b, a.get()[0], a.get()[1],
                a.get()[2], a.get()[3])));
    }

    static Stream<String> backends() {
        return BlasBackends.names().stream();
    }

    private static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(new int[] {2, 3, 7, 6}, 4, Window2d.square(3, 1, 0, 1), true),
                Arguments.of(new int[] {3, 2, 8, 9}, 5, Window2d.square(3, 2, 1, 1), true),
                Arguments.of(new int[] {1, 2, 9, 7}, 3, new Window2d(2, 3, 2, 1, 1, 0, 1, 2), false),
                Arguments.of(new int[] {2, 1, 5, 5}, 2, new Window2d(3, 2, 1, 3, 2, 2, 2, 1), true),
                Arguments.of(new int[] {2, 4, 3, 3}, 3, Window2d.square(1, 1, 0, 1), true),
                Arguments.of(new int[] {3, 2, 6, 5}, 2, new Window2d(3, 3, 1, 2, 2, 1, 1, 1), true),
                Arguments.of(new int[] {130, 1, 28, 28}, 8, Window2d.square(3, 1, 0, 1), true)); // split products
    }

    /** The convolution as im2col + matmul + transpose + bias (the layer's former path). */
    private static Tensor composite(Tensor x, Tensor w, Tensor b, Window2d win) {
        int n = x.size(0);
        int oh = win.outH(x.size(2));
        int ow = win.outW(x.size(3));
        int o = w.size(0);
        Tensor cols = x.im2col(win).reshape(n * oh * ow, -1);
        Tensor y = cols.matmul(w.reshape(o, -1).t()).reshape(n, oh * ow, o).transpose(1, 2).reshape(n, o, oh, ow);
        return b == null ? y : y.add(b.reshape(o, 1, 1));
    }

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @MethodSource("cases")
    void matchesTheCompositeInValuesAndGradients(String backend, int[] xs, int o, Window2d win, boolean bias) {
        long chunk = Conv.chunkBytes;
        BlasBackends.run(backend, () -> {
            try {
                // one chunk, then chunks of one image, then of a few (the last one shorter)
                for (long bytes : new long[] {chunk, 1, 5000}) {
                    Conv.chunkBytes = bytes;
                    checkAgainstComposite(xs, o, win, bias);
                }
            } finally {
                Conv.chunkBytes = chunk;
            }
        });
    }

    private static void checkAgainstComposite(int[] xs, int o, Window2d win, boolean bias) {
        for (DType dt : List.of(DType.FLOAT64, DType.FLOAT32)) {
            Generator g = Generator.seeded(7);
            Tensor x = Tensor.randn(g, xs).to(dt).requiresGrad(true);
            Tensor w = Tensor.randn(g, o, xs[1], win.kernelH(), win.kernelW()).to(dt).requiresGrad(true);
            Tensor b = bias ? Tensor.randn(g, o).to(dt).requiresGrad(true) : null;
            Tensor y = x.conv2d(w, b, win);
            Tensor ref = composite(x, w, b, win);
            double tol = dt == DType.FLOAT64 ? 1e-12 : 1e-4;
            assertThat(y.shape()).isEqualTo(ref.shape());
            assertThat(y.allClose(ref, tol, tol)).as("forward %s", dt).isTrue();
            Tensor up = Tensor.randn(g, ref.shape().toArray()).to(dt);
            List<Tensor> inputs = b == null ? List.of(x, w) : List.of(x, w, b);
            List<Tensor> mine = Autograd.grad(List.of(y.mul(up).sum()), inputs, Autograd.Options.DEFAULT);
            List<Tensor> theirs = Autograd.grad(List.of(ref.mul(up).sum()), inputs, Autograd.Options.DEFAULT);
            for (int i = 0; i < inputs.size(); i++) {
                assertThat(mine.get(i).allClose(theirs.get(i), tol * 10, tol * 10)).as("gradient %s of %s", i, dt).isTrue();
            }
        }
    }

    @Test
    void theWeightGradientAloneMatchesTheFullBackward() {
        // only w requires grad, so backward skips the input's and the bias's gradients; the
        // weight's must be what it is when all three are computed
        Window2d win = Window2d.square(3, 1, 1, 1);
        Tensor x = Tensor.randn(Generator.seeded(1), 2, 3, 5, 5);
        Tensor w = Tensor.randn(Generator.seeded(2), 4, 3, 3, 3).requiresGrad(true);
        Tensor b = Tensor.randn(Generator.seeded(3), 4);
        List<Tensor> gw = Autograd.grad(x.conv2d(w, b, win).sum(), w);
        assertThat(gw.get(0).shape().toArray()).containsExactly(4, 3, 3, 3);
        Tensor xg = x.detach().requiresGrad(true);
        Tensor bg = b.detach().requiresGrad(true);
        List<Tensor> all = Autograd.grad(List.of(xg.conv2d(w, bg, win).sum()), List.of(xg, w, bg), Autograd.Options.DEFAULT);
        assertThat(gw.get(0).toFloatArray()).isEqualTo(all.get(1).toFloatArray());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void theSameBitsWithOneThreadOrTwo(String backend) {
        BlasBackends.run(backend, ConvTest::sameBitsWithOneThreadOrTwo);
    }

    private static void sameBitsWithOneThreadOrTwo() {
        Tensor x = Tensor.randn(Generator.seeded(4), 64, 3, 20, 20).requiresGrad(true);
        Tensor w = Tensor.randn(Generator.seeded(5), 16, 3, 3, 3).requiresGrad(true);
        Tensor b = Tensor.randn(Generator.seeded(6), 16).requiresGrad(true);
        float[][] runs = new float[2][];
        float[][] grads = new float[2][];
        int before = Parallel.threads();
        try {
            for (int t = 1; t <= 2; t++) {
                Parallel.setThreads(t);
                x.setGrad(null);
                w.setGrad(null);
                b.setGrad(null);
                Tensor y = x.conv2d(w, b, Window2d.square(3, 1, 1, 1));
                y.square().sum().backward();
                runs[t - 1] = y.toFloatArray();
                grads[t - 1] = concat(x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray());
            }
        } finally {
            Parallel.setThreads(before);
        }
        assertThat(runs[1]).isEqualTo(runs[0]);
        assertThat(grads[1]).isEqualTo(grads[0]);
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * conv → relu → max pool, as in a CNN: relu's backward reaches the convolution deferred, and
     * backward gathers it straight from the expression. The gradients must be those of the same
     * network with fusion off (relu's gradient computed first), bit for bit.
     */
    @Test
    void aDeferredGradientIsGatheredAsIfItHadBeenComputed() {
        boolean before = Fused.enabled;
        float[][] grads = new float[2][];
        try {
            for (int run = 0; run < 2; run++) {
                Fused.enabled = run == 0;
                Generator g = Generator.seeded(12);
                Tensor x = Tensor.randn(g, 8, 3, 30, 30).requiresGrad(true);
                Tensor w = Tensor.randn(g, 8, 3, 3, 3).requiresGrad(true);
                Tensor b = Tensor.randn(g, 8).requiresGrad(true);
                Tensor y = x.conv2d(w, b, Window2d.square(3, 1, 0, 1)).relu().maxPool2d(Window2d.square(2, 2, 0, 1));
                y.mul(Tensor.randn(g, y.shape().toArray())).sum().backward();
                grads[run] = concat(x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray());
            }
        } finally {
            Fused.enabled = before;
        }
        assertThat(grads[0]).isEqualTo(grads[1]);
    }

    /** A chunk's width (images × output plane) is a multiple of 16 wherever a whole number of images allows it. */
    @Test
    void chunksAreWholeImagesWithWidthsInSixteens() {
        long chunk = Conv.chunkBytes;
        try {
            Conv.chunkBytes = 4L << 20;
            // W3's second convolution: 121 outputs per image, 30 images would fit 4 MB: 16 are taken
            Conv.Geometry g = new Conv.Geometry(128, 32, 13, 13, 64, new io.jgrad.core.backend.Window(3, 3, 1, 1, 0, 0, 1, 1));
            assertThat(g.imagesPerChunk(4)).isEqualTo(16);
            // its first: 676 = 4·169 outputs, 48 images fit and 48·676 is a multiple of 16 already
            Conv.Geometry first = new Conv.Geometry(128, 1, 28, 28, 32, new io.jgrad.core.backend.Window(3, 3, 1, 1, 0, 0, 1, 1));
            assertThat(first.imagesPerChunk(4)).isEqualTo(48);
            // fewer images than 16 in the batch: all of them, whatever the width
            assertThat(new Conv.Geometry(5, 32, 13, 13, 64, new io.jgrad.core.backend.Window(3, 3, 1, 1, 0, 0, 1, 1)).imagesPerChunk(4))
                    .isEqualTo(5);
            // a chunk too small for 16 images keeps what fits
            Conv.chunkBytes = 3 * 288 * 121 * 4;
            assertThat(g.imagesPerChunk(4)).isEqualTo(3);
        } finally {
            Conv.chunkBytes = chunk;
        }
    }

    /**
     * Chunks handed whole to the threads: W3's first convolution 8 images (1 MB of columns and
     * product), its second the 16 its width in sixteens needs (2.7 MB, within the 4 MB cap); none
     * where the batch makes only one chunk or the smallest chunk is over the cap.
     */
    @Test
    void smallConvolutionsGoToTheThreadsInWholeChunks() {
        io.jgrad.core.backend.Window k3 = new io.jgrad.core.backend.Window(3, 3, 1, 1, 0, 0, 1, 1);
        assertThat(new Conv.Geometry(128, 1, 28, 28, 32, k3).imagesPerTaskChunk(4)).isEqualTo(8);
        assertThat(new Conv.Geometry(128, 32, 13, 13, 64, k3).imagesPerTaskChunk(4)).isEqualTo(16);
        assertThat(new Conv.Geometry(16, 32, 13, 13, 64, k3).imagesPerTaskChunk(4)).as("one chunk").isZero();
        assertThat(new Conv.Geometry(128, 256, 13, 13, 64, k3).imagesPerTaskChunk(4)).as("over the cap").isZero();
        // a 1x1 convolution of 2,048 channels on 1x1 images: 64-image chunks would fit, but 16 chunks'
        // shares of a 4M-element dW would not (backward keeps them until all are done)
        io.jgrad.core.backend.Window k1 = new io.jgrad.core.backend.Window(1, 1, 1, 1, 0, 0, 1, 1);
        assertThat(new Conv.Geometry(1024, 2048, 1, 1, 2048, k1).imagesPerTaskChunk(4)).as("shares").isZero();
        assertThat(new Conv.Geometry(4096, 64, 1, 1, 64, k1).imagesPerTaskChunk(4)).as("small shares").isEqualTo(2048);
    }

    @Test
    void zeroSizedBatchesChannelsAndFiltersWork() {
        Window2d win = Window2d.square(3, 1, 1, 1);
        Tensor noImages = Tensor.zeros(DType.FLOAT32, new int[] {0, 2, 4, 4}).requiresGrad(true);
        Tensor w = Tensor.ones(DType.FLOAT32, new int[] {3, 2, 3, 3}).requiresGrad(true);
        Tensor y = noImages.conv2d(w, null, win);
        assertThat(y.shape().toArray()).containsExactly(0, 3, 4, 4);
        y.sum().backward();
        assertThat(w.grad().toDoubleArray()).containsOnly(0.0);

        Tensor noChannels = Tensor.zeros(DType.FLOAT32, new int[] {2, 0, 4, 4});
        Tensor b = Tensor.of(new float[] {1, 2, 3});
        Tensor z = noChannels.conv2d(Tensor.zeros(DType.FLOAT32, new int[] {3, 0, 3, 3}), b, win);
        assertThat(z.shape().toArray()).containsExactly(2, 3, 4, 4);
        assertThat(z.select(1, 2).toDoubleArray()).containsOnly(3.0); // only the bias

        Tensor noFilters = Tensor.ones(DType.FLOAT32, new int[] {2, 2, 4, 4})
                .conv2d(Tensor.zeros(DType.FLOAT32, new int[] {0, 2, 3, 3}), null, win);
        assertThat(noFilters.shape().toArray()).containsExactly(2, 0, 4, 4);
    }

    @Test
    void badShapesAndDtypesAreNamed() {
        Tensor x = Tensor.zeros(DType.FLOAT32, new int[] {1, 3, 5, 5});
        Window2d win = Window2d.square(3, 1, 0, 1);
        assertThatThrownBy(() -> x.conv2d(Tensor.zeros(DType.FLOAT32, new int[] {4, 2, 3, 3}), null, win))
                .isInstanceOf(ShapeException.class).hasMessageContaining("[1, 3, 5, 5]").hasMessageContaining("[4, 2, 3, 3]");
        assertThatThrownBy(() -> x.conv2d(Tensor.zeros(DType.FLOAT32, new int[] {4, 3, 2, 2}), null, win))
                .isInstanceOf(ShapeException.class).hasMessageContaining("kernel 3x3");
        assertThatThrownBy(() -> x.conv2d(Tensor.zeros(DType.FLOAT32, new int[] {4, 3, 3, 3}),
                Tensor.zeros(DType.FLOAT32, new int[] {5}), win)).isInstanceOf(ShapeException.class)
                .hasMessageContaining("bias [5]");
        assertThatThrownBy(() -> x.conv2d(Tensor.zeros(DType.FLOAT64, new int[] {4, 3, 3, 3}), null, win))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float32").hasMessageContaining("float64");
        assertThatThrownBy(() -> Tensor.zeros(DType.FLOAT32, new int[] {1, 3, 2, 2})
                .conv2d(Tensor.zeros(DType.FLOAT32, new int[] {4, 3, 3, 3}), null, win))
                .isInstanceOf(ShapeException.class).hasMessageContaining("smaller than the dilated kernel");
    }

    @Test
    void aGradientOfAnotherDtypeReachesTheConvolutionsBackwardConverted() {
        Generator g = Generator.seeded(31);
        Tensor x = Tensor.randn(g, 1, 2, 4, 4).requiresGrad(true);
        Tensor w = Tensor.randn(g, 3, 2, 3, 3).requiresGrad(true);
        Tensor y = x.conv2d(w, null, Window2d.square(3, 1, 1, 1));
        List<Tensor> same = Autograd.grad(List.of(y), List.of(x, w), List.of(Tensor.ones(y.shape())),
                Autograd.Options.createGraph());
        List<Tensor> wide = Autograd.grad(List.of(y), List.of(x, w),
                List.of(Tensor.ones(DType.FLOAT64, y.shape())), Autograd.Options.createGraph());
        for (int i = 0; i < 2; i++) {
            assertThat(wide.get(i).dtype()).isEqualTo(DType.FLOAT32);
            assertThat(wide.get(i).toFloatArray()).containsExactly(same.get(i).toFloatArray());
        }
        // and the gradient's own gradient runs through the recorded backward ops
        Tensor gg = Autograd.grad(List.of(wide.get(0).square().sum()), List.of(w), Autograd.Options.DEFAULT).get(0);
        assertThat(gg.shape()).isEqualTo(w.shape());
        assertThat(gg.allFinite()).isTrue();
    }
}
