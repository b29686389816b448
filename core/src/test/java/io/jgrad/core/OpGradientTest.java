package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.cpu.BlasBackends;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every op of {@link OpTable} on every one of its shape sets: a float64 gradient check (which
 * also checks reentrancy, zero upstream gradient, gradient shapes and dtypes) and a
 * second-order check (grad of grad), on every matrix-product backend ({@link BlasBackends}).
 */
class OpGradientTest {
    private static String describe(List<OpTable.In> sample) {
        return sample.stream().map(in -> Arrays.toString(in.shape())).collect(Collectors.joining(", "));
    }

    @TestFactory
    List<DynamicContainer> firstOrder() {
        return onEveryBackend(1, GradCheck::check);
    }

    @TestFactory
    List<DynamicContainer> secondOrder() {
        return onEveryBackend(1000, GradCheck::checkSecondOrder);
    }

    /** One container per backend, each checking every op on every shape set (seeds from {@code firstSeed}). */
    private static List<DynamicContainer> onEveryBackend(long firstSeed,
            java.util.function.BiFunction<java.util.function.Function<List<Tensor>, Tensor>, Tensor[], GradCheck.Report> check) {
        List<DynamicContainer> all = new ArrayList<>();
        for (String backend : BlasBackends.names()) {
            List<DynamicTest> tests = new ArrayList<>();
            long seed = firstSeed;
            for (OpTable.Op op : OpTable.all()) {
                for (List<OpTable.In> sample : op.samples()) {
                    long s = seed++;
                    tests.add(dynamicTest(op.name() + " on " + describe(sample), () -> BlasBackends.run(backend, () -> {
                        GradCheck.Report r = check.apply(op.fn(), OpTable.inputs(sample, s));
                        assertThat(r.passed()).as(r.detail()).isTrue();
                    })));
                }
            }
            all.add(DynamicContainer.dynamicContainer(backend, tests));
        }
        return all;
    }
}
