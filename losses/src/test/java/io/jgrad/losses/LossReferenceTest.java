package io.jgrad.losses;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.Autograd;
import io.jgrad.core.ReferenceFile;
import io.jgrad.core.Tensor;
import io.jgrad.losses.Loss.Reduction;
import io.jgrad.losses.MulticlassSvmLoss.Variant;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Each loss and its gradient against PyTorch's on the same inputs ({@code reference/losses.txt}). */
class LossReferenceTest {
    private static final Map<String, Function<List<Tensor>, Tensor>> LOSSES = new LinkedHashMap<>();

    static {
        LOSSES.put("svm_mean", x -> new MulticlassSvmLoss().forward(x.get(0), x.get(1)));
        LOSSES.put("svm_sum_margin2", x -> new MulticlassSvmLoss(2, Variant.WESTON_WATKINS, false, null, Reduction.SUM)
                .forward(x.get(0), x.get(1)));
        LOSSES.put("svm_none", x -> new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, false, null, Reduction.NONE)
                .forward(x.get(0), x.get(1)));
        LOSSES.put("svm_squared", x -> new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, true, null, Reduction.MEAN)
                .forward(x.get(0), x.get(1)));
        LOSSES.put("svm_weighted", x -> new MulticlassSvmLoss(1, Variant.WESTON_WATKINS, false, x.get(2),
                Reduction.MEAN).forward(x.get(0), x.get(1)));
        LOSSES.put("ce_mean", x -> new CrossEntropyLoss().forward(x.get(0), x.get(1)));
        LOSSES.put("ce_none", x -> new CrossEntropyLoss(null, 0, -100, Reduction.NONE).forward(x.get(0), x.get(1)));
        LOSSES.put("ce_weighted", x -> new CrossEntropyLoss(x.get(2), 0, -100, Reduction.MEAN).forward(x.get(0), x.get(1)));
        LOSSES.put("ce_smoothing", x -> new CrossEntropyLoss(null, 0.1, -100, Reduction.MEAN).forward(x.get(0), x.get(1)));
        LOSSES.put("ce_weighted_smoothing", x -> new CrossEntropyLoss(x.get(2), 0.2, -100, Reduction.MEAN)
                .forward(x.get(0), x.get(1)));
        LOSSES.put("ce_ignore", x -> new CrossEntropyLoss(null, 0, 1, Reduction.MEAN).forward(x.get(0), x.get(1)));
        LOSSES.put("ce_probs", x -> new CrossEntropyLoss().forward(x.get(0), x.get(1)));
        LOSSES.put("ce_probs_smoothing_sum", x -> new CrossEntropyLoss(null, 0.3, -100, Reduction.SUM)
                .forward(x.get(0), x.get(1)));
        LOSSES.put("nll_weighted", x -> new NllLoss(x.get(2), -100, Reduction.MEAN).forward(x.get(0).logSoftmax(1),
                x.get(1)));
        LOSSES.put("bce_logits", x -> new BinaryCrossEntropyWithLogits().forward(x.get(0), x.get(1)));
        LOSSES.put("mse", x -> new MseLoss().forward(x.get(0), x.get(1)));
        LOSSES.put("l1_sum", x -> new L1Loss(Reduction.SUM).forward(x.get(0), x.get(1)));
        LOSSES.put("huber", x -> new HuberLoss(1.5, Reduction.MEAN).forward(x.get(0), x.get(1)));
        LOSSES.put("kl_mean", x -> new KlDivLoss().forward(x.get(0), x.get(1)));
        LOSSES.put("kl_batchmean", x -> KlDivLoss.batchMean().forward(x.get(0), x.get(1)));
        LOSSES.put("kl_log_target", x -> new KlDivLoss(Reduction.MEAN, true, false).forward(x.get(0), x.get(1)));
    }

    record Case(String name, List<Tensor> inputs, Tensor loss, Tensor grad) {}

    static List<Case> load() throws IOException {
        return ReferenceFile.load(LossReferenceTest.class, "/reference/losses.txt").stream()
                .map(c -> new Case(c.name(), c.all("in"), c.one("out"), c.one("grad"))).toList();
    }

    @Test
    void everyCaseHasALoss() throws IOException {
        assertThat(load().stream().map(Case::name).toList()).containsExactlyInAnyOrderElementsOf(LOSSES.keySet());
    }

    @TestFactory
    List<DynamicTest> lossAndGradientMatchPyTorch() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : load()) {
            tests.add(dynamicTest(c.name(), () -> {
                List<Tensor> in = new ArrayList<>(c.inputs());
                Tensor x = in.get(0).requiresGrad(true);
                Tensor loss = LOSSES.get(c.name()).apply(in);
                assertThat(loss.shape()).isEqualTo(c.loss().shape());
                assertThat(loss.allClose(c.loss(), 1e-10, 1e-12)).as("loss %s vs %s", loss, c.loss()).isTrue();
                Tensor g = Autograd.grad(loss.sum(), x).get(0);
                assertThat(g.allClose(c.grad(), 1e-9, 1e-12)).as("grad%n%s%nvs%n%s", g, c.grad()).isTrue();
            }));
        }
        return tests;
    }
}
