package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.*;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.UpdateOp;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * matmul against a plain triple loop, through every layout path (transposed views, windows,
 * batches, products split into blocks), on each BLAS library jgrad can use.
 */
class MatMulTest {
    static List<String> backends() {
        return BlasBackends.names();
    }

    private static double[] naive(Tensor a, Tensor b) {
        return JavaGemmTest.reference(a, b);
    }

    private static void assertClose(double[] actual, double[] expected, double tol) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < actual.length; i++) {
            assertThat(Math.abs(actual[i] - expected[i])).as("element %s", i)
                    .isLessThanOrEqualTo(tol * Math.max(1, Math.abs(expected[i])));
        }
    }

    private static void assertProduct(Tensor a, Tensor b, double tol) {
        assertClose(a.matmul(b).toDoubleArray(), naive(a, b), tol);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void transposedOperandsUseTheRightLayout(String name) {
        BlasBackends.with(name, () -> {
            Generator g = Generator.seeded(5);
            Tensor a = Tensor.randn(g, DType.FLOAT64, 7, 5);
            Tensor b = Tensor.randn(g, DType.FLOAT64, 6, 7);
            assertProduct(a.t(), b.t(), 1e-12);
            assertProduct(a.t(), a, 1e-12);
            Tensor window = Tensor.randn(g, DType.FLOAT64, 50, 40).narrow(0, 10, 3).narrow(1, 5, 7);
            assertProduct(window, a, 1e-12);
            Tensor strided = Tensor.randn(g, DType.FLOAT64, 7, 12).slice(1, 0, 12, 2);
            assertProduct(strided.t(), strided, 1e-12);
            assertProduct(Tensor.randn(g, DType.FLOAT64, 1, 7), a, 1e-12);
            assertProduct(a.t(), Tensor.randn(g, DType.FLOAT64, 7, 1), 1e-12);
            return null;
        });
    }

    @ParameterizedTest
    @MethodSource("backends")
    void largeProductsAreRightWhereverTheyAreCut(String name) {
        BlasBackends.with(name, () -> {
            Generator g = Generator.seeded(6);
            Tensor a = Tensor.randn(g, DType.FLOAT64, 300, 200);
            Tensor b = Tensor.randn(g, DType.FLOAT64, 200, 100);
            assertProduct(a, b, 1e-12); // cut into row blocks 160, 140
            assertClose(a.to(DType.FLOAT32).matmul(b.to(DType.FLOAT32)).toDoubleArray(), naive(a, b), 1e-4);
            Tensor wide = Tensor.randn(g, DType.FLOAT64, 333, 200);
            Tensor rows = Tensor.randn(g, DType.FLOAT64, 90, 200);
            assertProduct(rows, wide.t(), 1e-12); // column blocks of a transposed right operand
            assertProduct(wide, rows.t(), 1e-12); // row blocks
            assertProduct(a.t().t(), b, 1e-12);
            Tensor at = Tensor.randn(g, DType.FLOAT64, 200, 300);
            assertProduct(at.t(), b, 1e-12); // row blocks of a transposed left operand
            Tensor big = Tensor.randn(g, DType.FLOAT64, 400, 600);
            Tensor window = big.narrow(0, 5, 300).narrow(1, 17, 200); // rows far apart: copied row by row
            assertProduct(window, b, 1e-12);
            assertProduct(b.t(), window.t(), 1e-12);
            return null;
        });
    }

    @ParameterizedTest
    @MethodSource("backends")
    void batchedProductsBroadcastBatchDims(String name) {
        BlasBackends.with(name, () -> {
            Generator g = Generator.seeded(7);
            Tensor a = Tensor.randn(g, DType.FLOAT64, 2, 1, 3, 4);
            Tensor b = Tensor.randn(g, DType.FLOAT64, 5, 4, 2);
            Tensor c = a.matmul(b);
            assertThat(c.shape().toArray()).containsExactly(2, 5, 3, 2);
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 5; j++) {
                    Tensor ai = a.select(0, i).select(0, 0);
                    Tensor bj = b.select(0, j);
                    assertClose(c.select(0, i).select(0, j).toDoubleArray(), naive(ai, bj), 1e-12);
                }
            }
            Tensor shared = Tensor.randn(g, DType.FLOAT64, 4, 2);
            Tensor folded = a.matmul(shared);
            assertThat(folded.shape().toArray()).containsExactly(2, 1, 3, 2);
            assertClose(folded.reshape(6, 2).toDoubleArray(), naive(a.reshape(6, 4), shared), 1e-12);
            return null;
        });
    }

    @ParameterizedTest
    @MethodSource("backends")
    void emptyAndZeroInnerProducts(String name) {
        BlasBackends.with(name, () -> {
            assertThat(Tensor.ones(3, 0).matmul(Tensor.ones(0, 4)).toDoubleArray()).containsOnly(0).hasSize(12);
            assertThat(Tensor.ones(0, 5).matmul(Tensor.ones(5, 4)).shape().toArray()).containsExactly(0, 4);
            return null;
        });
    }

    /** The system path reuses native copies of unchanged operands: every kind of in-place write must invalidate them. */
    @ParameterizedTest
    @MethodSource("backends")
    void operandsChangedInPlaceAreCopiedAgain(String name) {
        BlasBackends.with(name, () -> {
            Generator g = Generator.seeded(8);
            Tensor a = Tensor.randn(g, DType.FLOAT64, 40, 30);
            Tensor b = Tensor.randn(g, DType.FLOAT64, 30, 20);
            Tensor other = Tensor.randn(g, DType.FLOAT64, 30, 20);
            List<java.util.function.Consumer<Tensor>> writes = List.of(
                    t -> t.addInPlace(other, 0.5), t -> t.mulInPlace(-2), t -> t.fill(0.25), t -> t.copyFrom(other),
                    t -> t.update(UpdateOp.SCALE_ADD, other, null, 0.9, 0.1), t -> t.update(UpdateOp.ADD_SCALAR, null, null, 1.5, 0),
                    t -> t.update(UpdateOp.ADD_PRODUCT, other, other, 0.3, 0), t -> t.narrow(0, 3, 5).fill(7));
            for (var write : writes) {
                assertProduct(a, b, 1e-12);       // copies b
                assertProduct(a, b.t().t(), 1e-12);
                write.accept(b);
                assertProduct(a, b, 1e-12);       // must see the new values
                assertProduct(b.t(), a.t(), 1e-12);
            }
            Tensor big = Tensor.randn(g, DType.FLOAT64, 60, 30);
            assertProduct(big.narrow(0, 0, 30).t(), b, 1e-12);
            assertProduct(big.narrow(0, 30, 30).t(), b, 1e-12); // same storage, another window
            Tensor leaf = Tensor.randn(g, DType.FLOAT64, 30, 20).requiresGrad(true);
            GradCheck.Report report = GradCheck.check(xs -> a.matmul(xs.get(0)).sum(), leaf); // writes inputs raw
            assertThat(report.passed()).as(report.detail()).isTrue();
            return null;
        });
    }

    @org.junit.jupiter.api.Test
    void largeProductsAreCutIntoFixedBlocksOfSixteens() {
        assertThat(SystemOpenBlas.chunkLength(300, 2.0 * 300 * 200 * 100)).isEqualTo(160); // 2 pieces: 160, 140
        assertThat(SystemOpenBlas.chunkLength(512, 2.0 * 128 * 784 * 512)).isEqualTo(256);
        assertThat(SystemOpenBlas.chunkLength(512, 2.0 * 512 * 512 * 512)).isEqualTo(128); // 4 pieces
        assertThat(SystemOpenBlas.chunkLength(1000, 1e12)).isEqualTo(256); // at most 4 pieces
        assertThat(SystemOpenBlas.chunkLength(300, 1e6)).isEqualTo(300); // small: one call
        assertThat(SystemOpenBlas.chunkLength(20, 1e9)).isEqualTo(20); // too thin to cut
        // with AVX-512 kernels on two cores, at most two pieces
        assertThat(SystemOpenBlas.chunkLength(1024, 2.0 * 1024 * 1024 * 1024, 2)).isEqualTo(512);
        assertThat(SystemOpenBlas.chunkLength(512, 2.0 * 512 * 512 * 512, 2)).isEqualTo(256);
    }

    @org.junit.jupiter.api.Test
    void badSettingsAreNamedAndListTheChoices() {
        assertThatThrownBy(() -> Blas.choose("mkl", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'mkl'").hasMessageContaining("auto, openblas, jblas, java");
        assertThatThrownBy(() -> Blas.choose("auto", "/no/such/libopenblas.so"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/no/such/libopenblas.so")
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> Blas.choose("openblas", "no-such-blas-library"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-blas-library");
        assertThat(Blas.backend()).isNotBlank();
    }

    /** auto always ends with a backend that multiplies, and names why it skipped the ones before it. */
    @org.junit.jupiter.api.Test
    void autoChoosesARunningBackendAndSaysWhyOthersWereSkipped() {
        Blas.Choice c = Blas.choose("auto", null);
        assertThat(c.name()).isIn("openblas", "jblas", "java");
        assertThat(c.skipped()).hasSize(List.of("openblas", "jblas", "java").indexOf(c.name()));
        assertThat(c.skipped()).allSatisfy(s -> assertThat(s).containsAnyOf("OpenBLAS", "jblas"));
        Blas.Choice java = Blas.choose("java", null);
        assertThat(java.name()).isEqualTo("java");
        assertThat(java.backend().description()).startsWith("pure Java");
    }

    /** CI's only-a-JDK pass (.ci/fresh) hides the native libraries and says which backend must then run. */
    @org.junit.jupiter.api.Test
    void theExpectedBackendIsChosen() {
        String expected = System.getenv("JGRAD_EXPECT_BLAS");
        org.junit.jupiter.api.Assumptions.assumeTrue(expected != null, "JGRAD_EXPECT_BLAS is not set");
        assertThat(Blas.backendName()).as(Blas.backend()).isEqualTo(expected);
        if (expected.equals("java")) {
            assertThat(Blas.backend()).contains("skipped").contains("OpenBLAS").contains("jblas");
        }
    }

    /** jblas's old OpenBLAS is told to use its AVX2 kernels, in this process only, when jblas loads. */
    @org.junit.jupiter.api.Test
    void jblasGetsItsCoreTypeWhenItLoads() throws java.io.IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("OPENBLAS_CORETYPE") == null
                && System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")
                && java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo")).contains(" avx2"),
                "needs an AVX2 Linux machine with OPENBLAS_CORETYPE unset");
        BlasBackends.get("jblas");
        String set = (String) com.sun.jna.NativeLibrary.getInstance("c").getFunction("getenv")
                .invoke(String.class, new Object[] {"OPENBLAS_CORETYPE"});
        assertThat(set).isEqualTo("Haswell");
    }

    /** The system OpenBLAS gets its AVX-512 kernels where the CPU has them, even on a model it does not know. */
    @org.junit.jupiter.api.Test
    void theSystemOpenBlasGetsTheKernelsTheCpuCanRun() throws java.io.IOException {
        String cpu = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("OPENBLAS_CORETYPE") == null
                && System.getProperty("os.arch").equals("amd64") && cpu.contains(" avx512f") && cpu.contains(" avx512bw")
                && cpu.contains(" avx512dq") && cpu.contains(" avx512vl"),
                "needs an AVX-512 Linux machine with OPENBLAS_CORETYPE unset");
        assertThat(BlasBackends.get("openblas").description()).contains("SkylakeX");
    }

    /** A library that loads but computes wrong values, or cannot link, is skipped with why; the next one is taken. */
    @org.junit.jupiter.api.Test
    void aBackendThatLoadsButMultipliesWronglyIsSkipped() {
        Blas.Backend zeros = new Blas.Backend() {
            @Override
            public void gemm(ScalarType dtype, Blas.Operand a, Blas.Operand b, int m, int n, int k, ArrayStorage out, int at) {
                out.fill(at, at + m * n, 0); // "runs", but multiplies nothing
            }

            @Override
            public String description() {
                return "zeros";
            }
        };
        java.util.Map<String, java.util.function.Supplier<Blas.Backend>> loaders = new java.util.LinkedHashMap<>();
        loaders.put("broken", () -> zeros);
        loaders.put("unlinked", () -> {
            throw new UnsatisfiedLinkError("libnothing.so: cannot open shared object file");
        });
        loaders.put("java-plain", () -> new JavaGemm(false));
        Blas.Choice c = Blas.firstThatRuns(loaders, false);
        assertThat(c.name()).isEqualTo("java-plain");
        assertThat(c.skipped()).hasSize(2);
        assertThat(c.skipped().get(0)).startsWith("broken: ").contains("wrong values");
        assertThat(c.skipped().get(1)).startsWith("unlinked: ").contains("libnothing.so");
        assertThatThrownBy(() -> Blas.firstThatRuns(java.util.Map.of("broken", () -> zeros), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jgrad.blas=broken cannot run here");
    }
}
