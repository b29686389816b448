package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.backend.ScalarType;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The system OpenBLAS called on Java arrays in place ({@link ForeignGemm} on JDK 22+,
 * {@link PinnedGemm} on any JDK) against the same library on copies in native memory: the same bits
 * for every layout, window and thread count. CI runs this class on a JDK 25 too, where the machine
 * has one, so both in-place paths are checked.
 */
class InPlaceGemmTest {
    private static SystemOpenBlas library() {
        Blas.Backend b = BlasBackends.get("openblas");
        assertThat(b).isInstanceOf(SystemOpenBlas.class);
        return (SystemOpenBlas) b;
    }

    /** java.lang.foreign from JDK 22; before, pinned arrays when asked for (-Djgrad.blas.pinned=true), else copies. */
    @Test
    void theArraysAreUsedInPlaceThroughForeignFromJdk22AndPinnedBeforeWhenAsked() {
        SystemOpenBlas lib = library();
        boolean foreign = Runtime.version().feature() >= 22
                && !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.foreign"));
        Class<?> expected = foreign ? ForeignGemm.class : PinnedGemm.ENABLED ? PinnedGemm.class : null;
        assertThat(lib.inPlacePath() == null ? null : lib.inPlacePath().getClass())
                .as("JDK %s", Runtime.version()).isEqualTo(expected);
        if (expected == null) {
            assertThat(lib.description()).doesNotContain("in place");
        } else {
            assertThat(lib.description()).contains(foreign ? ", on Java arrays in place)" : ", on pinned Java arrays in place)");
        }
        assertThat(lib.copying().inPlace()).isFalse();
    }

    /** Pinned arrays bind on every JDK, whether or not jgrad uses them by default. */
    @Test
    void pinnedArraysBindOnEveryJdk() {
        assertThat(pinned()).isNotNull();
    }

    /** A library without cblas_sgemm (the C library) is refused at binding, not at the first product. */
    @Test
    void aLibraryWithoutGemmDoesNotBind() {
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        Assumptions.assumeTrue(java.nio.file.Files.exists(libc), "no glibc at " + libc);
        assertThat(PinnedGemm.bind(libc)).isNull();
    }

    /** The calls reach the in-place path (not the copies), except for arrays it cannot reach. */
    @Test
    void productsGoThroughTheInPlacePathUnlessItCannotReachTheArrays() {
        PinnedGemm p = pinned();
        int[] calls = new int[1];
        boolean[] reach = {true};
        InPlaceGemm counting = new InPlaceGemm() {
            @Override
            public void sgemm(int transA, int transB, int m, int n, int k, float alpha, float[] a, int aOffset,
                    int lda, float[] b, int bOffset, int ldb, float beta, float[] c, int cOffset, int ldc) {
                calls[0]++;
                p.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            }

            @Override
            public void dgemm(int transA, int transB, int m, int n, int k, double alpha, double[] a, int aOffset,
                    int lda, double[] b, int bOffset, int ldb, double beta, double[] c, int cOffset, int ldc) {
                calls[0]++;
                p.dgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
            }

            @Override
            public boolean reaches(int elements, int elementBytes) {
                return reach[0];
            }

            @Override
            public String how() {
                return "counted";
            }
        };
        SystemOpenBlas lib = library().using(counting);
        Random r = new Random(5);
        Blas.Operand a = window(r, ScalarType.FLOAT32, 64, 32, 'N');
        Blas.Operand b = window(r, ScalarType.FLOAT32, 32, 48, 'N');
        ArrayStorage want = ArrayStorage.allocate(ScalarType.FLOAT32, 64 * 48);
        library().copying().gemm(ScalarType.FLOAT32, a, b, 64, 48, 32, want, 0);
        ArrayStorage got = ArrayStorage.allocate(ScalarType.FLOAT32, 64 * 48);
        lib.gemm(ScalarType.FLOAT32, a, b, 64, 48, 32, got, 0);
        assertThat(calls[0]).isPositive();
        reach[0] = false;
        int before = calls[0];
        ArrayStorage viaCopies = ArrayStorage.allocate(ScalarType.FLOAT32, 64 * 48);
        lib.gemm(ScalarType.FLOAT32, a, b, 64, 48, 32, viaCopies, 0);
        assertThat(calls[0]).isEqualTo(before);
        for (int i = 0; i < 64 * 48; i++) {
            assertThat(got.get(i)).isEqualTo(want.get(i));
            assertThat(viaCopies.get(i)).isEqualTo(want.get(i));
        }
    }

