package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SparkClassifier on the embedded Fashion-MNIST subset, in Spark's local mode. */
class SparkClassifierTest {
    @TempDir
    Path dir;

    private Console.Run run(String... argv) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("none"));
        FashionMnistData.Sources sources = new FashionMnistData.Sources(List.of(empty),
                URI.create("http://fashion-mnist.invalid/"), Map.of(), dir.resolve("download"));
        return Console.capture(() -> SparkClassifier.run(sources, argv));
    }

    private static String result(String out, String field) {
        String line = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        return line.replaceAll(".*\"" + field + "\":\"?([^,\"}]+)\"?.*", "$1");
    }

    @Test
    void oneAndTwoWorkersWriteByteIdenticalCheckpoints() throws Exception {
        String out = dir.resolve("out").toString();
        Console.Run one = run("--workers", "1", "--epochs", "1", "--no-download", "--out", out);
        assertThat(one.status()).as(one.err()).isZero();
        Console.Run two = run("--workers", "2", "--epochs", "1", "--no-download", "--out", out);
        assertThat(two.status()).as(two.err()).isZero();
        assertThat(result(one.out(), "workers")).isEqualTo("1");
        assertThat(result(two.out(), "workers")).isEqualTo("2");
        Path a = Path.of(result(one.out(), "checkpoint"));
        Path b = Path.of(result(two.out(), "checkpoint"));
        assertThat(a).isNotEqualTo(b);
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        assertThat(Double.parseDouble(result(two.out(), "test_accuracy"))).as("chance is 0.10").isGreaterThan(0.6);

        // the same folder again: refused unless the run is resumed (nothing left to train) or overwritten
        Console.Run again = run("--workers", "2", "--epochs", "1", "--no-download", "--out", out);
        assertThat(again.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(again.err()).contains("holds 1 checkpoint(s)").contains("--resume");
        Console.Run resumed = run("--workers", "2", "--epochs", "1", "--no-download", "--resume", "--out", out);
        assertThat(resumed.status()).as(resumed.err()).isZero();
        assertThat(Files.readAllBytes(Path.of(result(resumed.out(), "checkpoint")))).isEqualTo(Files.readAllBytes(a));
    }

    @Test
    void impossibleOptionsAreRefusedBeforeSparkStarts() throws Exception {
        Console.Run r = run("--workers", "3", "--micro-shards", "4", "--no-download", "--out", dir.toString());
        assertThat(r.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(r.err()).contains("--micro-shards 4 is not a multiple of --workers 3");
        Console.Run slots = run("--workers", "4", "--master", "local[2]", "--no-download", "--out", dir.toString());
        assertThat(slots.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(slots.err()).contains("4 task slots").contains("the cluster has 2");
    }
}
