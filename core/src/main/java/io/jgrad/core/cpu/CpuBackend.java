package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.Backend;
import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.Storage;
import io.jgrad.core.backend.UpdateOp;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;
import java.util.Arrays;

/**
 * jgrad's CPU backend: Java arrays ({@link ArrayStorage}), loops the JIT vectorizes or explicitly
 * vectorized ones ({@link Simd}), large elementwise results fused and computed when first read
 * ({@link Fused}), matrix products on the machine's OpenBLAS, jblas's or jgrad's own
 * ({@link Blas}), and large kernels split across {@link Parallel#threads()} threads in fixed
 * blocks, so that results do not depend on the thread count.
 *
 * <p>The in-place kernels ({@link #fill}, {@link #copy}, {@link #addInPlace}, {@link #update}) are
 * the only ones that write into an existing storage; each first computes the deferred results
 * that read it ({@link ArrayStorage#beforeWrite()}).
 */
public final class CpuBackend implements Backend {
    /** The one instance. */
    public static final CpuBackend INSTANCE = new CpuBackend();

    static {
        Blas.chooseEarly(); // the product library loads while the program goes on to its first product
    }

    private CpuBackend() {}

    /**
     * {@code dst[at + i] = (src[from + i] & 0xFF)·scale − shift} for i below n, in float (a multiply,
     * then a subtract): image bytes to normalised network inputs, for the data loaders. In 8-lane
     * vectors where the Vector API runs (once the warm-up has seen them compiled, as {@link
     * SimdKernels#floatMath}), a plain loop otherwise; the same bits either way.
     *
     * @throws IndexOutOfBoundsException if a range falls outside its array
     */
    public static void scaleBytes(byte[] src, int from, float[] dst, int at, int n, float scale, float shift) {
        java.util.Objects.checkFromIndexSize(from, n, src.length);
        java.util.Objects.checkFromIndexSize(at, n, dst.length);
        int done = Simd.ENABLED && Simd.bytesReady() ? SimdKernels.scaleBytesLoop(src, from, dst, at, n, scale, shift) : 0;
        for (int i = done; i < n; i++) {
            dst[at + i] = (src[from + i] & 0xFF) * scale - shift;
        }
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu: " + Parallel.threads() + " threads, vectorized kernels " + Simd.describe() + ", products: "
                + Blas.backend();
    }

    /** Chooses and loads the matrix-product library on a thread of its own ({@link Blas#chooseEarly}). */
    @Override
    public void prepare() {
        Blas.chooseEarly();
    }

    @Override
    public Storage allocate(ScalarType type, int length) {
        return ArrayStorage.allocate(this, type, length);
    }

    @Override
    public Storage wrap(float[] values) {
        return ArrayStorage.wrap(this, values);
    }

    @Override
    public Storage wrap(double[] values) {
        return ArrayStorage.wrap(this, values);
    }

    @Override
    public Storage wrap(long[] values) {
        return ArrayStorage.wrap(this, values);
    }

    /**
     * Runs {@code body} on {@link Parallel#helper()}'s thread when there are two or more threads
     * ({@link Parallel#threads()}) and the product library takes concurrent calls (the system
     * OpenBLAS and the pure-Java products do, jblas's does not); null otherwise. The helper's
     * products and loops are cut exactly as on the caller's thread, so the bits are the same.
     */
    @Override
    public <T> java.util.concurrent.Future<T> offload(java.util.function.Supplier<T> body) {
        if (Parallel.threads() < 2 || !Blas.concurrent()) {
            return null;
        }
        return Parallel.helper().submit(body::get);
    }

    /**
     * Puts the array of {@code s} in this thread's {@link ArrayPool} for the next allocation of its
     * size, unless its values are still to be computed (deferred) or a deferred result that reads
     * it is: that expression still needs the values.
     */
    @Override
    public void release(Storage s) {
        if (s instanceof ArrayStorage a && a.backend() == this && !a.isDeferred() && !a.hasPendingDependents()) {
            a.recycle();
        }
    }

    @Override
    public float[] toFloatArray(View v) {
        return Views.toFloatArray(v);
    }

    @Override
    public double[] toDoubleArray(View v) {
        return Views.toDoubleArray(v);
    }

    @Override
    public long[] toLongArray(View v) {
        return Views.toLongArray(v);
    }

    /** Whether a whole FLOAT32 zero fill is deferred ({@link ArrayStorage#zeroLater}); off only to measure it. */
    static volatile boolean zeroLater = true;

