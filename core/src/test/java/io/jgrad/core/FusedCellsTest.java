package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.backend.Backend;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fused LSTM cell kernels give the bits of the elementwise ops they replace (on the CPU
 * backend, in FLOAT32 and FLOAT64), agree with the reference backend, and refuse to run where a
 * gradient would be lost.
 */
class FusedCellsTest {
    private static final int B = 5;
    private static final int H = 37; // not a multiple of the vector width: the tails run too

    private static float[] bits(Tensor t) {
        return t.toFloatArray();
    }

    /** The step written op by op, as Cells.step and FusedLstm's former backward wrote it. */
    private static Tensor[] byOps(Tensor gates, Tensor c) {
        Tensor i = gates.narrow(1, 0, H).sigmoid();
        Tensor f = gates.narrow(1, H, H).sigmoid();
        Tensor g = gates.narrow(1, 2 * H, H).tanh();
        Tensor o = gates.narrow(1, 3 * H, H).sigmoid();
        Tensor c2 = f.mul(c).add(i.mul(g));
        Tensor tanh = c2.tanh();
        return new Tensor[] {o.mul(tanh), c2, Tensor.cat(List.of(i, f, g, o), 1), tanh};
    }

    private static Tensor[] backwardByOps(Tensor dh, Tensor dc, Tensor[] fwd, Tensor cPrev) {
        Tensor acts = fwd[2];
        Tensor i = acts.narrow(1, 0, H);
        Tensor f = acts.narrow(1, H, H);
        Tensor g = acts.narrow(1, 2 * H, H);
        Tensor o = acts.narrow(1, 3 * H, H);
        Tensor tanh = fwd[3];
        Tensor dO = dh.mul(tanh);
        Tensor cc = dc.add(dh.mul(o).mul(tanh.mul(tanh).neg().add(1.0)));
        Tensor gi = cc.mul(g).mul(i).mul(i.neg().add(1.0));
        Tensor gf = cc.mul(cPrev).mul(f).mul(f.neg().add(1.0));
        Tensor gg = cc.mul(i).mul(g.mul(g).neg().add(1.0));
        Tensor go = dO.mul(o).mul(o.neg().add(1.0));
        return new Tensor[] {Tensor.cat(List.of(gi, gf, gg, go), 1), cc.mul(f)};
    }

    @Test
    void theCellGivesTheBitsOfItsElementwiseOps() {
        for (DType dt : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Generator rng = Generator.seeded(11);
            Tensor gates = Tensor.randn(rng, dt, B, 4 * H).mul(3.0);
            Tensor c = Tensor.randn(rng, dt, B, H);
            Tensor dh = Tensor.randn(rng, dt, B, H);
            Tensor dc = Tensor.randn(rng, dt, B, H);
            FusedCells.LstmStep step = FusedCells.lstm(gates, c);
            Tensor[] ops = byOps(gates, c);
            Tensor[] fused = {step.h(), step.c(), step.activations(), step.tanhC()};
            for (int k = 0; k < 4; k++) {
                assertThat(fused[k].dtype()).isEqualTo(dt);
                assertThat(fused[k].toDoubleArray()).as("%s output %d", dt, k).containsExactly(ops[k].toDoubleArray());
            }
            FusedCells.LstmGrads grads = FusedCells.lstmBackward(dh, dc, step, c);
            Tensor[] want = backwardByOps(dh, dc, ops, c);
            assertThat(grads.gates().toDoubleArray()).as("%s gates' gradient", dt).containsExactly(want[0].toDoubleArray());
            assertThat(grads.c().toDoubleArray()).as("%s cell's gradient", dt).containsExactly(want[1].toDoubleArray());
        }
    }

    @Test
    void theReferenceBackendAgrees() {
        Generator rng = Generator.seeded(12);
        double[] g = Tensor.randn(rng, DType.FLOAT64, B, 4 * H).toDoubleArray();
        double[] c = Tensor.randn(rng, DType.FLOAT64, B, H).toDoubleArray();
        double[] d = Tensor.randn(rng, DType.FLOAT64, B, H).toDoubleArray();
        Tensor[] cpu = run(g, c, d);
        Tensor[] ref = Backends.with(Backends.reference(), () -> run(g, c, d));
        assertThat(ref[0].backend()).isSameAs(Backends.reference());
        for (int k = 0; k < cpu.length; k++) {
            assertThat(ref[k].allClose(cpu[k], 1e-12, 1e-14)).as("result %d", k).isTrue();
        }
    }

