package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The attention classifier learns Fashion-MNIST's row sequences (on the embedded subset, so on every machine). */
class RowAttentionTest {
    @TempDir
    Path dir;

    @Test
    void oneEpochOnTheEmbeddedSubsetBeatsChanceByFar() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path empty = Files.createDirectories(dir.resolve("none"));
        FashionMnistProgram p = RowAttention.PROGRAM.withSources(new FashionMnistData.Sources(List.of(empty),
                URI.create("http://fashion-mnist.invalid/"), Map.of(), dir.resolve("download")));
        Console.Run r = Console.capture(() -> p.run("--epochs", "1", "--no-download", "--out", dir.resolve("out").toString()));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("embedded").contains("TransformerEncoderLayer");
        String result = r.out().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        double accuracy = Double.parseDouble(result.replaceAll(".*\"test_accuracy\":([0-9.]+).*", "$1"));
        assertThat(accuracy).as("10 classes: chance is 0.10").isGreaterThan(0.55);
    }
}
