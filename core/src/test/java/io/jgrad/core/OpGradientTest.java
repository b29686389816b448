package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

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
 * second-order check (grad of grad), on every matrix-product backend ({@link Backends}).
 */
class OpGradientTest {
    private static String describe(List<OpTable.In> sample) {
        return sample.stream().map(in -> Arrays.toString(in.shape())).collect(Collectors.joining(", "));
    }

    @TestFactory
    List<DynamicContainer> firstOrder() {
        List<DynamicContainer> all = new ArrayList<>();
        for (String backend : Backends.names()) {
            List<DynamicTest> tests = new ArrayList<>();
            long seed = 1;
            for (OpTable.Op op : OpTable.all()) {
                for (List<OpTable.In> sample : op.samples()) {
                    long s = seed++;
                    tests.add(dynamicTest(op.name() + " on " + describe(sample), () -> Backends.run(backend, () -> {
                        GradCheck.Report r = GradCheck.check(op.fn(), OpTable.inputs(sample, s));
                        assertThat(r.passed()).as(r.detail()).isTrue();
                    })));
                }
            }
            all.add(DynamicContainer.dynamicContainer(backend, tests));
        }
        return all;
    }

    @TestFactory
    List<DynamicContainer> secondOrder() {
        List<DynamicContainer> all = new ArrayList<>();
        for (String backend : Backends.names()) {
            List<DynamicTest> tests = new ArrayList<>();
            long seed = 1000;
            for (OpTable.Op op : OpTable.all()) {
                for (List<OpTable.In> sample : op.samples()) {
                    long s = seed++;
                    tests.add(dynamicTest(op.name() + " on " + describe(sample), () -> Backends.run(backend, () -> {
                        GradCheck.Report r = GradCheck.checkSecondOrder(op.fn(), OpTable.inputs(sample, s));
                        assertThat(r.passed()).as(r.detail()).isTrue();
                    })));
                }
            }
            all.add(DynamicContainer.dynamicContainer(backend, tests));
        }
        return all;
    }
}