    private static Tensor[] run(double[] g, double[] c, double[] d) {
        Tensor gates = Tensor.of(g, B, 4 * H);
        Tensor cs = Tensor.of(c, B, H);
        Tensor dh = Tensor.of(d, B, H);
        FusedCells.LstmStep s = FusedCells.lstm(gates, cs);
        FusedCells.LstmGrads r = FusedCells.lstmBackward(dh, dh.mul(0.5), s, cs);
        return new Tensor[] {s.h(), s.c(), s.activations(), s.tanhC(), r.gates(), r.c()};
    }

    /**
     * A whole sequence, forward and backward, against the steps written one by one with
     * {@link FusedCells#lstm}, matmul and add; on the CPU and the reference backend.
     */
    @Test
    void theSequenceKernelsAgreeWithTheStepsOneByOneOnBothBackends() {
        int steps = 4;
        Generator rng = Generator.seeded(13);
        double[] ih = Tensor.randn(rng, DType.FLOAT64, steps, B, 4 * H).toDoubleArray();
        double[] h0 = Tensor.randn(rng, DType.FLOAT64, B, H).toDoubleArray();
        double[] c0 = Tensor.randn(rng, DType.FLOAT64, B, H).toDoubleArray();
        double[] whh = Tensor.randn(rng, DType.FLOAT64, 4 * H, H).mul(0.3).toDoubleArray();
        double[] bhh = Tensor.randn(rng, DType.FLOAT64, 4 * H).toDoubleArray();
        double[] dOut = Tensor.randn(rng, DType.FLOAT64, steps + 1, B, H).toDoubleArray();
        for (Backend backend : List.of(Backends.cpu(), Backends.reference())) {
            Backends.with(backend, () -> {
                Tensor x = Tensor.of(ih, steps, B, 4 * H);
                Tensor w = Tensor.of(whh, 4 * H, H);
                Tensor h = Tensor.of(h0, B, H);
                Tensor c = Tensor.of(c0, B, H);
                Tensor bias = Tensor.of(bhh, 4 * H);
                FusedCells.LstmSequence seq = FusedCells.lstmSequence(x, h, c, w, bias);
                assertThat(seq.packed().backend()).isSameAs(backend);
                FusedCells.LstmStep[] byStep = new FusedCells.LstmStep[steps];
                Tensor[] cellBefore = new Tensor[steps];
                for (int t = 0; t < steps; t++) {
                    cellBefore[t] = c;
                    byStep[t] = FusedCells.lstm(x.select(0, t).add(h.matmul(w.transpose(0, 1)).add(bias)), c);
                    h = byStep[t].h();
                    c = byStep[t].c();
                    assertClose(seq.packed().select(0, t), h, backend + " h" + (t + 1));
                    assertClose(seq.activations().select(0, t), byStep[t].activations(), backend + " activations " + t);
                    assertClose(seq.cellStates().select(0, t), c, backend + " c" + (t + 1));
                }
                assertClose(seq.packed().select(0, steps), c, backend + " last cell state");

                Tensor d = Tensor.of(dOut, steps + 1, B, H);
                FusedCells.LstmSequenceGrads grads = FusedCells.lstmSequenceBackward(d, seq, Tensor.of(c0, B, H), w);
                Tensor dc = d.select(0, steps);
                Tensor carry = Tensor.zeros(DType.FLOAT64, B, H);
                for (int t = steps - 1; t >= 0; t--) {
                    FusedCells.LstmGrads g = FusedCells.lstmBackward(d.select(0, t).add(carry), dc, byStep[t], cellBefore[t]);
                    assertClose(grads.ih().select(0, t), g.gates(), backend + " gates' gradient " + t);
                    carry = g.gates().matmul(w);
                    dc = g.c();
                }
                assertClose(grads.h0(), carry, backend + " h0's gradient");
                assertClose(grads.c0(), dc, backend + " c0's gradient");
                return null;
            });
        }
    }

    private static void assertClose(Tensor actual, Tensor expected, String what) {
        assertThat(actual.shape()).as(what).isEqualTo(expected.shape());
        assertThat(actual.allClose(expected, 1e-12, 1e-13)).as("%s: %s vs %s", what, actual, expected).isTrue();
    }

    @Test
    void itRefusesWhereAGradientWouldBeLostAndNamesBadShapes() {
        Tensor gates = Tensor.zeros(2, 8).requiresGrad(true);
        Tensor c = Tensor.zeros(2, 2);
        assertThatThrownBy(() -> FusedCells.lstm(gates, c)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("records no gradient");
        try (var n = Autograd.noGrad()) {
            assertThat(FusedCells.lstm(gates, c).h().shape()).isEqualTo(Shape.of(2, 2));
        }
        assertThatThrownBy(() -> FusedCells.lstm(Tensor.zeros(2, 7), c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[B, 4H]").hasMessageContaining("[2, 7]");
        assertThatThrownBy(() -> FusedCells.lstm(Tensor.zeros(DType.FLOAT64, 2, 8), c))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("float64 and float32");
    }
}
