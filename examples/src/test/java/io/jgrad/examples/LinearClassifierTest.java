package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Tensor;
import io.jgrad.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main program on the real data (CI installs Debian's dataset-fashion-mnist). */
class LinearClassifierTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsData() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "Fashion-MNIST is not installed (.ci/run installs dataset-fashion-mnist)");
        System.setProperty("java.awt.headless", "true");
    }

    private record Run(int status, String out, String err) {}

    private static Run run(String... argv) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = LinearClassifier.PROGRAM.run(LinearClassifier.PROGRAM.args(), argv);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static double accuracy(String out) {
        String result = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        return Double.parseDouble(result.replaceAll(".*\"test_accuracy\":([0-9.]+).*", "$1"));
    }

    @Test
    void oneEpochOfSoftmaxReaches80PercentAndWritesItsFiles() throws Exception {
        Run r = run("--epochs", "1", "--out", dir.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(accuracy(r.out())).isGreaterThanOrEqualTo(0.80);
        assertThat(r.out().lines().reduce((a, b) -> b).orElseThrow()).startsWith("RESULT {");
        assertThat(dir.resolve("linearclassifier-softmax-curves.png")).exists();
        assertThat(dir.resolve("linearclassifier-softmax-templates.png")).exists();
        assertThat(Safetensors.load(dir.resolve("linearclassifier-softmax-epoch1.safetensors")).tensors())
                .containsKeys("model.weight", "model.bias", "optim.state.0.momentum_buffer");
    }

    @Test
    void resumingGivesBitIdenticalWeights() throws Exception {
        Path straight = dir.resolve("straight");
        Path resumed = dir.resolve("resumed");
        assertThat(run("--loss", "svm", "--epochs", "2", "--out", straight.toString()).status()).isZero();
        // one epoch of a 2-epoch run (same options, so the same schedule), then resume for the second
        Files.createDirectories(resumed);
        assertThat(run("--loss", "svm", "--epochs", "2", "--out", resumed.toString()).status()).isZero();
        Files.delete(resumed.resolve("linearclassifier-svm-epoch2.safetensors"));
        Run second = run("--loss", "svm", "--epochs", "2", "--out", resumed.toString(), "--resume");
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(second.out()).contains("resumed from");
        Map<String, Tensor> a = Safetensors.load(straight.resolve("linearclassifier-svm-epoch2.safetensors")).tensors();
        Map<String, Tensor> b = Safetensors.load(resumed.resolve("linearclassifier-svm-epoch2.safetensors")).tensors();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String k : a.keySet()) {
            assertThat(b.get(k).toDoubleArray()).as(k).containsExactly(a.get(k).toDoubleArray());
        }
    }

    @Test
    void aDivergingRunStopsNamingEpochStepAndCheckpoint() {
        Run r = run("--lr", "1e30", "--epochs", "1", "--schedule", "constant", "--out", dir.toString());
        assertThat(r.status()).isEqualTo(3);
        assertThat(r.err()).containsPattern("loss is (NaN|Infinity) at epoch 1 step \\d+; last good checkpoint: none");
        assertThat(dir.resolve("linearclassifier-softmax-epoch1.safetensors")).doesNotExist();
    }

    @Test
    void badArgumentsPrintUsageAndExitNonZero() {
        Run r = run("--loss", "hinge");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--loss must be one of softmax, svm, got 'hinge'").contains("usage: ./run");
        assertThat(run("--epochs", "zero").status()).isEqualTo(2);
        assertThat(run("--bogus", "1").err()).contains("unknown option --bogus");
    }
}
