package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
