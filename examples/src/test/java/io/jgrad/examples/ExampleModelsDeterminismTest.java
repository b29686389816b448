package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.Tensor;
import io.jgrad.core.cpu.Parallel;
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

/**
 * The same seed and options give bit-identical weights for each example model, whatever the
 * number of threads (a bounded form: 20 steps instead of an epoch, so CI stays quick).
 */
class ExampleModelsDeterminismTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsData() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "Fashion-MNIST is not installed (.ci/run installs dataset-fashion-mnist)");
        System.setProperty("java.awt.headless", "true");
    }

    private Map<String, Tensor> twentySteps(FashionMnistProgram program, String name, int threads, Path out)
            throws Exception {
        int saved = Parallel.threads();
        PrintStream old = System.out;
        try {
            Parallel.setThreads(threads);
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            int status = program.run("--stop-after", "20", "--out", out.toString());
            assertThat(status).isZero();
        } finally {
            System.setOut(old);
            Parallel.setThreads(saved);
        }
        return Safetensors.load(out.resolve(name + "-step20.safetensors")).tensors();
    }

    private void check(FashionMnistProgram program, String name) throws Exception {
        Map<String, Tensor> a = twentySteps(program, name, 2, dir.resolve(name + "-a"));
        Map<String, Tensor> b = twentySteps(program, name, 2, dir.resolve(name + "-b"));
        Map<String, Tensor> c = twentySteps(program, name, 1, dir.resolve(name + "-c"));
        for (String k : a.keySet()) {
            assertThat(b.get(k).toDoubleArray()).as("%s %s, same run twice", name, k).containsExactly(a.get(k).toDoubleArray());
            assertThat(c.get(k).toDoubleArray()).as("%s %s, one thread", name, k).containsExactly(a.get(k).toDoubleArray());
        }
    }

    @Test
    void twoLayerNet() throws Exception {
        check(TwoLayerNet.PROGRAM, "twolayernet-softmax");
    }

    @Test
    void smallCnn() throws Exception {
        check(SmallCnn.PROGRAM, "smallcnn-softmax");
    }
}