    @Override
    public void fill(View dst, double value) {
        ArrayStorage s = st(dst);
        // +0 only (a -0 fill must write -0), over the whole of an array this storage allocated itself
        if (zeroLater && Double.doubleToRawLongBits(value) == 0L && dst.type() == ScalarType.FLOAT32 && dst.offset() == 0
                && dst.numel() == s.length() && dst.isContiguous() && s.mayZeroLater()) {
            s.zeroLater(); // a whole gradient zeroed between steps: written when next read, or overwritten
            return;
        }
        s.beforeWrite();
        if (dst.isContiguous()) {
            s.fill(dst.offset(), dst.offset() + dst.numel(), value);
        } else {
            ArrayStorage one = ArrayStorage.allocate(dst.type(), 1);
            one.set(0, value);
            Elementwise.copy(new View(one, 0, new int[0], new int[0]), dst);
        }
    }

    @Override
    public void copy(View src, View dst) {
        ArrayStorage d = st(dst);
        d.beforeWrite();
        ArrayStorage s = st(src);
        if (src.type() == dst.type() && dst.isContiguous() && src.isContiguous() && Arrays.equals(src.shape(), dst.shape())) {
            int n = dst.numel();
            switch (dst.type()) { // the optimizers' case: no strided walk
                case FLOAT32 -> System.arraycopy(s.f(), src.offset(), d.f(), dst.offset(), n);
                case FLOAT64 -> System.arraycopy(s.d, src.offset(), d.d, dst.offset(), n);
                case INT64 -> System.arraycopy(s.l, src.offset(), d.l, dst.offset(), n);
            }
            return;
        }
        Elementwise.copy(src, dst);
    }

    @Override
    public Storage unary(ElementwiseOp op, View x, double p, double q) {
        return Elementwise.unary(op, x, p, q).storage();
    }

    @Override
    public Storage binary(ElementwiseOp op, View a, View b, int[] shape) {
        return Elementwise.binary(op, a, b, shape).storage();
    }

    @Override
    public Storage where(View cond, View a, View b, int[] shape) {
        return Elementwise.where(cond, a, b, shape).storage();
    }

    @Override
    public void addInPlace(View dst, View src, double alpha) {
        ArrayStorage d = st(dst);
        ArrayStorage s = st(src);
        int n = dst.numel();
        boolean dense = dst.type() == ScalarType.FLOAT32 && src.type() == ScalarType.FLOAT32 && dst.isContiguous()
                && src.isContiguous() && Arrays.equals(dst.shape(), src.shape());
        if (dense && d.zeroPending() && dst.offset() == 0 && n == d.length() && s.pending() == null) {
            // a zeroed gradient's first term: 0 + alpha·src, the bits of adding into zeros, without the zeros
            float[] b = s.f();
            float[] a = d.overwriteAll();
            float al = (float) alpha;
            int bo = src.offset();
            Parallel.forRange(n, Elementwise.GRAIN, (from, to) -> {
                if (bo == 0) { // one index for both arrays: the form C2 vectorizes
                    for (int i = from; i < to; i++) {
                        a[i] = 0f + al * b[i];
                    }
                } else {
                    for (int i = from; i < to; i++) {
                        a[i] = 0f + al * b[i + bo];
                    }
                }
            });
            return;
        }
        d.beforeWrite();
        if (dense) {
            float[] a = d.f();
            float al = (float) alpha;
            Fused deferred = s.pending();
            if (deferred != null && src.offset() == 0 && n == s.length() && deferred.addInto(a, dst.offset(), al, n)) {
                return; // a gradient in flight, added without storing it
            }
            float[] b = s.f();
            int bo = src.offset() - dst.offset();
            int start = dst.offset();
            Parallel.forRange(n, Elementwise.GRAIN, (from, to) -> {
                if (bo == 0) { // one index for both arrays: C2 vectorizes this form only (see Elementwise)
                    for (int i = start + from, end = start + to; i < end; i++) {
                        a[i] += al * b[i];
                    }
                } else {
                    for (int i = start + from, end = start + to; i < end; i++) {
                        a[i] += al * b[i + bo];
                    }
                }
            });
            return;
        }
        Elementwise.addInPlace(src, dst, alpha);
    }

    @Override
    public void update(UpdateOp op, View x, View a, View b, double alpha, double beta) {
        st(x).beforeWrite();
        Updates.apply(op, x, a, b, alpha, beta);
    }

