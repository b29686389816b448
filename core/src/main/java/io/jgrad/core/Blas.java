package io.jgrad.core;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Matrix products: every {@link Tensor#matmul}, linear layer and convolution ends in one call here.
 *
 * <p>Two BLAS libraries can do the work, chosen once when the first product runs:
 * <ul>
 *   <li>{@code openblas}: the machine's own OpenBLAS ({@code libopenblas.so.0}, Debian's
 *       {@code libopenblas0-pthread}), called through JNA. It has kernels for current CPUs
 *       (AVX-512), splits large products across {@link Parallel#threads()} threads and gives the
 *       same bits whatever that number is;
 *   <li>{@code jblas}: the OpenBLAS bundled inside jblas 1.2.5, which needs nothing installed
 *       but is older, runs one thread and is about half as fast on the same machine.
 * </ul>
 * The default ({@code auto}) takes the system OpenBLAS when it loads and jblas otherwise. The
 * system property {@code jgrad.blas} ({@code auto}, {@code openblas} or {@code jblas}) forces a
 * choice, and {@code jgrad.blas.library} names the OpenBLAS file to load. The two libraries
 * round differently (different kernels sum in a different order), so a seed reproduces a run
 * bit for bit only on the same library.
 *
 * <p>Row-major data is handed over without transposing copies: a {@link Tensor#transpose} view
 * is passed with the 'T' flag. Both paths copy the operands into native memory (Java arrays
 * cannot be handed to C in place); the system path copies only the window a view covers, into
 * native buffers it keeps, and skips the copy of an operand that has not changed since.
 *
 * <p>Concurrency: the OpenBLAS that jblas bundles is not safe for concurrent calls (two threads
 * multiplying their own, unshared arrays got wrong products in 8 of 207,000 calls at 64×784×512
 * on this project's machine), and the system path shares its native buffers. So every product
 * goes through one lock: several user threads sharing a model stay correct, and a large product
 * still uses all cores through jgrad's own threads.
 */
public final class Blas {
    private static final ReentrantLock LOCK = new ReentrantLock();
    /** Tests run every product through each backend in turn; null means the chosen one. */
    private static volatile Backend forced;

    private Blas() {}

    /** A BLAS library jgrad can call. */
    interface Backend {
        /** out[m, n] (contiguous, at outOffset) = op(a) · op(b); called under {@link #LOCK}. */
        void gemm(DType dtype, Operand a, Operand b, int m, int n, int k, Storage out, int outOffset);

        String description();
    }

    /**
     * How a 2-D view is handed to gemm: the row-major matrix at {@code offset} of {@code storage}
     * with leading dimension {@code ld}, {@code outer} rows of {@code inner} elements, used as is
     * ('N') or transposed ('T').
     */
    record Operand(Storage storage, int offset, int ld, int outer, int inner, char trans) {
        /** Elements from the first to the last one the view covers. */
        long span() {
            return outer == 0 || inner == 0 ? 0 : (long) (outer - 1) * ld + inner;
        }

        /** Whether both cover the same elements of the same storage (their 'N'/'T' flags may differ). */
        boolean sameWindow(Operand o) {
            return storage == o.storage && offset == o.offset && ld == o.ld && outer == o.outer && inner == o.inner;
        }
    }

    private static final class Chosen {
        static final Backend BACKEND = choose(System.getProperty("jgrad.blas", "auto"));
    }

    static Backend choose(String wanted) {
        switch (wanted) {
            case "jblas":
                return new JblasBackend();
            case "openblas":
                return SystemOpenBlas.load(System.getProperty("jgrad.blas.library"));
            case "auto":
                try {
                    return SystemOpenBlas.load(System.getProperty("jgrad.blas.library"));
                } catch (IllegalStateException | LinkageError e) {
                    return new JblasBackend();
                }
            default:
                throw new IllegalArgumentException(
                        "jgrad.blas must be auto, openblas or jblas, got '" + wanted + "'");
        }
    }

    /**
     * Which BLAS library does jgrad's matrix products, for logs and benchmark reports, e.g.
     * {@code "OpenBLAS 0.3.21 ... (system library libopenblas.so.0, 2 threads)"}.
     */
    public static String backend() {
        return Chosen.BACKEND.description();
    }

    /** Runs {@code body} with every product going through {@code backend} (for tests). */
    static <T> T with(Backend backend, java.util.function.Supplier<T> body) {
        LOCK.lock();
        try {
            forced = backend;
            return body.get();
        } finally {
            forced = null;
            LOCK.unlock();
        }
    }

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
        Backend backend = forced != null ? forced : Chosen.BACKEND;
        LOCK.lock();
        try {
            backend.gemm(out.dtype, pa, pb, m, n, k, out, outOffset);
        } finally {
            LOCK.unlock();
        }
    }

    private static Operand operand(Tensor t) {
        Operand op = operandLayout(t);
        if (op == null) {
            Tensor c = t.contiguousCopyNoGrad();
            return new Operand(c.storage, 0, Math.max(1, c.shape[1]), c.shape[0], c.shape[1], 'N');
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
            return new Operand(t.storage, t.offset, rows == 1 ? Math.max(1, cols) : s0, rows, cols, 'N');
        }
        if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= rows)) {
            return new Operand(t.storage, t.offset, cols == 1 ? Math.max(1, rows) : s1, cols, rows, 'T');
        }
        return null;
    }
}
