package io.jgrad.examples;

import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import java.util.List;

/**
 * A two-layer neural network on Fashion-MNIST: the linear classifier's engine with one hidden
 * layer, s = W2 max(0, W1 x + b1) + b2 (784 → 512 → 10), trained like {@link LinearClassifier}.
 */
public final class TwoLayerNet {
    static final FashionMnistProgram PROGRAM = new FashionMnistProgram("TwoLayerNet", true,
            (shape, rng) -> new Sequential(new Linear(shape[0] * shape[1] * shape[2], 512, true, rng), new Relu(),
                    new Linear(512, 10, true, rng)),
            (model, out, name, shape, classes) -> List.of(), "15", "0.05");

    private TwoLayerNet() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return PROGRAM.run(argv);
    }
}
