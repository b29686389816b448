package io.jgrad.examples;

import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * The README's quick start as a program: a small graph, backward, gradients printed, and a
 * linear score function f(x) = W x + b fitted by plain gradient descent on a toy problem.
 */
public final class Demo {
    private Demo() {}

    /** Runs the demo; takes no options but {@code --help}. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return new Cli("Demo").run(argv, Demo::demo);
    }

    private static int demo() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {0.1, 0.2, 0.3, -0.4, 0.5, 0.6}, 3, 2).requiresGrad(true);
        Tensor y = x.matmul(w).relu().sum();
        y.backward();
        System.out.println("y = " + y);
        System.out.println("dy/dx = " + x.grad());
        System.out.println("dy/dw = " + w.grad());

        // two Gaussian blobs, class = which blob; softmax cross-entropy written out with tensor ops
        Generator rng = Generator.seeded(0);
        Tensor labels = Tensor.randint(rng, 0, 2, 200);
        Tensor points = Tensor.randn(rng, DType.FLOAT32, 200, 2).add(labels.to(DType.FLOAT32).mul(3).unsqueeze(1));
        Tensor weight = Tensor.zeros(2, 2).requiresGrad(true);
        Tensor bias = Tensor.zeros(2).requiresGrad(true);
        for (int step = 0; step <= 100; step++) {
            Tensor scores = points.matmul(weight.t()).add(bias);
            Tensor loss = scores.logSoftmax(1).gather(1, labels.unsqueeze(1)).mean().neg();
            weight.zeroGrad();
            bias.zeroGrad();
            loss.backward();
            try (var noGrad = io.jgrad.core.Autograd.noGrad()) {
                weight.addInPlace(weight.grad(), -0.5);
                bias.addInPlace(bias.grad(), -0.5);
            }
            if (step % 25 == 0) {
                double accuracy = scores.argmax(1).eq(labels).to(DType.FLOAT32).mean().item();
                System.out.printf("step %3d  loss %.4f  accuracy %.3f%n", step, loss.item(), accuracy);
            }
        }
        return Cli.DONE;
    }
}
