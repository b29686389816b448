package io.jgrad.core.cpu;

import java.util.function.Supplier;

/** What the product tests share: operands that only carry a layout (for the routing rules), and a run on a given thread count. */
final class GemmFixtures {
    private GemmFixtures() {}

    private static final ArrayStorage FOUR = ArrayStorage.wrap(CpuBackend.INSTANCE, new float[4]);
    /** A 2×2 operand as stored ('N'), for rules that look only at the layout. */
    static final Blas.Operand STORED = new Blas.Operand(FOUR, 0, 2, 2, 2, 'N');
    /** The same read transposed ('T'). */
    static final Blas.Operand TRANSPOSED = new Blas.Operand(FOUR, 0, 2, 2, 2, 'T');

    /** body's result with jgrad's threads set to {@code threads}, then set back. */
    static <T> T onThreads(int threads, Supplier<T> body) {
        int before = Parallel.threads();
        try {
            Parallel.setThreads(threads);
            return body.get();
        } finally {
            Parallel.setThreads(before);
        }
    }
}
