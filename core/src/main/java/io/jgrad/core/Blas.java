package io.jgrad.core;

import org.jblas.NativeBlas;

/**
 * Matrix products through jblas's bundled OpenBLAS.
 *
 * <p>jblas is column-major and row-major data is the column-major view of its transpose, so the
 * row-major product C = A·B is the column-major product Cᵀ = Bᵀ·Aᵀ: one gemm call with the
 * operands swapped. A transposed operand (a {@link Tensor#transpose} view) is passed with the
 * 'T' flag instead of being copied. jblas's JNI layer copies each whole Java array into native
 * memory on every call, so an operand that is a small window of a much larger array is copied
 * out first.
 *
 * <p>Concurrency: the OpenBLAS that jblas 1.2.5 bundles is not safe for concurrent calls. Two
 * threads multiplying their own, unshared arrays got wrong products (every element off) in 8
 * of 207,000 calls at 64×784×512 on this project's machine. So every call goes through one
 * lock, products are not split across threads, and several user threads sharing a model stay correct.
 */
final class Blas {
    private static final java.util.concurrent.locks.ReentrantLock LOCK = new java.util.concurrent.locks.ReentrantLock();

    static {
        // jblas logs native-library housekeeping at INFO to the console; a library must stay quiet
        org.jblas.util.Logger.getLogger().setLevel(org.jblas.util.Logger.WARNING);
    }

    private Blas() {}

    /** How a 2-D view is handed to gemm: array, offset, leading dimension and 'N' (row-major) or 'T'. */
    private record Operand(Storage storage, int offset, int ld, char trans) {}

    /** out[m, n] (contiguous, at outOffset of out's storage) = a[m, k] · b[k, n] for 2-D views a and b. */
    static void gemm(Tensor a, Tensor b, Storage out, int outOffset) {
        int m = a.shape[0];
        int k = a.shape[1];
        int n = b.shape[1];
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            out.fill(outOffset, outOffset + m * n, 0);
            return;
        }
        Operand pa = operand(a);
        Operand pb = operand(b);
        Storage target = out.length() > 2L * m * n + 4096 ? Storage.allocate(out.dtype, m * n) : out;
        int at = target == out ? outOffset : 0; // JNI would copy a large output array whole: use a small one
        LOCK.lock();
        try {
            if (out.dtype == DType.FLOAT32) {
                NativeBlas.sgemm(pb.trans, pa.trans, n, m, k, 1f, pb.storage.f, pb.offset, pb.ld,
                        pa.storage.f, pa.offset, pa.ld, 0f, target.f, at, n);
            } else {
                NativeBlas.dgemm(pb.trans, pa.trans, n, m, k, 1.0, pb.storage.d, pb.offset, pb.ld,
                        pa.storage.d, pa.offset, pa.ld, 0.0, target.d, at, n);
            }
        } finally {
            LOCK.unlock();
        }
        if (target != out) {
            copyInto(target, out, outOffset, m * n);
        }
    }

    private static void copyInto(Storage src, Storage dst, int at, int n) {
        switch (dst.dtype) {
            case FLOAT32 -> System.arraycopy(src.f, 0, dst.f, at, n);
            case FLOAT64 -> System.arraycopy(src.d, 0, dst.d, at, n);
            default -> throw new IllegalStateException("gemm on " + dst.dtype);
        }
    }

    private static boolean isSmallWindow(Tensor t) {
        return t.storage.length() > 2L * t.numel() + 4096; // JNI would copy the whole array: copy the window instead
    }

    private static Operand operand(Tensor t) {
        Operand op = isSmallWindow(t) ? null : operandLayout(t);
        if (op == null) {
            Tensor c = t.contiguousCopyNoGrad();
            return new Operand(c.storage, 0, Math.max(1, c.shape[1]), 'N');
        }
        return op;
    }

    /** The gemm description of a 2-D view, or null if it is neither row- nor column-major. */
    private static Operand operandLayout(Tensor t) {
        int rows = t.shape[0];
        int cols = t.shape[1];
        int s0 = t.strides[0];
        int s1 = t.strides[1];
        if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= cols)) {
            return new Operand(t.storage, t.offset, rows == 1 ? Math.max(1, cols) : s0, 'N');
        }
        if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= rows)) {
            return new Operand(t.storage, t.offset, cols == 1 ? Math.max(1, rows) : s1, 'T');
        }
        return null;
    }
}
