package io.jgrad.core.cpu;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import org.jblas.NativeBlas;

/**
 * Products through the OpenBLAS bundled in jblas 1.2.5 (column-major). Row-major data is the
 * column-major view of its transpose, so C = A·B is computed as Cᵀ = Bᵀ·Aᵀ: one gemm with the
 * operands swapped. jblas's JNI layer copies each whole Java array into native memory and back
 * on every call, so an operand or output that is a small window of a much larger array is
 * copied out first.
 */
final class JblasBackend implements Blas.Backend {
    private JblasBackend() {}

    /**
     * Loads jblas's native library and checks that it runs a product.
     *
     * @throws IllegalStateException saying why it cannot run here (for example "libgfortran.so.5
     *     missing")
     */
    static JblasBackend load() {
        OpenBlasCoreType.beforeLoading(true);
        org.jblas.util.Logger log = org.jblas.util.Logger.getLogger();
        log.setLevel(org.jblas.util.Logger.ERROR + 1); // its loader prints each failed attempt; jgrad reports why once
        try {
            NativeBlas.dgemm('N', 'N', 1, 1, 1, 1.0, new double[] {2}, 0, 1, new double[] {3}, 0, 1, 0.0,
                    new double[1], 0, 1);
        } catch (LinkageError e) {
            throw new IllegalStateException(whyNot(e), e);
        } finally {
            log.setLevel(org.jblas.util.Logger.WARNING); // a library stays quiet but for problems
        }
        return new JblasBackend();
    }

    /** Why jblas's native library did not load, as precisely as this machine can tell. */
    private static String whyNot(LinkageError e) {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (os.startsWith("Mac") && arch.equals("aarch64")) {
            return "jblas 1.2.5 has no native library for macOS on arm64";
        }
        if (os.equals("Linux") && !loads("libgfortran.so.5")) {
            return "its native library needs libgfortran.so.5, which is missing (Debian/Ubuntu: libgfortran5)";
        }
        return "its native library does not load (" + e + ")";
    }

    private static boolean loads(String library) {
        try {
            com.sun.jna.NativeLibrary.getInstance(library);
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    @Override
    public String description() {
        return "jblas 1.2.5 (bundled OpenBLAS, 1 thread)";
    }

    @Override
    public void gemm(ScalarType dtype, Blas.Operand a, Blas.Operand b, int m, int n, int k, ArrayStorage out, int outOffset) {
        Blas.Operand pa = compact(a);
        Blas.Operand pb = compact(b);
        ArrayStorage target = out.length() > 2L * m * n + 4096 ? ArrayStorage.allocate(dtype, m * n) : out;
        int at = target == out ? outOffset : 0;
        if (dtype == ScalarType.FLOAT32) {
            NativeBlas.sgemm(pb.trans(), pa.trans(), n, m, k, 1f, pb.storage().f(), pb.offset(), pb.ld(),
                    pa.storage().f(), pa.offset(), pa.ld(), 0f, target.f(), at, n);
        } else {
            NativeBlas.dgemm(pb.trans(), pa.trans(), n, m, k, 1.0, pb.storage().d, pb.offset(), pb.ld(),
                    pa.storage().d, pa.offset(), pa.ld(), 0.0, target.d, at, n);
        }
        if (target != out) {
            if (dtype == ScalarType.FLOAT32) {
                System.arraycopy(target.f(), 0, out.f(), outOffset, m * n);
            } else {
                System.arraycopy(target.d, 0, out.d, outOffset, m * n);
            }
        }
    }

    /** The operand itself, or a packed copy of it when it is a small window of a large array. */
    private static Blas.Operand compact(Blas.Operand op) {
        long size = (long) op.outer() * op.inner();
        if (op.storage().length() <= 2 * size + 4096) {
            return op;
        }
        ArrayStorage packed = ArrayStorage.allocate(op.storage().type(), (int) size);
        for (int r = 0; r < op.outer(); r++) {
            int from = op.offset() + r * op.ld();
            if (packed.type() == ScalarType.FLOAT32) {
                System.arraycopy(op.storage().f(), from, packed.f(), r * op.inner(), op.inner());
            } else {
                System.arraycopy(op.storage().d, from, packed.d, r * op.inner(), op.inner());
            }
        }
        return new Blas.Operand(packed, 0, Math.max(1, op.inner()), op.outer(), op.inner(), op.trans());
    }
}
