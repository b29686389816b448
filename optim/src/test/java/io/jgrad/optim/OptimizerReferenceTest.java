package io.jgrad.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Five steps of every optimizer on fixed gradients, and every schedule's learning rates,
 * against PyTorch's ({@code reference/optim.txt}, from {@code make_reference.py}).
 */
class OptimizerReferenceTest {
    private static final Map<String, Function<List<Parameter>, Optimizer<?>>> OPTIMIZERS = new LinkedHashMap<>();
    private static final Map<String, Function<Optimizer<?>, Object>> SCHEDULES = new LinkedHashMap<>();

    static {
        OPTIMIZERS.put("sgd", ps -> new Sgd(ps, Sgd.Options.lr(0.1)));
        OPTIMIZERS.put("sgd_momentum", ps -> new Sgd(ps, Sgd.Options.lr(0.1).withMomentum(0.9)));
        OPTIMIZERS.put("sgd_momentum_dampening_wd", ps -> new Sgd(ps, Sgd.Options.lr(0.05).withMomentum(0.8)
                .withDampening(0.3).withWeightDecay(0.01)));
        OPTIMIZERS.put("sgd_nesterov_wd", ps -> new Sgd(ps, Sgd.Options.lr(0.1).withMomentum(0.9).withNesterov(true)
                .withWeightDecay(0.001)));
        OPTIMIZERS.put("adam", ps -> new Adam(ps, Adam.Options.lr(0.01)));
        OPTIMIZERS.put("adam_wd_amsgrad", ps -> new Adam(ps, Adam.Options.lr(0.02).withBetas(0.8, 0.9)
                .withWeightDecay(0.1).withAmsgrad(true)));
        OPTIMIZERS.put("adamw", ps -> Adam.adamW(ps, 0.01));
        OPTIMIZERS.put("adamw_amsgrad", ps -> new Adam(ps, Adam.Options.adamW(0.01).withWeightDecay(0.05)
                .withAmsgrad(true)));
        OPTIMIZERS.put("rmsprop", ps -> new RmsProp(ps, RmsProp.Options.lr(0.01)));
        OPTIMIZERS.put("rmsprop_centered_momentum_wd", ps -> new RmsProp(ps, RmsProp.Options.lr(0.01).withAlpha(0.9)
                .withCentered(true).withMomentum(0.5).withWeightDecay(0.01)));
        OPTIMIZERS.put("adagrad", ps -> new Adagrad(ps, Adagrad.Options.lr(0.1)));
        OPTIMIZERS.put("adagrad_decay_init_wd", ps -> new Adagrad(ps, Adagrad.Options.lr(0.1).withLrDecay(0.1)
                .withInitialAccumulator(0.5).withWeightDecay(0.01)));
        OPTIMIZERS.put("sgd_groups", ps -> new Sgd(List.of(
                new Optimizer.Group<>(List.of(ps.get(0)), Sgd.Options.lr(0.1).withMomentum(0.9).withWeightDecay(0.1)),
                new Optimizer.Group<>(List.of(ps.get(1)), Sgd.Options.lr(0.5).withMomentum(0.9)))));

        SCHEDULES.put("step", o -> new LrSchedule(o, LrSchedule.stepLr(3, 0.5)));
        SCHEDULES.put("multistep", o -> new LrSchedule(o, LrSchedule.multiStep(new int[] {2, 5}, 0.1)));
        SCHEDULES.put("exponential", o -> new LrSchedule(o, LrSchedule.exponential(0.9)));
        SCHEDULES.put("cosine", o -> new LrSchedule(o, LrSchedule.cosine(10, 0.01)));
        SCHEDULES.put("linear", o -> new LrSchedule(o, LrSchedule.linearWarmup(0.1, 1.0, 4)));
        SCHEDULES.put("warmup_then_cosine", o -> new LrSchedule(o, LrSchedule.sequential(List.of(
                LrSchedule.linearWarmup(0.1, 1.0, 3), LrSchedule.cosine(8, 0)), new int[] {3})));
        SCHEDULES.put("plateau", o -> new ReduceLrOnPlateau(o, 0.5, 2, 1e-4, 0, 0));
    }

