package io.jgrad.examples;

import io.jgrad.core.Autograd;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;
import java.util.List;

/**
 * The README's quick start as a program, statement for statement: a small graph, backward, the
 * gradients, a gradient of a gradient and a numerical gradient check (DemoTest holds it to the
 * README's printed values).
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
        Tensor y = x.matmul(w).relu().sum();      // a small graph, recorded as it runs
        y.backward();                             // reverse mode: fills grad() of every leaf
        System.out.println(y.item());
        System.out.println(x.grad());
        System.out.println(w.grad());

        // grad of grad: gradients are themselves differentiable
        Tensor t = Tensor.scalar(DType.FLOAT64, 2).requiresGrad(true);
        Tensor dy = Autograd.grad(List.of(t.pow(3)), List.of(t), Autograd.Options.createGraph()).get(0);
        Tensor d2y = Autograd.grad(dy, t).get(0);
        System.out.println(dy.item() + " " + d2y.item());

        // check any function's gradient numerically (float64 central differences)
        GradCheck.Report r = GradCheck.checkUnary(v -> v.softmax(1).log(),
                Tensor.randn(Generator.seeded(0), DType.FLOAT64, 3, 4).requiresGrad(true));
        System.out.println(r.passed());
        return Cli.DONE;
    }
}
