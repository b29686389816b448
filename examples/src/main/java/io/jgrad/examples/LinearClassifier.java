package io.jgrad.examples;

import io.jgrad.data.FashionMnist;
import io.jgrad.layers.Linear;
import java.util.List;

/**
 * The lecture's linear classifier on Fashion-MNIST: scores s = W x + b for 784-pixel images and
 * 10 classes, loss L = 1/N Σ L_i + λ Σ W² with the softmax (cross-entropy) or the multiclass SVM
 * (hinge) data loss, minibatch SGD with momentum. Writes curves, the rows of W as images, and a
 * checkpoint per epoch; the last line is {@code RESULT {json}}.
 */
public final class LinearClassifier {
    static final FashionMnistProgram PROGRAM = new FashionMnistProgram("LinearClassifier", true,
            rng -> new Linear(784, 10, true, rng),
            (model, out, name) -> List.of(Templates.render(model.namedParameters().get("weight").detach(), 1, 28, 28,
                    FashionMnist.CLASSES, 4, out.resolve(name + "-templates.png"))),
            "10", "0.01");

    private LinearClassifier() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(PROGRAM.run(PROGRAM.args(), argv));
    }
}