    /** Two storages over one array alias as one storage does: the product goes through copies, right. */
    @Test
    void anOutputOverAnOperandsArrayGoesThroughCopies() {
        SystemOpenBlas lib = library().using(pinned());
        int n = 32;
        float[] values = new float[2 * n * n];
        Random r = new Random(6);
        for (int i = 0; i < values.length; i++) {
            values[i] = r.nextFloat() - 0.5f;
        }
        ArrayStorage apart = ArrayStorage.wrap(CpuBackend.INSTANCE, values.clone());
        ArrayStorage want = ArrayStorage.allocate(ScalarType.FLOAT32, n * n);
        lib.copying().gemm(ScalarType.FLOAT32, new Blas.Operand(apart, 0, n, n, n, 'N'),
                new Blas.Operand(apart, 0, n, n, n, 'T'), n, n, n, want, 0);
        ArrayStorage read = ArrayStorage.wrap(CpuBackend.INSTANCE, values);
        ArrayStorage written = ArrayStorage.wrap(CpuBackend.INSTANCE, values); // another storage, the same array
        // C over A itself: in place, the library would read elements of A it had already overwritten
        lib.gemm(ScalarType.FLOAT32, new Blas.Operand(read, 0, n, n, n, 'N'), new Blas.Operand(read, 0, n, n, n, 'T'),
                n, n, n, written, 0);
        for (int i = 0; i < n * n; i++) {
            assertThat((double) values[i]).isEqualTo(want.get(i));
        }
    }

    @Test
    void foreignGivesTheCopyingPathsBits() {
        SystemOpenBlas lib = library();
        Assumptions.assumeTrue(lib.inPlacePath() instanceof ForeignGemm, "java.lang.foreign needs JDK 22 or later");
        sameBitsAsCopies(lib);
    }

    @Test
    void pinnedArraysGiveTheCopyingPathsBits() {
        sameBitsAsCopies(library().using(pinned()));
    }

    /** jffi counts a pinned array's offset in bytes: arrays beyond 2 GiB are not passed that way. */
    @Test
    void pinnedArraysOfMoreThanTwoGibGoThroughCopies() {
        PinnedGemm p = pinned();
        assertThat(p.reaches(Integer.MAX_VALUE / 4, 4)).isTrue();
        assertThat(p.reaches(Integer.MAX_VALUE / 4 + 1, 4)).isFalse();
        assertThat(p.reaches(Integer.MAX_VALUE / 8 + 1, 8)).isFalse();
    }

    private static PinnedGemm pinned() {
        PinnedGemm p = PinnedGemm.bind(library().file());
        assertThat(p).as("jffi's stub and the check at binding").isNotNull();
        return p;
    }

