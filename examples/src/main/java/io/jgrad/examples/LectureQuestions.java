package io.jgrad.examples;

import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Loss.Reduction;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.losses.MulticlassSvmLoss.Variant;
import java.util.Locale;

/**
 * The lecture's worked examples and questions about the loss functions, answered by computing
 * them: the SVM losses of the cat/car/frog scores, the softmax of the cat image, and questions
 * 1-6 (small score changes, minimum and maximum loss, the loss at initialisation, summing over
 * all classes, mean instead of sum, squared hinge) plus W versus 2W.
 */
public final class LectureQuestions {
    private LectureQuestions() {}

    private static void say(String format, Object... args) {
        System.out.printf(Locale.ROOT, format + "%n", args);
    }

    /** Prints each question and its computed answer. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return new Cli("LectureQuestions").run(argv, LectureQuestions::answer);
    }

    private static int answer() {
        // rows: images (cat, car, frog); columns: scores for cat, car, frog
        Tensor s = Tensor.of(new double[][] {{3.2, 5.1, -1.7}, {1.3, 4.9, 2.0}, {2.2, 2.5, -3.1}});
        Tensor y = Tensor.of(new long[] {0, 1, 2});
        MulticlassSvmLoss perImage = new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, false, null, Reduction.NONE);
        double[] li = perImage.forward(s, y).toDoubleArray();
        say("SVM losses L_i of the cat, car and frog images: %.1f, %.1f, %.1f; L = mean = %.2f", li[0], li[1], li[2],
                new MulticlassSvmLoss().forward(s, y).item());
        double[] p = s.narrow(0, 0, 1).softmax(1).toDoubleArray();
        say("softmax of the cat image's scores: %.2f, %.2f, %.2f; its loss -ln %.2f = %.2f (base-10: %.2f)", p[0], p[1],
                p[2], p[0], -Math.log(p[0]), -Math.log10(p[0]));
        Tensor nudged = s.add(Tensor.of(new double[][] {{0, 0, 0}, {0.5, -0.5, 0.5}, {0, 0, 0}}));
        say("Q1: the car image's scores change a little (car still wins by > 1): its L_i stays %.1f",
                perImage.forward(nudged, y).toDoubleArray()[1]);
        say("Q2: the SVM loss is at least 0 (min %.1f here) and has no upper bound (scores -1e3 for the right class: %.0f)",
                perImage.forward(s, y).min().item(), new MulticlassSvmLoss().forward(Tensor.of(new double[][] {{-1e3, 0, 0}}),
                        Tensor.of(new long[] {0})).item());
        Tensor small = Tensor.randn(Generator.seeded(0), DType.FLOAT64, 100, 10).mul(1e-6);
        Tensor labels = Tensor.randint(Generator.seeded(1), 0, 10, 100);
        say("Q3: at initialisation (scores ~ 0, K = 10): SVM loss %.4f = K - 1; softmax loss %.4f = ln K = %.4f",
                new MulticlassSvmLoss().forward(small, labels).item(), new CrossEntropyLoss().forward(small, labels).item(),
                Math.log(10));
        double[] all = new MulticlassSvmLoss(1, Variant.ALL_CLASSES, false, null, Reduction.NONE).forward(s, y).toDoubleArray();
        say("Q4: summing over all classes, j = y_i included: %.1f, %.1f, %.1f (each L_i grows by exactly the margin 1)",
                all[0], all[1], all[2]);
        say("Q5: the mean over classes instead of the sum: %.4f = the sum / 3, so the minimiser does not change",
                new MulticlassSvmLoss().forward(s, y).item() / 3);
        double[] sq = new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, true, null, Reduction.NONE).forward(s, y).toDoubleArray();
        say("Q6: squared hinge: %.2f, %.2f, %.2f: a different loss that punishes large margin violations more",
                sq[0], sq[1], sq[2]);
        Tensor x = Tensor.of(new double[][] {{1, 0}, {0, 1}, {1, 1}});
        Tensor w = Tensor.of(new double[][] {{4, 0}, {0, 2}});
        Tensor yw = Tensor.of(new long[] {0, 1, 0});
        say("W vs 2W: a W with zero SVM loss (%.1f) keeps it at 2W (%.1f): W is not unique, hence regularization",
                new MulticlassSvmLoss().forward(x.matmul(w.t()), yw).item(),
                new MulticlassSvmLoss().forward(x.matmul(w.mul(2).t()), yw).item());
        System.out.println("RESULT {\"program\":\"lecture-questions\",\"svm_losses\":[" + li[0] + "," + li[1] + "," + li[2]
                + "],\"softmax_loss\":" + (-Math.log(p[0])) + "}");
        return Cli.DONE;
    }
}
