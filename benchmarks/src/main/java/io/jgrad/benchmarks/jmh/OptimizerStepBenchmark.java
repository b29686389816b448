package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.optim.Adam;
import io.jgrad.optim.Optimizer;
import io.jgrad.optim.Sgd;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** One optimizer step over W2's parameters (784-512-256-10, 535,818 floats) with fixed gradients. */
@State(Scope.Thread)
public class OptimizerStepBenchmark extends Defaults {
    @Param({"sgd-momentum", "sgd-nesterov-decay", "adam"})
    public String optimizer;

    private Optimizer<?> opt;

    @Setup
    public void setup() {
        Generator g = Generator.seeded(0);
        List<Parameter> params = new ArrayList<>();
        int[][] shapes = {{512, 784}, {512}, {256, 512}, {256}, {10, 256}, {10}};
        for (int[] s : shapes) {
            Parameter p = new Parameter(Tensor.randn(g, s));
            p.setGrad(Tensor.randn(g, s));
            params.add(p);
        }
        opt = switch (optimizer) {
            case "sgd-momentum" -> new Sgd(params, Sgd.Options.lr(0.05).withMomentum(0.9));
            case "sgd-nesterov-decay" -> new Sgd(params, Sgd.Options.lr(0.05).withMomentum(0.9).withNesterov(true)
                    .withWeightDecay(1e-4));
            default -> new Adam(params, Adam.Options.lr(1e-3));
        };
    }

    @Benchmark
    public Optimizer<?> step() {
        opt.step();
        return opt;
    }
}
