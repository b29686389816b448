package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TraceTest {
    private static List<String> names(List<Trace.Op> ops) {
        return ops.stream().map(Trace.Op::name).toList();
    }

    @Test
    void opsAreRecordedInOrderWithOperandsResultsAndArguments() {
        Tensor x = Tensor.randn(Generator.seeded(1), 2, 3);
        Tensor w = Tensor.randn(Generator.seeded(2), 3, 4).requiresGrad(true);
        Tensor y;
        List<Trace.Op> ops;
        try (Trace t = Trace.start()) {
            assertThat(Trace.isTracing()).isTrue();
            y = x.matmul(w).relu().softmax(-1).transpose(0, 1).sum(1);
            ops = t.ops();
        }
        assertThat(Trace.isTracing()).isFalse();
        assertThat(names(ops)).containsExactly("matmul", "relu", "softmax", "transpose", "sum");
        assertThat(ops.get(0).inputs()).containsExactly(x, w);
        assertThat(ops.get(1).inputs()).containsExactly(ops.get(0).output());
        assertThat(ops.get(4).output()).isSameAs(y);
        assertThat(ops.get(2).attributes()).containsEntry("dim", 1); // normalised
        assertThat(ops.get(3).attributes()).containsEntry("dim0", 0).containsEntry("dim1", 1);
        assertThat(ops.get(4).attributes()).containsEntry("dim", 1);
        assertThat(ops.get(0).site().get(0).getMethodName()).isEqualTo("opsAreRecordedInOrderWithOperandsResultsAndArguments");
        assertThat(ops.get(2).toString()).isEqualTo("softmax([2, 4]) -> [2, 4] dim=1");
    }

    @Test
    void opsWithoutGradientsAreRecordedToo() {
        Tensor x = Tensor.of(new float[] {-1, 2, 3}, 3);
        List<Trace.Op> ops;
        try (Trace t = Trace.start(); var s = Autograd.noGrad()) {
            Tensor.where(x.gt(0), x, x.mul(0.1)).argmax(0);
            x.to(DType.INT64).detach();
            ops = t.ops();
        }
        assertThat(names(ops)).containsExactly("gt", "mul", "where", "max", "argmax", "to", "detach");
        assertThat(ops.get(2).inputs()).as("where's condition is an operand")
                .containsExactly(ops.get(0).output(), x, ops.get(1).output());
        assertThat(ops.get(4).attributes()).containsEntry("dim", 0);
    }

    @Test
    void aFunctionHoldsTheOpsItRanAndNothingIsRecordedWithoutATrace() {
        Tensor x = Tensor.ones(2);
        Tensor plain = Trace.function("double", List.of(x), () -> x.mul(2), "factor", 2);
        assertThat(plain.toFloatArray()).containsExactly(2, 2);
        List<Trace.Op> ops;
        try (Trace t = Trace.start()) {
            Tensor y = Trace.function("double", List.of(x), () -> x.mul(2), "factor", 2);
            y.neg();
            ops = t.ops();
        }
        assertThat(names(ops)).containsExactly("double", "neg");
        assertThat(names(ops.get(0).body())).containsExactly("mul");
        assertThat(ops.get(0).attributes()).containsEntry("factor", 2);
        assertThat(ops.get(0).output()).isSameAs(ops.get(1).inputs().get(0));
    }

    @Test
    void aCustomOpIsOneOpNotTheOpsItsForwardRan() {
        CustomOp square = new CustomOp() {
            @Override
            protected Tensor forward(Context ctx, Tensor... in) {
                ctx.saveForBackward(in[0]);
                return in[0].mul(in[0]);
            }

            @Override
            protected Tensor[] backward(Context ctx, Tensor dOut) {
                return new Tensor[] {dOut.mul(ctx.saved().get(0)).mul(2)};
            }

            @Override
            public String name() {
                return "square";
            }
        };
        Tensor x = Tensor.ones(3).requiresGrad(true);
        List<Trace.Op> ops;
        try (Trace t = Trace.start()) {
            square.apply(x);
            ops = t.ops();
        }
        assertThat(names(ops)).containsExactly("square");
        assertThat(ops.get(0).inputs()).containsExactly(x);
    }

    @Test
    void aTraceIsItsThreadsAndOnePerThread() throws Exception {
        try (Trace t = Trace.start()) {
            assertThatThrownBy(Trace::start).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already tracing");
            AtomicReference<Boolean> other = new AtomicReference<>();
            Thread th = new Thread(() -> {
                other.set(Trace.isTracing());
                Tensor.ones(2).neg();
            });
            th.start();
            th.join();
            assertThat(other.get()).isFalse();
            assertThat(t.ops()).isEmpty();
            t.close();
            t.close(); // idempotent
        }
        try (Trace again = Trace.start()) {
            assertThat(again.ops()).isEmpty();
        }
    }
}
