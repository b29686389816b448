package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Numerical gradient checking, like PyTorch's {@code gradcheck} and {@code gradgradcheck}.
 *
 * <p>The analytical Jacobian (one backward per output element) is compared with central
 * differences {@code (f(x + eps) - f(x - eps)) / 2eps} element by element:
 * {@code |analytical - numerical| <= atol + rtol * |numerical|}. Defaults are PyTorch's
 * (eps 1e-6, atol 1e-5, rtol 1e-3), meant for FLOAT64 inputs. Besides the Jacobian it checks that
 * backward is reentrant (two backward passes give bit-identical results), that a zero upstream
 * gradient gives exactly zero gradients, and that every gradient has its input's shape and dtype.
 *
 * <p>Inputs that require grad are differentiated (they must be FLOAT64); others (integer
 * indices, constants) are passed through unchanged. Choose inputs away from kinks (relu at 0,
 * hinge margins at 0, ties in max), where no derivative exists.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Step and tolerances. */
    public record Options(double eps, double atol, double rtol) {
        /** PyTorch's defaults: eps 1e-6, atol 1e-5, rtol 1e-3. */
        public static Options defaults() {
            return new Options(1e-6, 1e-5, 1e-3);
        }
    }

    /**
     * The outcome of a check: whether it passed, the largest |analytical - numerical| and a
     * description of the worst element (input, index, both values) or of the failed property.
     */
    public record Report(boolean passed, double maxAbsError, String detail) {
        /** Throws {@link AssertionError} with the detail unless the check passed; returns this. */
        public Report assertPassed() {
            if (!passed) {
                throw new AssertionError("gradient check failed: " + detail);
            }
            return this;
        }
    }

    /**
     * Checks the gradient of a one-input function (named apart from {@link #check(Function, Tensor...)}
     * so that a lambda over the input list is never mistaken for a lambda over one tensor).
     */
    public static Report checkUnary(UnaryOperator<Tensor> f, Tensor input) {
        return check(Options.defaults(), xs -> f.apply(xs.get(0)), input);
    }

    /** Checks the gradients of {@code f} with respect to each input that requires grad. */
    public static Report check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return check(Options.defaults(), f, inputs);
    }

    /** Checks the gradients of {@code f} with the given step and tolerances. */
    public static Report check(Options options, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Tensor> xs = prepare(inputs);
        List<Tensor> diff = new ArrayList<>();
        for (Tensor x : xs) {
            if (x.requiresGrad) {
                diff.add(x);
            }
        }
        Tensor y = f.apply(xs);
        checkArgument(y.dtype().isFloatingPoint(), "GradCheck: the function returned %s values", y.dtype());
        double[][][] analytical = analytical(y, diff);
        double[][][] again = analytical(f.apply(xs), diff);
        for (int i = 0; i < diff.size(); i++) {
            for (int j = 0; j < analytical[i].length; j++) {
                if (!Arrays.equals(analytical[i][j], again[i][j])) {
                    return new Report(false, Double.NaN, "backward is not reentrant: two backward passes gave "
                            + "different gradients for input " + i + " (output element " + j + ")");
                }
            }
        }
        String zero = zeroUpstream(f.apply(xs), diff);
        if (zero != null) {
            return new Report(false, Double.NaN, zero);
        }
        return compare(options, analytical, numerical(options.eps(), f, xs, diff, y.numel()), diff);
    }

    /**
     * Second-order check (like {@code gradgradcheck}): the gradients of {@code f}, computed with
     * {@code createGraph} for a random upstream gradient v, are themselves checked as a function
     * of the inputs and of v.
     */
    public static Report checkSecondOrder(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return checkSecondOrder(Options.defaults(), f, inputs);
    }

    /** Second-order check with the given step and tolerances. */
    public static Report checkSecondOrder(Options options, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Tensor> xs = prepare(inputs);
        Tensor y;
        try (var s = Autograd.noGrad()) {
            y = f.apply(xs);
        }
        Tensor v = Tensor.randn(Generator.seeded(1234), DType.FLOAT64, y.shape).requiresGrad(true);
        int n = xs.size();
        Function<List<Tensor>, Tensor> gradOfF = all -> {
            try (var s = Autograd.enableGrad()) {
                List<Tensor> args = all.subList(0, n);
                List<Tensor> diff = new ArrayList<>();
                for (Tensor a : args) {
                    if (a.requiresGrad) {
                        diff.add(a);
                    }
                }
                Tensor out = f.apply(args);
                if (!out.requiresGrad) {
                    return Tensor.zeros(DType.FLOAT64, 0);
                }
                List<Tensor> flat = new ArrayList<>();
                for (Tensor g : Autograd.grad(List.of(out), diff, List.of(all.get(n)), Autograd.Options.createGraph())) {
                    flat.add(g.reshape(-1));
                }
                return Tensor.cat(flat, 0);
            }
        };
        Tensor[] extended = Arrays.copyOf(xs.toArray(new Tensor[0]), n + 1);
        extended[n] = v;
        return check(options, gradOfF, extended);
    }

    /** Largest element-wise relative error between analytical and numerical gradients of a one-input function. */
    public static double maxRelativeError(UnaryOperator<Tensor> f, Tensor input) {
        List<Tensor> xs = prepare(new Tensor[] {input});
        Function<List<Tensor>, Tensor> g = list -> f.apply(list.get(0));
        Tensor y = g.apply(xs);
        double[][][] a = analytical(y, xs);
        double[][][] num = numerical(Options.defaults().eps(), g, xs, xs, y.numel());
        double worst = 0;
        for (int j = 0; j < a[0].length; j++) {
            for (int k = 0; k < a[0][j].length; k++) {
                double scale = Math.max(1.0, Math.abs(num[0][j][k]));
                worst = Math.max(worst, Math.abs(a[0][j][k] - num[0][j][k]) / scale);
            }
        }
        return worst;
    }

    /** Fresh contiguous FLOAT64 leaves for the differentiable inputs (so perturbing one element moves only it). */
    private static List<Tensor> prepare(Tensor[] inputs) {
        List<Tensor> xs = new ArrayList<>(inputs.length);
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            if (x.requiresGrad) {
                checkArgument(x.dtype() == DType.FLOAT64,
                        "GradCheck: input %s is %s; gradient checks need FLOAT64 inputs", i, x.dtype());
                xs.add(x.detach().contiguousCopyNoGrad().requiresGrad(true));
                any = true;
            } else {
                xs.add(x);
            }
        }
        checkArgument(any, "GradCheck: no input requires grad");
        return xs;
    }

    /** [input][output element][input element] via one backward per output element. */
    private static double[][][] analytical(Tensor y, List<Tensor> diff) {
        int m = y.numel();
        double[][][] jac = new double[diff.size()][m][];
        for (int j = 0; j < m; j++) {
            List<Tensor> grads = gradients(y, diff, oneHot(y, j), j < m - 1);
            for (int i = 0; i < diff.size(); i++) {
                Tensor g = grads.get(i);
                Tensor x = diff.get(i);
                checkArgument(Arrays.equals(g.shape, x.shape) && g.dtype() == x.dtype(),
                        "GradCheck: gradient of input %s has shape %s %s, expected %s %s", i, Shapes.str(g.shape),
                        g.dtype(), Shapes.str(x.shape), x.dtype());
                jac[i][j] = g.toDoubleArray();
            }
        }
        return jac;
    }

    private static List<Tensor> gradients(Tensor y, List<Tensor> diff, Tensor seed, boolean retain) {
        if (!y.requiresGrad) {
            List<Tensor> zeros = new ArrayList<>();
            for (Tensor x : diff) {
                zeros.add(Tensor.zeros(x.dtype(), x.shape));
            }
            return zeros;
        }
        return Autograd.grad(List.of(y), diff, List.of(seed), new Autograd.Options(retain, false));
    }

    private static Tensor oneHot(Tensor y, int j) {
        Tensor seed = Tensor.zeros(y.dtype(), y.shape);
        seed.setElement(j, 1);
        return seed;
    }

    private static String zeroUpstream(Tensor y, List<Tensor> diff) {
        List<Tensor> grads = gradients(y, diff, Tensor.zeros(y.dtype(), y.shape), false);
        for (int i = 0; i < grads.size(); i++) {
            for (double v : grads.get(i).toDoubleArray()) {
                if (v != 0) {
                    return "a zero upstream gradient gave a non-zero gradient (" + v + ") for input " + i
                            + ": backward does not multiply by the output gradient";
                }
            }
        }
        return null;
    }

    /** [input][output element][input element] by central differences. */
    private static double[][][] numerical(double eps, Function<List<Tensor>, Tensor> f, List<Tensor> xs,
                                          List<Tensor> diff, int m) {
        double[][][] jac = new double[diff.size()][m][];
        for (int i = 0; i < diff.size(); i++) {
            Tensor x = diff.get(i);
            double[] data = x.toDoubleArray();
            for (int j = 0; j < m; j++) {
                jac[i][j] = new double[data.length];
            }
            for (int k = 0; k < data.length; k++) {
                double saved = data[k];
                x.setElement(k, saved + eps); // a write like any other: deferred results and BLAS copies see it
                double[] plus = evaluate(f, xs);
                x.setElement(k, saved - eps);
                double[] minus = evaluate(f, xs);
                x.setElement(k, saved);
                for (int j = 0; j < m; j++) {
                    jac[i][j][k] = (plus[j] - minus[j]) / (2 * eps);
                }
            }
        }
        return jac;
    }

    private static double[] evaluate(Function<List<Tensor>, Tensor> f, List<Tensor> xs) {
        try (var s = Autograd.noGrad()) {
            return f.apply(xs).toDoubleArray();
        }
    }

    private static Report compare(Options o, double[][][] a, double[][][] n, List<Tensor> diff) {
        double maxAbs = 0;
        double worstRatio = -1;
        boolean passed = true;
        String worst = "no differentiable elements";
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                for (int k = 0; k < a[i][j].length; k++) {
                    double an = a[i][j][k];
                    double nu = n[i][j][k];
                    double err = Math.abs(an - nu);
                    double allowed = o.atol() + o.rtol() * Math.abs(nu);
                    double ratio = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / allowed;
                    passed &= ratio <= 1;
                    maxAbs = Math.max(maxAbs, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
                    if (ratio > worstRatio) {
                        worstRatio = ratio;
                        worst = String.format(Locale.ROOT, "input %d element %s, output element %d: analytical %.10g, "
                                        + "numerical %.10g, |difference| %.3g (allowed %.3g)", i,
                                Arrays.toString(unravel(diff.get(i).shape, k)), j, an, nu, err,
                                allowed);
                    }
                }
            }
        }
        return new Report(passed, maxAbs, (passed ? "worst " : "Jacobian mismatch at ") + worst);
    }

    private static int[] unravel(int[] shape, int pos) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = pos % shape[d];
            pos /= shape[d];
        }
        return idx;
    }
}
