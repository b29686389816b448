package io.jgrad.examples;

import io.jgrad.core.Window2d;
import io.jgrad.layers.Conv2d;
import io.jgrad.layers.Flatten;
import io.jgrad.layers.Linear;
import io.jgrad.layers.MaxPool2d;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import java.util.List;

/**
 * A small convolutional network on Fashion-MNIST images [1, 28, 28]: conv 3×3 (32) → relu →
 * max-pool 2 → conv 3×3 (64) → relu → max-pool 2 → fc 1600 → 128 → relu → fc 10, the benchmark
 * suite's W3 model, trained like {@link LinearClassifier}.
 */
public final class SmallCnn {
    static final FashionMnistProgram PROGRAM = new FashionMnistProgram("SmallCnn", false,
            (shape, rng) -> new Sequential(
                    new Conv2d(shape[0], 32, Window2d.square(3, 1, 0, 1), true, rng), new Relu(), new MaxPool2d(2),
                    new Conv2d(32, 64, Window2d.square(3, 1, 0, 1), true, rng), new Relu(), new MaxPool2d(2),
                    new Flatten(), new Linear(64 * side(shape[1]) * side(shape[2]), 128, true, rng), new Relu(),
                    new Linear(128, 10, true, rng)),
            (model, out, name, shape, classes) -> List.of(), "8", "0.05");

    /** Side length after conv 3×3, pool 2, conv 3×3, pool 2: 28 → 5, 32 → 6. */
    private static int side(int s) {
        return ((s - 2) / 2 - 2) / 2;
    }

    private SmallCnn() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return PROGRAM.run(argv);
    }
}
