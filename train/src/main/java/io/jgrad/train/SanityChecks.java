package io.jgrad.train;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Loss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.optim.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The lecture's sanity checks before a long run, each as a {@link Result} that says what it
 * measured, what was expected, whether it passed and what a failure means. None changes the
 * model: they run on replaced parameters ({@link Block#functionalCall}) or restore its state.
 *
 * <ol>
 *   <li>{@link #initialLoss}: with small weights every score is about 0, so the softmax loss is
 *       ln K and the multiclass SVM loss (K - 1)·Δ, the lecture's questions;</li>
 *   <li>{@link #overfit}: a model that cannot drive the loss on 20 examples near zero (without
 *       regularization) has a bug or too little capacity;</li>
 *   <li>{@link #gradients}: the backward of the whole model against float64 central differences
 *       along random directions, per parameter tensor (cheap enough for any model size).</li>
 * </ol>
 */
public final class SanityChecks {
    private SanityChecks() {}

    /** One check's outcome. */
    public record Result(String check, String measured, String expected, boolean passed, String meaning) {}

    /** The checks' results as a table, and whether all passed. */
    public record Report(List<Result> results) {
        /** Copies the list. */
        public Report {
            results = List.copyOf(results);
        }

        /** Whether every check passed. */
        public boolean passed() {
            return results.stream().allMatch(Result::passed);
        }

        /** Throws an {@link AssertionError} naming each failed check and what it means. */
        public Report assertPassed() {
            StringBuilder sb = new StringBuilder();
            for (Result r : results) {
                if (!r.passed()) {
                    sb.append(sb.length() == 0 ? "" : "; ").append(r.check()).append(" failed: ").append(r.measured())
                            .append(", expected ").append(r.expected()).append(" (").append(r.meaning()).append(')');
                }
            }
            if (sb.length() > 0) {
                throw new AssertionError("sanity checks: " + sb);
            }
            return this;
        }

        @Override
        public String toString() {
            int c = "check".length();
            int m = "measured".length();
            int e = "expected".length();
            for (Result r : results) {
                c = Math.max(c, r.check().length());
                m = Math.max(m, r.measured().length());
                e = Math.max(e, r.expected().length());
            }
            String row = "%-" + c + "s  %-" + m + "s  %-" + e + "s  %-6s  %s%n";
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, row, "check", "measured", "expected",
                    "result", "what it means"));
            for (Result r : results) {
                sb.append(String.format(Locale.ROOT, row, r.check(), r.measured(), r.expected(),
                        r.passed() ? "pass" : "FAIL", r.meaning()));
            }
            return sb.toString();
        }
    }

    /**
     * The loss a model with small weights should start at for {@code classes} classes: ln K for
     * {@link CrossEntropyLoss}, (K - 1)·Δ for the Weston-Watkins {@link MulticlassSvmLoss};
     * NaN for a loss without a known value.
     */
    public static double expectedInitialLoss(Loss loss, int classes) {
        if (loss instanceof CrossEntropyLoss) {
            return Math.log(classes);
        }
        if (loss instanceof MulticlassSvmLoss svm && svm.isLecturesLoss()) {
            return (classes - 1) * svm.margin();
        }
        return Double.NaN;
    }

    /**
     * The data loss of the model with every parameter scaled by 1e-3 (so every score is about 0)
     * on {@code batch}, against {@code expected} within a relative {@code tolerance}.
     */
    public static Result initialLoss(Block model, BiFunction<Tensor, Tensor, Tensor> loss, Batch batch,
                                     double expected, double tolerance) {
        Map<String, Tensor> small = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> small.put(k, p.detach().mul(1e-3)));
        double got;
        boolean training = model.isTraining();
        model.eval();
        try (var g = Autograd.noGrad()) {
            got = loss.apply(model.functionalCall(small, batch.inputs()), batch.targets()).item();
        } finally {
            if (training) {
                model.train();
            }
        }
        boolean ok = Double.isFinite(got) && Math.abs(got - expected) <= tolerance * Math.abs(expected);
        return new Result("initial loss (small weights)", format(got), format(expected) + " ± " + percent(tolerance),
                ok, ok ? "scores near 0 give the loss the formula predicts"
                        : "the loss is not the formula's at zero scores: check its mean over the batch, its margin "
                        + "or log, and that nothing is added to the data loss");
    }

    /**
     * Trains a copy of the model's state for {@code steps} full-batch steps on {@code batch} (20
     * examples or so) with a fresh optimizer from {@code optimizer}, and checks that the loss
     * falls below {@code target}. The model's state, gradients and mode are restored afterwards.
     */
    public static Result overfit(Block model, BiFunction<Tensor, Tensor, Tensor> loss,
                                 Function<List<Parameter>, Optimizer<?>> optimizer, Batch batch, int steps,
                                 double target) {
        Map<String, Tensor> saved = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> saved.put(k, v.detach().clone()));
        List<Parameter> params = model.parameters();
        List<Tensor> grads = new ArrayList<>();
        params.forEach(p -> grads.add(p.grad()));
        boolean training = model.isTraining();
        Optimizer<?> opt = optimizer.apply(model.parameters());
        double first = Double.NaN;
        double last = Double.NaN;
        try {
            model.train();
            for (int i = 0; i < steps; i++) {
                Tensor l = loss.apply(model.forward(batch.inputs()), batch.targets());
                last = l.item();
                if (i == 0) {
                    first = last;
                }
                if (!Double.isFinite(last)) {
                    break;
                }
                opt.zeroGrad();
                l.backward();
                opt.step();
            }
            try (var g = Autograd.noGrad()) {
                last = loss.apply(model.forward(batch.inputs()), batch.targets()).item();
            }
        } finally {
            model.loadStateDict(saved, true);
            for (int i = 0; i < params.size(); i++) {
                params.get(i).setGrad(grads.get(i));
            }
            if (!training) {
                model.eval();
            }
        }
        boolean ok = last < target;
        return new Result("overfit " + batch.size() + " examples", format(first) + " -> " + format(last) + " in "
                + steps + " steps", "below " + format(target), ok, ok ? "the model can fit a few examples"
                : "it cannot fit " + batch.size() + " examples: a bug in the model, loss or update, a learning rate too "
                + "low or too high, or too little capacity");
    }

    /**
     * Checks the gradient of {@code loss} with respect to each parameter tensor of the model on
     * {@code batch}, in float64: the backward's gradient against central differences along
     * {@code directions} random directions per tensor (relative error at most 1e-5). The model
     * is run in eval mode on float64 copies of its parameters; it is not changed.
     */
    public static Result gradients(Block model, BiFunction<Tensor, Tensor, Tensor> loss, Batch batch,
                                   int directions, long seed) {
        Map<String, Tensor> p64 = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> p64.put(k, p.detach().to(DType.FLOAT64).clone()));
        Tensor x = batch.inputs().dtype().isFloatingPoint() ? batch.inputs().to(DType.FLOAT64) : batch.inputs();
        Tensor y = batch.targets().dtype().isFloatingPoint() ? batch.targets().to(DType.FLOAT64) : batch.targets();
        boolean training = model.isTraining();
        model.eval();
        Generator rng = Generator.seeded(seed);
        double worst = 0;
        String worstName = "";
        try {
            Map<String, Tensor> leaves = new LinkedHashMap<>();
            p64.forEach((k, v) -> leaves.put(k, v.clone().requiresGrad(true)));
            loss.apply(model.functionalCall(leaves, x), y).backward();
            double eps = 1e-6;
            for (var e : p64.entrySet()) {
                Tensor analytic = leaves.get(e.getKey()).grad();
                if (analytic == null) {
                    analytic = Tensor.zerosLike(e.getValue());
                }
                for (int d = 0; d < directions; d++) {
                    Tensor v = Tensor.randn(rng, DType.FLOAT64, e.getValue().shape().toArray());
                    v = v.div(v.square().sum().sqrt().item());
                    double plus = lossWith(model, loss, p64, e.getKey(), v.mul(eps), x, y);
                    double minus = lossWith(model, loss, p64, e.getKey(), v.mul(-eps), x, y);
                    double numeric = (plus - minus) / (2 * eps);
                    double exact = analytic.mul(v).sum().item();
                    double err = Math.abs(numeric - exact) / Math.max(1e-7, Math.max(Math.abs(numeric), Math.abs(exact)));
                    if (!(err <= worst)) {
                        worst = err;
                        worstName = e.getKey();
                    }
                }
            }
        } finally {
            if (training) {
                model.train();
            }
        }
        boolean ok = worst <= 1e-5;
        return new Result("gradient check (float64, " + directions + " directions per tensor)",
                String.format(Locale.ROOT, "max relative error %.2e%s", worst, ok ? "" : " at " + worstName),
                "at most 1e-5", ok, ok ? "backward agrees with the loss's numerical slope"
                        : "the backward of an op behind '" + worstName + "' disagrees with its forward");
    }

    private static double lossWith(Block model, BiFunction<Tensor, Tensor, Tensor> loss, Map<String, Tensor> params,
                                   String name, Tensor delta, Tensor x, Tensor y) {
        Map<String, Tensor> moved = new LinkedHashMap<>(params);
        moved.put(name, params.get(name).add(delta));
        try (var g = Autograd.noGrad()) {
            return loss.apply(model.functionalCall(moved, x), y).item();
        }
    }

    /** The three checks with the usual settings: 2% on the initial loss, 20 examples, 8 directions. */
    public static Report run(Block model, Loss dataLoss, int classes, Batch twenty,
                             Function<List<Parameter>, Optimizer<?>> optimizer, int overfitSteps) {
        List<Result> results = new ArrayList<>();
        double expected = expectedInitialLoss(dataLoss, classes);
        if (!Double.isNaN(expected)) {
            results.add(initialLoss(model, dataLoss::forward, twenty, expected, 0.02));
        }
        results.add(overfit(model, dataLoss::forward, optimizer, twenty, overfitSteps, 0.05 * Math.max(1, expected)));
        Batch tiny = new Batch(twenty.inputs().narrow(0, 0, Math.min(4, twenty.size())),
                twenty.targets().narrow(0, 0, Math.min(4, twenty.size())));
        results.add(gradients(model, dataLoss::forward, tiny, 8, 0));
        return new Report(results);
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String percent(double t) {
        return String.format(Locale.ROOT, "%.0f%%", t * 100);
    }
}
