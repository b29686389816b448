package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lecture's hard cases: the linear model fails where the two-layer one fits, and each picture is written and named. */
class HardCasesTest {
    @TempDir
    Path dir;

    @Test
    void theTwoLayerNetworkFitsWhatTheLinearOneCannotAndThePicturesAreNamed() throws Exception {
        Console.Run r = Console.capture(() -> HardCases.run("--out", dir.toString()));
        assertThat(r.status()).as(r.err()).isZero();
        String result = r.out().lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow();
        assertThat(result).contains("\"ring\":{\"linear\":0.7").contains("\"two_layer\":1.0");
        for (String name : List.of("odd-even", "ring", "three-modes")) {
            for (String model : List.of("linear", "two-layer")) {
                Path png = dir.resolve(name + "-" + model + ".png");
                assertThat(r.out()).contains("wrote " + png);
                BufferedImage img = ImageIO.read(png.toFile());
                assertThat(img.getWidth()).isGreaterThan(300); // the plot, its axes and its legend
                assertThat(result).contains(png.toString());
            }
        }
    }
}