    private static double[] parse(String s) {
        return Arrays.stream(s.trim().split(" ")).mapToDouble(Double::parseDouble).toArray();
    }

    private static List<String> lines() throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                OptimizerReferenceTest.class.getResourceAsStream("/reference/optim.txt"), StandardCharsets.UTF_8))) {
            return r.lines().toList();
        }
    }

    private static Tensor[] pair(String line) {
        String[] halves = line.split("\\|");
        return new Tensor[] {Tensor.of(parse(halves[0]), 3, 4), Tensor.of(parse(halves[1]), 4)};
    }

    @Test
    void everyReferenceCaseIsCovered() throws IOException {
        List<String> cases = lines().stream().filter(l -> l.startsWith("case ")).map(l -> l.substring(5)).toList();
        List<String> lrs = lines().stream().filter(l -> l.startsWith("lr ")).map(l -> l.split(" ")[1]).toList();
        assertThat(cases).containsExactlyInAnyOrderElementsOf(OPTIMIZERS.keySet());
        assertThat(lrs).containsExactlyInAnyOrderElementsOf(SCHEDULES.keySet());
    }

    @TestFactory
    List<DynamicTest> trajectoriesMatchPyTorch() throws IOException {
        List<String> lines = lines();
        Tensor[] init = pair(lines.stream().filter(l -> l.startsWith("init ")).findFirst().orElseThrow().substring(5));
        List<Tensor[]> grads = lines.stream().filter(l -> l.startsWith("grads ")).map(l -> pair(l.substring(6))).toList();
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("case ")) {
                continue;
            }
            String name = lines.get(i).substring(5);
            List<Tensor[]> expected = new ArrayList<>();
            for (int k = i + 1; k < lines.size() && lines.get(k).startsWith("param "); k++) {
                expected.add(pair(lines.get(k).substring(6)));
            }
            tests.add(dynamicTest(name, () -> {
                List<Parameter> ps = List.of(new Parameter(init[0].clone()), new Parameter(init[1].clone()));
                Optimizer<?> opt = OPTIMIZERS.get(name).apply(ps);
                assertThat(expected).hasSize(grads.size());
                for (int step = 0; step < grads.size(); step++) {
                    ps.get(0).setGrad(grads.get(step)[0]);
                    ps.get(1).setGrad(grads.get(step)[1]);
                    opt.step();
                    for (int j = 0; j < 2; j++) {
                        assertThat(ps.get(j).allClose(expected.get(step)[j], 1e-12, 1e-14))
                                .as("%s step %s parameter %s:%n%s%nvs PyTorch%n%s", name, step + 1, j, ps.get(j),
                                        expected.get(step)[j]).isTrue();
                    }
                }
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> schedulesMatchPyTorch() throws IOException {
        double[] metrics = {5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 1, 1};
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : lines()) {
            if (!line.startsWith("lr ")) {
                continue;
            }
            String[] parts = line.split(" ", 3);
            double[] expected = parse(parts[2]);
            tests.add(dynamicTest(parts[1], () -> {
                Sgd opt = new Sgd(List.of(new Parameter(Tensor.zeros(1))), Sgd.Options.lr(0.1));
                Object s = SCHEDULES.get(parts[1]).apply(opt);
                for (int e = 0; e < expected.length; e++) {
                    if (s instanceof LrSchedule sched) {
                        sched.step();
                    } else {
                        ((ReduceLrOnPlateau) s).step(metrics[e]);
                    }
                    assertThat(opt.learningRate(0)).as("%s epoch %s", parts[1], e + 1)
                            .isCloseTo(expected[e], org.assertj.core.api.Assertions.within(1e-15));
                }
            }));
        }
        return tests;
    }
}
