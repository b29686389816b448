package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The Fashion-MNIST subset embedded in the examples. */
class FashionMnistDataTest {
    @Test
    void theSubsetHolds600TrainingAnd100TestImagesOfEachClass() throws IOException {
        FashionMnist.Splits s = FashionMnistData.subset();
        assertThat(perClass(s.train())).containsOnly(600);
        assertThat(perClass(s.test())).containsOnly(100);
        assertThat(FashionMnistData.class.getResource(FashionMnistData.SUBSET + "COPYRIGHT")).isNotNull();
    }

    /** What its README says: the first images of each class of the full set, in their order, unchanged. */
    @Test
    void theSubsetIsTheFirstImagesOfEachClassOfTheFullSet() throws IOException {
        Path debian = Path.of("/usr/share/datasets/fashion-mnist");
        Assumptions.assumeTrue(Files.isDirectory(debian), "Debian's dataset-fashion-mnist is not installed");
        FashionMnist.Splits full = FashionMnist.read(debian);
        FashionMnist.Splits subset = FashionMnistData.subset();
        assertFirstOfEachClass(subset.train(), full.train(), 600);
        assertFirstOfEachClass(subset.test(), full.test(), 100);
    }

    private static void assertFirstOfEachClass(ImageDataset subset, ImageDataset full, int perClass) {
        List<Integer> expected = new ArrayList<>();
        int[] taken = new int[10];
        for (int i = 0; i < full.size(); i++) {
            if (taken[(int) full.label(i)]++ < perClass) {
                expected.add(i);
            }
        }
        assertThat(subset.size()).isEqualTo(expected.size());
        for (int k = 0; k < expected.size(); k++) {
            assertThat(subset.label(k)).as("label %d", k).isEqualTo(full.label(expected.get(k)));
            assertThat(subset.image(k)).as("image %d", k).isEqualTo(full.image(expected.get(k)));
        }
    }

    private static int[] perClass(ImageDataset d) {
        int[] n = new int[10];
        for (int i = 0; i < d.size(); i++) {
            n[(int) d.label(i)]++;
        }
        return n;
    }
}
