package io.jgrad.examples;

import io.jgrad.layers.Linear;
import java.util.List;

/**
 * The lecture's linear classifier on Fashion-MNIST (or CIFAR-10 with {@code --dataset cifar10}):
 * scores s = W x + b for the flattened images and 10 classes, loss L = 1/N Σ L_i + λ Σ W² with the softmax (cross-entropy) or the multiclass SVM
 * (hinge) data loss, minibatch SGD with momentum. Writes curves, the rows of W as images, and a
 * checkpoint per epoch; the last line is {@code RESULT {json}}.
 */
public final class LinearClassifier {
    static final FashionMnistProgram PROGRAM = new FashionMnistProgram("LinearClassifier", true,
            (shape, rng) -> new Linear(shape[0] * shape[1] * shape[2], 10, true, rng),
            (model, out, name, shape, classes) -> List.of(Templates.render(model.namedParameters().get("weight")
                    .detach(), shape[0], shape[1], shape[2], classes, 4, out.resolve(name + "-templates.png"))),
            "10", "0.01");

    private LinearClassifier() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return PROGRAM.run(argv);
    }
}
