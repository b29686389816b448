package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Tensor;
import io.jgrad.io.Safetensors;
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

    private static Console.Run run(String... argv) {
        return Console.capture(() -> LinearClassifier.run(argv));
    }

    private static double accuracy(String out) {
        String result = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        return Double.parseDouble(result.replaceAll(".*\"test_accuracy\":([0-9.]+).*", "$1"));
    }

    @Test
    void oneEpochOfSoftmaxReaches80PercentAndWritesItsFiles() throws Exception {
        Console.Run r = run("--epochs", "1", "--out", dir.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(accuracy(r.out())).isGreaterThanOrEqualTo(0.80);
        assertThat(r.out().lines().reduce((a, b) -> b).orElseThrow()).startsWith("RESULT {");
        assertThat(dir.resolve("linearclassifier-softmax-curves.png")).exists();
        assertThat(dir.resolve("linearclassifier-softmax-templates.png")).exists();
        assertThat(Safetensors.load(dir.resolve("linearclassifier-softmax-step469.safetensors")).tensors())
                .containsKeys("model.weight", "model.bias", "optim.state.0.momentum_buffer");
    }

    /**
     * Two epochs straight, against: 300 steps (inside the first epoch) in a second JVM that stops
     * there, then a resume in this JVM; the final checkpoints must match bit for bit.
     */
    @Test
    void resumingInsideAnEpochInASecondJvmGivesBitIdenticalWeights() throws Exception {
        Path straight = dir.resolve("straight");
        Path resumed = dir.resolve("resumed");
        assertThat(run("--loss", "svm", "--epochs", "2", "--out", straight.toString()).status()).isZero();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LinearClassifier.class.getName(), "--loss", "svm", "--epochs", "2", "--out", resumed.toString(),
                "--stop-after", "300").redirectErrorStream(true).start();
        String childOut = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor()).as(childOut).isZero();
        assertThat(childOut).contains("stopped after 300 steps");
        assertThat(resumed.resolve("linearclassifier-svm-step300.safetensors")).exists();
        Console.Run second = run("--loss", "svm", "--epochs", "2", "--out", resumed.toString(), "--resume");
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(second.out()).contains("resumed from").contains("step300");
        Map<String, Tensor> a = Safetensors.load(straight.resolve("linearclassifier-svm-step938.safetensors")).tensors();
        Map<String, Tensor> b = Safetensors.load(resumed.resolve("linearclassifier-svm-step938.safetensors")).tensors();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String k : a.keySet()) {
            assertThat(b.get(k).toDoubleArray()).as(k).containsExactly(a.get(k).toDoubleArray());
        }
    }

    @Test
    void runsWithTheSameSeedGiveBitIdenticalWeightsWhateverTheThreadCount() throws Exception {
        int saved = io.jgrad.core.cpu.Parallel.threads();
        try {
            Path[] outs = {dir.resolve("a"), dir.resolve("b"), dir.resolve("c")};
            int[] threads = {2, 2, 1};
            for (int i = 0; i < 3; i++) {
                io.jgrad.core.cpu.Parallel.setThreads(threads[i]);
                assertThat(run("--epochs", "1", "--out", outs[i].toString()).status()).isZero();
            }
            Map<String, Tensor> a = Safetensors.load(outs[0].resolve("linearclassifier-softmax-step469.safetensors")).tensors();
            for (Path o : new Path[] {outs[1], outs[2]}) {
                Map<String, Tensor> b = Safetensors.load(o.resolve("linearclassifier-softmax-step469.safetensors")).tensors();
                for (String k : a.keySet()) {
                    assertThat(b.get(k).toDoubleArray()).as(k).containsExactly(a.get(k).toDoubleArray());
                }
            }
        } finally {
            io.jgrad.core.cpu.Parallel.setThreads(saved);
        }
    }

    @Test
    void aDivergingRunStopsNamingEpochStepAndCheckpoint() {
        Console.Run r = run("--lr", "1e30", "--epochs", "1", "--schedule", "constant", "--out", dir.toString());
        assertThat(r.status()).isEqualTo(3);
        assertThat(r.err()).containsPattern("loss is (NaN|Infinity) at epoch 1 step \\d+; last good checkpoint: none");
        assertThat(dir.resolve("linearclassifier-softmax-step469.safetensors")).doesNotExist();
    }

    @Test
    void badArgumentsPrintUsageAndExitNonZero() {
        Console.Run r = run("--loss", "hinge");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--loss must be one of softmax, svm, got 'hinge'").contains("usage: ./run");
        assertThat(run("--epochs", "zero").status()).isEqualTo(2);
        assertThat(run("--bogus", "1").err()).contains("Unknown options: '--bogus', '1'");
    }
}
