package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linear classifier on CIFAR-10's format (CIFAR-10 itself cannot be fetched here): a
 * full-size data set of random images in the exact binary layout, one epoch, and the 32×32×3
 * weight templates (program 2's colour variant).
 */
class CifarProgramTest {
    @TempDir
    Path dir;

    @Test
    void trainsOnCifarFormattedDataAndDrawsColourTemplates() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path data = Files.createDirectories(dir.resolve("cifar-10-batches-bin"));
        Random r = new Random(1);
        for (String name : new String[] {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
            "data_batch_5.bin", "test_batch.bin"}) {
            byte[] b = new byte[10_000 * 3073];
            r.nextBytes(b);
            for (int i = 0; i < 10_000; i++) {
                b[i * 3073] = (byte) (i % 10);
            }
            Files.write(data.resolve(name), b);
        }
        Path out = dir.resolve("out");
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int status;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            status = LinearClassifier.run(new String[] {"--dataset", "cifar10",
                "--data", dir.toString(), "--epochs", "1", "--out", out.toString()});
        } finally {
            System.setOut(old);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertThat(status).as(text).isZero();
        assertThat(text).contains("CIFAR-10 from").contains("50000 train, 10000 test").contains("input [1, 3072]; parameters 30,730");
        var templates = ImageIO.read(out.resolve("linearclassifier-cifar10-softmax-templates.png").toFile());
        assertThat(templates.getWidth()).isEqualTo(5 * (32 * 4 + 8)); // five tiles a row, 4x zoom, 8 pixels apart
        assertThat(Safetensors.load(out.resolve("linearclassifier-cifar10-softmax-step391.safetensors")).tensors()
                .get("model.weight").shape().toArray()).containsExactly(10, 3072);
    }
}
