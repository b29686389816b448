package io.jgrad.core;

import org.jblas.NativeBlas;

/**
 * Matrix products through jblas's bundled OpenBLAS.
 *
 * <p>jblas is column-major and row-major data is the column-major view of its transpose, so the
 * row-major product C = A·B is the column-major product Cᵀ = Bᵀ·Aᵀ: one gemm call with the
 * operands swapped. A transposed operand (a {@link Tensor#transpose} view) is passed with the
 * 'T' flag instead of being copied.
 *
 * <p>jblas's JNI layer copies each whole Java array into native memory on every call, so an
 * operand that is a small window of a much larger array is first copied out, and large
 * products are split by rows into two calls that run on two threads (the split depends only on
 * the problem size, so results do not depend on the thread count). Concurrent calls are safe
 * with the OpenBLAS that jblas 1.2.5 bundles: its buffer allocator ({@code blas_memory_alloc})
 * takes a lock ({@code alloc_lock}, seen in its disassembly), and {@code ParallelTest} stresses it.
 */
final class Blas {
    /** Products with at least this many multiply-adds are split in two row blocks. */
    static final long SPLIT_FLOPS = 1L << 22;

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
        if ((long) m * n * k >= SPLIT_FLOPS && m >= 16) {
            int half = m / 2;
            Tensor bc = packIfNeeded(b);
            Storage top = Storage.allocate(out.dtype, half * n);
            Storage bottom = Storage.allocate(out.dtype, (m - half) * n);
            Tensor aTop = a.narrowNoGrad(0, 0, half);
            Tensor aBottom = a.narrowNoGrad(0, half, m - half);
            Parallel.invokeAll(() -> gemmDirect(aTop, bc, top, 0), () -> gemmDirect(aBottom, bc, bottom, 0));
            copyInto(top, out, outOffset, half * n);
            copyInto(bottom, out, outOffset + half * n, (m - half) * n);
            return;
        }
        if (out.length() > 2L * m * n + 4096) {
            Storage tmp = Storage.allocate(out.dtype, m * n); // JNI would copy the whole output array: use a small one
            gemmDirect(a, b, tmp, 0);
            copyInto(tmp, out, outOffset, m * n);
            return;
        }
        gemmDirect(a, b, out, outOffset);
    }

    private static void copyInto(Storage src, Storage dst, int at, int n) {
        switch (dst.dtype) {
            case FLOAT32 -> System.arraycopy(src.f, 0, dst.f, at, n);
            case FLOAT64 -> System.arraycopy(src.d, 0, dst.d, at, n);
            default -> throw new IllegalStateException("gemm on " + dst.dtype);
        }
    }

    private static void gemmDirect(Tensor a, Tensor b, Storage out, int outOffset) {
        int m = a.shape[0];
        int k = a.shape[1];
        int n = b.shape[1];
        Operand pa = operand(a);
        Operand pb = operand(b);
        if (out.dtype == DType.FLOAT32) {
            NativeBlas.sgemm(pb.trans, pa.trans, n, m, k, 1f, pb.storage.f, pb.offset, pb.ld,
                    pa.storage.f, pa.offset, pa.ld, 0f, out.f, outOffset, n);
        } else {
            NativeBlas.dgemm(pb.trans, pa.trans, n, m, k, 1.0, pb.storage.d, pb.offset, pb.ld,
                    pa.storage.d, pa.offset, pa.ld, 0.0, out.d, outOffset, n);
        }
    }

    private static Tensor packIfNeeded(Tensor t) {
        return operandLayout(t) == null || isSmallWindow(t) ? t.contiguousCopyNoGrad() : t;
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