    @Override
    public boolean allFinite(View x) {
        if (!x.type().isFloatingPoint()) {
            return true;
        }
        View c = Views.contiguous(x);
        ArrayStorage s = st(c);
        int end = c.offset() + c.numel();
        if (c.type() == ScalarType.FLOAT32) {
            float[] f = s.f();
            for (int i = c.offset(); i < end; i++) {
                if (!Float.isFinite(f[i])) {
                    return false;
                }
            }
            return true;
        }
        for (int i = c.offset(); i < end; i++) {
            if (!Double.isFinite(s.d[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Storage sum(View x, int[] dims) {
        return Reduce.sum(x, dims).storage();
    }

    @Override
    public Storage[] extreme(View x, int dim, boolean max) {
        return storages(Reduce.extreme(x, dim, max));
    }

    @Override
    public Storage cumsum(View x, int dim, boolean reverse) {
        return Reduce.cumsum(x, dim, reverse).storage();
    }

    @Override
    public Storage argsort(View x, int dim, boolean descending) {
        return Reduce.argsort(x, dim, descending).storage();
    }

    @Override
    public Storage softmax(View x, int dim, boolean log) {
        return Reduce.softmax(x, dim, log).storage();
    }

    @Override
    public Storage matmul(View a, View b, int[] shape) {
        return MatMul.forward(a, b, shape).storage();
    }

    /** Writes the products straight into a contiguous {@code out}; any other layout goes through a copy. */
    @Override
    public void matmulInto(View a, View b, View out) {
        if (!out.isContiguous()) {
            Backend.super.matmulInto(a, b, out);
            return;
        }
        st(out).beforeWrite(); // deferred values that read out see its old ones
        MatMul.into(a, b, out);
    }

    @Override
    public Storage im2col(View x, Window w, double pad) {
        return Im2col.forward(x, w, pad).storage();
    }

    @Override
    public Storage col2im(View cols, int[] imageShape, Window w) {
        return Im2col.backward(cols, imageShape, w).storage();
    }

    @Override
    public Storage conv2d(View x, View weight, View bias, Window w) {
        return Conv.forward(x, weight, bias, w).storage();
    }

    @Override
    public Storage[] conv2dBackward(View dOut, View x, View weight, Window w, boolean input, boolean weights,
                                    boolean bias) {
        return storages(Conv.backward(dOut, x, weight, w, input, weights, bias));
    }

    @Override
    public Storage[] maxPool2d(View x, Window w) {
        return storages(Pool.maxForward(x, w));
    }

    @Override
    public Storage maxPool2dBackward(View dOut, View indices, int[] inputShape) {
        return Pool.maxBackward(dOut, indices, inputShape).storage();
    }

    @Override
    public Storage[] lstmCell(View gates, View c) {
        return storages(Cells.lstm(gates, c));
    }

    @Override
    public Storage[] lstmCellBackward(View dh, View dc, View acts, View tanhC, View c) {
        return storages(Cells.lstmBackward(dh, dc, acts, tanhC, c));
    }

    @Override
    public Storage[] lstmSequence(View ih, View h0, View c0, View whh, View bhh) {
        return storages(Cells.lstmSequence(ih, h0, c0, whh, bhh));
    }

    @Override
    public Storage[] lstmSequenceBackward(View dOut, View acts, View cs, View tanhs, View c0, View whh) {
        return storages(Cells.lstmSequenceBackward(dOut, acts, cs, tanhs, c0, whh));
    }

    @Override
    public Storage indexSelect(View x, int dim, View index) {
        return Indexing.indexSelect(x, dim, index).storage();
    }

    @Override
    public Storage indexAdd(View self, int dim, View index, View src) {
        return Indexing.indexAdd(self, dim, index, src).storage();
    }

    @Override
    public Storage gather(View x, int dim, View index) {
        return Indexing.gather(x, dim, index).storage();
    }

    @Override
    public Storage scatterAdd(View self, int dim, View index, View src) {
        return Indexing.scatterAdd(self, dim, index, src).storage();
    }

    @Override
    public Storage oneHot(View labels, int classes, ScalarType type) {
        return Indexing.oneHot(labels, classes, type).storage();
    }

    private static Storage[] storages(View[] views) {
        Storage[] out = new Storage[views.length];
        for (int i = 0; i < views.length; i++) {
            out[i] = views[i] == null ? null : views[i].storage();
        }
        return out;
    }

    @Override
    public String toString() {
        return name();
    }
}
