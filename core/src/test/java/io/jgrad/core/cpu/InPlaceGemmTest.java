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

    /** java.lang.foreign from JDK 22, pinned arrays before (jffi's stub ships for this platform). */
    @Test
    void theArraysAreUsedInPlaceThroughForeignFromJdk22AndPinnedBefore() {
        SystemOpenBlas lib = library();
        boolean foreign = Runtime.version().feature() >= 22
                && !"false".equalsIgnoreCase(System.getProperty("jgrad.blas.foreign"));
        Class<?> expected = foreign ? ForeignGemm.class : PinnedGemm.ENABLED ? PinnedGemm.class : null;
        assertThat(lib.inPlacePath() == null ? null : lib.inPlacePath().getClass())
                .as("JDK %s", Runtime.version()).isEqualTo(expected);
        assertThat(lib.description()).contains(foreign ? ", on Java arrays in place)" : ", on pinned Java arrays in place)");
        assertThat(lib.copying().inPlace()).isFalse();
    }

    /** Pinned arrays work on every JDK (on JDK 22+ they stand in where java.lang.foreign does not bind). */
    @Test
    void pinnedArraysBindOnEveryJdk() {
        assertThat(pinned()).isNotNull();
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
        Path file = library().file();
        Assumptions.assumeTrue(PinnedGemm.ENABLED, "-Djgrad.blas.pinned=false");
        return PinnedGemm.bind(file);
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
        SystemOpenBlas lib = library();
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
        // C (the second half) = A·Aᵀ with A the first half: written over the array A is read from
        lib.gemm(ScalarType.FLOAT32, new Blas.Operand(shared, 0, n, n, n, 'N'), new Blas.Operand(shared, 0, n, n, n, 'T'),
                n, n, n, shared, n * n);
        for (int i = 0; i < n * n; i++) {
            assertThat(shared.get(n * n + i)).isEqualTo(want.get(i));
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