    /** A product of two windows of larger arrays, both flags, on both paths: the same bits. */
    private static void sameBitsAsCopies(SystemOpenBlas lib) {
        assertThat(lib.inPlace()).isTrue();
        SystemOpenBlas copying = lib.copying();
        Random r = new Random(3);
        int[][] shapes = {{3, 4, 5}, {37, 29, 53}, {300, 200, 100}, {128, 784, 512}, {64, 512, 256}, {512, 512, 512}};
        for (int[] s : shapes) {
            int m = s[0];
            int k = s[1];
            int n = s[2];
            for (char ta : new char[] {'N', 'T'}) {
                for (char tb : new char[] {'N', 'T'}) {
                    for (ScalarType dt : new ScalarType[] {ScalarType.FLOAT32, ScalarType.FLOAT64}) {
                        // operands inside larger arrays: an offset and a leading dimension wider than the rows
                        Blas.Operand a = window(r, dt, ta == 'N' ? m : k, ta == 'N' ? k : m, ta);
                        Blas.Operand b = window(r, dt, tb == 'N' ? k : n, tb == 'N' ? n : k, tb);
                        int at = 7;
                        ArrayStorage viaCopies = ArrayStorage.allocate(dt, at + m * n);
                        ArrayStorage inPlace = ArrayStorage.allocate(dt, at + m * n);
                        copying.gemm(dt, a, b, m, n, k, viaCopies, at);
                        for (int threads : new int[] {1, 2}) {
                            GemmFixtures.onThreads(threads, () -> {
                                inPlace.fill(0, at + m * n, Double.NaN);
                                lib.gemm(dt, a, b, m, n, k, inPlace, at);
                                return null;
                            });
                            for (int i = 0; i < at + m * n; i++) {
                                double want = i < at ? Double.NaN : viaCopies.get(i);
                                double got = inPlace.get(i);
                                if (Double.doubleToRawLongBits(got) != Double.doubleToRawLongBits(want)) {
                                    throw new AssertionError(String.format("%dx%dx%d %c%c %s, %d thread(s): element %d is %s, "
                                            + "on copies %s", m, k, n, ta, tb, dt, threads, i, got, want));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** An output that is also an operand is computed from copies (in place it would read what it wrote). */
    @Test
    void anOutputThatIsAnOperandGoesThroughCopies() {
        SystemOpenBlas lib = library().inPlace() ? library() : library().using(pinned());
        Random r = new Random(4);
        int n = 48;
        float[] values = new float[2 * n * n];
        for (int i = 0; i < values.length; i++) {
            values[i] = r.nextFloat() - 0.5f;
        }
        ArrayStorage shared = ArrayStorage.wrap(CpuBackend.INSTANCE, values.clone());
        ArrayStorage apart = ArrayStorage.wrap(CpuBackend.INSTANCE, values.clone());
        ArrayStorage want = ArrayStorage.allocate(ScalarType.FLOAT32, n * n);
        lib.copying().gemm(ScalarType.FLOAT32, new Blas.Operand(apart, 0, n, n, n, 'N'),
                new Blas.Operand(apart, 0, n, n, n, 'T'), n, n, n, want, 0);
        // C = A·Aᵀ written over A itself (the first half): in place it would read what it had written
        lib.gemm(ScalarType.FLOAT32, new Blas.Operand(shared, 0, n, n, n, 'N'), new Blas.Operand(shared, 0, n, n, n, 'T'),
                n, n, n, shared, 0);
        for (int i = 0; i < n * n; i++) {
            assertThat(shared.get(i)).isEqualTo(want.get(i));
        }
    }

    /** A critical call holds off safepoints: only pieces of a few milliseconds are called in place. */
    @Test
    void onlyPiecesOfBoundedWorkAreCalledInPlace() {
        SystemOpenBlas lib = library();
        assertThat(lib.pieceFlops(1024, 1024, 1024)).isLessThanOrEqualTo(SystemOpenBlas.MAX_IN_PLACE_FLOPS);
        assertThat(lib.pieceFlops(128, 784, 512)).isLessThanOrEqualTo(SystemOpenBlas.MAX_IN_PLACE_FLOPS);
        assertThat(lib.pieceFlops(4096, 4096, 4096)).isGreaterThan(SystemOpenBlas.MAX_IN_PLACE_FLOPS);
    }

    @Test
    void onlyDeepEnoughProductsLeaveTheTilesForTheLibrary() {
        assertThat(Blas.libraryFaster(512, 784, 128)).as("k = 128").isFalse();
        assertThat(Blas.libraryFaster(16, 16, 1024)).as("under 16 MFLOP").isFalse();
        Blas.Backend chosen = Blas.choose("auto", null).backend();
        boolean inPlaceWide = chosen instanceof SystemOpenBlas s && s.inPlace() && s.wideKernels();
        assertThat(Blas.libraryFaster(128, 512, 784)).isEqualTo(inPlaceWide);
    }

    private static Blas.Operand window(Random r, ScalarType dt, int rows, int cols, char trans) {
        int ld = cols + 3;
        int offset = 5;
        int size = offset + rows * ld;
        ArrayStorage s = ArrayStorage.allocate(dt, size);
        for (int i = 0; i < size; i++) {
            s.set(i, r.nextGaussian());
        }
        return new Blas.Operand(s, offset, ld, rows, cols, trans);
    }
}
