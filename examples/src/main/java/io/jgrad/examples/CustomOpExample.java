package io.jgrad.examples;

import io.jgrad.core.CustomOp;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;

/**
 * A new differentiable op defined by its forward and backward, like {@code torch.autograd.Function},
 * and verified with {@link GradCheck}: the softplus log(1 + e^x), computed stably as
 * max(x, 0) + log1p(e^(−|x|)), whose derivative is the sigmoid. Because the backward is written
 * with tensor ops, the second-order check (grad of grad) passes too. Then a deliberately wrong
 * backward, to show what a failed check reports.
 */
public final class CustomOpExample {
    private CustomOpExample() {}

    /** softplus(x) = log(1 + e^x). */
    static final class Softplus extends CustomOp {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            Tensor x = in[0];
            ctx.saveForBackward(x);
            return x.relu().add(x.abs().neg().exp().log1p());
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor dOut) {
            Tensor x = ctx.saved().get(0);
            return new Tensor[] {dOut.mul(x.sigmoid())}; // d/dx softplus(x) = sigmoid(x)
        }
    }

    /** The same op with a backward that forgets the chain rule's factor e^x / (1 + e^x). */
    static final class WrongSoftplus extends CustomOp {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            return in[0].relu().add(in[0].abs().neg().exp().log1p());
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor dOut) {
            return new Tensor[] {dOut};
        }
    }

    /** Runs the checks and prints their reports; exits non-zero if the correct op fails. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status (1 if a check does not give the expected verdict). */
    static int run(String... argv) {
        return new Cli("CustomOpExample").run(argv, CustomOpExample::check);
    }

    private static int check() {
        Tensor x = Tensor.randn(Generator.seeded(0), DType.FLOAT64, 4, 5).mul(3).requiresGrad(true);
        Tensor y = new Softplus().apply(x);
        System.out.println("softplus(x) =\n" + y);
        GradCheck.Report first = GradCheck.check(xs -> new Softplus().apply(xs.get(0)), x);
        GradCheck.Report second = GradCheck.checkSecondOrder(xs -> new Softplus().apply(xs.get(0)), x);
        GradCheck.Report wrong = GradCheck.check(xs -> new WrongSoftplus().apply(xs.get(0)), x);
        System.out.println("gradient check:              " + (first.passed() ? "passed" : "FAILED") + ", " + first.detail());
        System.out.println("second-order gradient check: " + (second.passed() ? "passed" : "FAILED") + ", " + second.detail());
        System.out.println("wrong backward:              " + (wrong.passed() ? "passed (unexpected)" : "failed as it should")
                + ", " + wrong.detail());
        boolean ok = first.passed() && second.passed() && !wrong.passed();
        System.out.println("RESULT {\"program\":\"custom-op\",\"gradcheck\":" + first.passed() + ",\"gradgradcheck\":"
                + second.passed() + ",\"wrong_backward_caught\":" + !wrong.passed() + "}");
        return ok ? Cli.DONE : 1;
    }
}
