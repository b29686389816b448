package io.jgrad.benchmarks;

import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.optim.Adagrad;
import io.jgrad.optim.Adam;
import io.jgrad.optim.Optimizer;
import io.jgrad.optim.RmsProp;
import io.jgrad.optim.Sgd;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Bytes allocated per optimizer step once warmed up (the JVM's per-thread allocation counter),
 * for the W2 model's parameter shapes with gradients already in place.
 *
 * <pre>java -cp ... io.jgrad.benchmarks.OptimizerAllocation</pre>
 */
public final class OptimizerAllocation {
    private OptimizerAllocation() {}

    /** Prints bytes per step for each optimizer. */
    public static void main(String[] args) {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        List<Function<List<Parameter>, Optimizer<?>>> makers = List.of(
                ps -> new Sgd(ps, Sgd.Options.lr(0.05).withMomentum(0.9)),
                ps -> new Sgd(ps, Sgd.Options.lr(0.05).withMomentum(0.9).withNesterov(true).withWeightDecay(1e-4)),
                ps -> new Adam(ps, Adam.Options.lr(1e-3)),
                ps -> new Adam(ps, Adam.Options.adamW(1e-3).withAmsgrad(true)),
                ps -> new RmsProp(ps, RmsProp.Options.lr(1e-3).withCentered(true).withMomentum(0.9)),
                ps -> new Adagrad(ps, Adagrad.Options.lr(1e-2)));
        List<String> names = List.of("Sgd momentum", "Sgd nesterov + weight decay", "Adam", "AdamW amsgrad",
                "RmsProp centered momentum", "Adagrad");
        for (int i = 0; i < makers.size(); i++) {
            Generator g = Generator.seeded(i);
            List<Parameter> ps = List.of(new Parameter(Tensor.randn(g, 512, 784)), new Parameter(Tensor.randn(g, 512)),
                    new Parameter(Tensor.randn(g, 256, 512)), new Parameter(Tensor.randn(g, 256)),
                    new Parameter(Tensor.randn(g, 10, 256)), new Parameter(Tensor.randn(g, 10)));
            for (Parameter p : ps) {
                p.setGrad(Tensor.randn(g, p.shape().toArray()).mul(1e-3));
            }
            Optimizer<?> opt = makers.get(i).apply(ps);
            for (int w = 0; w < 20_000; w++) {
                opt.step();
            }
            int steps = 1000;
            long before = bean.getThreadAllocatedBytes(id);
            for (int s = 0; s < steps; s++) {
                opt.step();
            }
            long bytes = bean.getThreadAllocatedBytes(id) - before;
            System.out.printf(Locale.ROOT, "%-28s %8.1f bytes per step (%d steps)%n", names.get(i),
                    (double) bytes / steps, steps);
        }
    }
}
