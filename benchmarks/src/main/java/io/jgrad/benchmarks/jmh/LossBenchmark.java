package io.jgrad.benchmarks.jmh;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.MulticlassSvmLoss;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Softmax cross-entropy and the multiclass SVM loss on W1's scores [128, 10], forward + backward. */
@State(Scope.Thread)
public class LossBenchmark extends Defaults {
    private final CrossEntropyLoss crossEntropy = new CrossEntropyLoss();
    private final MulticlassSvmLoss svm = new MulticlassSvmLoss();
    private Tensor scores;
    private Tensor labels;

    @Setup
    public void setup() {
        scores = Tensor.randn(Generator.seeded(0), 128, 10).requiresGrad(true);
        labels = Tensor.randint(Generator.seeded(1), 0, 10, 128);
    }

    @Benchmark
    public Tensor softmaxCrossEntropyForwardBackward() {
        scores.setGrad(null);
        crossEntropy.forward(scores, labels).backward();
        return scores.grad();
    }

    @Benchmark
    public Tensor svmForwardBackward() {
        scores.setGrad(null);
        svm.forward(scores, labels).backward();
        return scores.grad();
    }
}
