package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Rnn, Lstm, Gru and their cells against PyTorch 1.13 in float64 on fixed weights (PyTorch's
 * state dicts load as they are): outputs, final states and the gradients of a fixed weighted sum
 * of them with respect to the input, the initial states and every parameter, to 1e-10
 * ({@code layers/src/test/python/make_recurrent_reference.py} wrote the cases); then float64
 * gradient checks of first and second order.
 */
class RecurrentTest {
    private static Map<String, Tensor> load(String file) throws IOException {
        return TorchCases.load(file);
    }

    private static void close(Tensor got, Tensor want, String what) {
        TorchCases.close(got, want, what);
    }

    /** Loads PyTorch's weights into {@code m}, runs {@code run}, and compares everything with PyTorch's. */
    private static void matches(String name, Block m, Runner run) throws IOException {
        m.to(DType.FLOAT64);
        Block.LoadResult r = m.loadStateDict(load(name + ".safetensors"), true);
        assertThat(r.missingKeys()).isEmpty();
        assertThat(r.unexpectedKeys()).isEmpty();
        Map<String, Tensor> io = load(name + "-io.safetensors");
        Tensor x = io.get("input").requiresGrad(true);
        Tensor h0 = io.get("h0").requiresGrad(true);
        Tensor c0 = io.containsKey("c0") ? io.get("c0").requiresGrad(true) : null;
        Tensor[] out = run.run(x, h0, c0); // output, h, c
        close(out[0], io.get("output"), name + " output");
        close(out[1], io.get("h"), name + " h");
        Tensor loss = out[0].mul(io.get("r_output")).sum();
        if (!name.endsWith("cell")) {
            loss = loss.add(out[1].mul(io.get("r_h")).sum());
        }
        if (c0 != null) {
            close(out[2], io.get("c"), name + " c");
            loss = loss.add(out[2].mul(io.get("r_c")).sum());
        }
        loss.backward();
        close(x.grad(), io.get("grad.input"), name + " d/dinput");
        close(h0.grad(), io.get("grad.h0"), name + " d/dh0");
        if (c0 != null) {
            close(c0.grad(), io.get("grad.c0"), name + " d/dc0");
        }
        for (var p : m.namedParameters().entrySet()) {
            close(p.getValue().grad(), io.get("grad." + p.getKey()), name + " d/d" + p.getKey());
        }
    }

    @FunctionalInterface
    private interface Runner {
        Tensor[] run(Tensor x, Tensor h0, Tensor c0);
    }

    private static final Generator G = Generator.seeded(0);

    @Test
    void aTwoLayerBatchFirstLstmGivesPyTorchsOutputsStatesAndGradients() throws IOException {
        Lstm lstm = new Lstm(4, 5, 2, true, true, G);
        matches("lstm", lstm, (x, h, c) -> {
            Recurrent.Output o = lstm.forward(x, h, c);
            return new Tensor[] {o.output(), o.h(), o.c()};
        });
    }

    @Test
    void aTwoLayerSequenceFirstGruGivesPyTorchsOutputsStatesAndGradients() throws IOException {
        Gru gru = new Gru(4, 5, 2, true, false, G);
        matches("gru", gru, (x, h, c) -> {
            Recurrent.Output o = gru.forward(x, h);
            assertThat(o.c()).isNull();
            return new Tensor[] {o.output(), o.h()};
        });
    }

    @Test
    void aReluRnnGivesPyTorchsOutputsStatesAndGradients() throws IOException {
        Rnn rnn = new Rnn(4, 5, 1, true, true, true, G);
        matches("rnn", rnn, (x, h, c) -> {
            Recurrent.Output o = rnn.forward(x, h);
            return new Tensor[] {o.output(), o.h()};
        });
    }

    @Test
    void theCellsGivePyTorchsStepsAndGradients() throws IOException {
        RecurrentCell.LstmCell lstm = new RecurrentCell.LstmCell(4, 5, true, G);
        matches("lstmcell", lstm, (x, h, c) -> {
            RecurrentCell.LstmCell.State s = lstm.forward(x, h, c);
            return new Tensor[] {s.h(), s.h(), s.c()};
        });
        RecurrentCell.GruCell gru = new RecurrentCell.GruCell(4, 5, true, G);
        matches("grucell", gru, (x, h, c) -> {
            Tensor h1 = gru.forward(x, h);
            return new Tensor[] {h1, h1};
        });
    }

    @Test
    void gradientsOfFirstAndSecondOrderCheckInFloat64() {
        Generator g = Generator.seeded(5);
        for (Recurrent m : List.of(new Lstm(3, 4, 2, true, true, g), new Gru(3, 4, 1, false, false, g),
                new Rnn(3, 4, 2, true, true, false, g))) {
            m.to(DType.FLOAT64);
            Map<String, Tensor> params = new LinkedHashMap<>();
            m.namedParameters().forEach((k, p) -> params.put(k, p.detach().clone().requiresGrad(true)));
            List<String> names = List.copyOf(params.keySet());
            Tensor x = Tensor.randn(g, DType.FLOAT64, 2, 3, 3).requiresGrad(true);
            Tensor[] inputs = new Tensor[names.size() + 1];
            inputs[0] = x;
            for (int i = 0; i < names.size(); i++) {
                inputs[i + 1] = params.get(names.get(i));
            }
            java.util.function.Function<List<Tensor>, Tensor> f = ts -> {
                Map<String, Tensor> rep = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    rep.put(names.get(i), ts.get(i + 1));
                }
                return m.functionalCall(rep, ts.get(0)).tanh().sum(); // tanh: a loss curved in the outputs
            };
            GradCheck.check(f, inputs).assertPassed();
            String first = names.get(0);
            GradCheck.checkSecondOrder(ts -> m.functionalCall(Map.of(first, ts.get(1)), ts.get(0)).tanh().sum(), x,
                    inputs[1]).assertPassed();
        }
    }

    @Test
    void theFusedLstmRecurrenceGivesTheStepByStepBitsAndItsGradients() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (boolean batchFirst : new boolean[] {true, false}) {
                for (boolean bias : new boolean[] {true, false}) {
                    Generator g = Generator.seeded(11);
                    Lstm lstm = new Lstm(3, 4, 2, bias, batchFirst, g);
                    lstm.to(dtype);
                    Tensor x = Tensor.randn(g, dtype, 5, 2, 3);
                    Tensor h0 = Tensor.randn(g, dtype, 2, batchFirst ? 5 : 2, 4);
                    Tensor c0 = Tensor.randn(g, dtype, 2, batchFirst ? 5 : 2, 4);
                    Tensor r = Tensor.randn(g, dtype, 5, 2, 4);
                    String what = dtype + (batchFirst ? " batch-first" : " sequence-first") + (bias ? "" : " no bias");
                    Map<String, Tensor> fused = lstmRun(lstm, true, x, h0, c0, r);
                    Map<String, Tensor> steps = lstmRun(lstm, false, x, h0, c0, r);
                    for (String k : List.of("output", "h", "c")) {
                        assertThat(fused.get(k).toDoubleArray()).as("%s %s", what, k)
                                .containsExactly(steps.get(k).toDoubleArray());
                    }
                    for (var e : steps.entrySet()) {
                        double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
                        assertThat(fused.get(e.getKey()).allClose(e.getValue(), tol, tol)).as("%s %s", what, e.getKey())
                                .isTrue();
                    }
                }
            }
        }
    }

    /** Outputs and the gradients of a weighted sum of them (input, states, parameters), fused or step by step. */
    private static Map<String, Tensor> lstmRun(Lstm lstm, boolean fused, Tensor x0, Tensor h00, Tensor c00, Tensor r) {
        lstm.fused = fused;
        lstm.zeroGrad();
        Tensor x = x0.detach().clone().requiresGrad(true);
        Tensor h0 = h00.detach().clone().requiresGrad(true);
        Tensor c0 = c00.detach().clone().requiresGrad(true);
        Recurrent.Output o = lstm.forward(x, h0, c0);
        o.output().mul(r).sum().add(o.h().tanh().sum()).add(o.c().mul(o.c()).sum()).backward();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("output", o.output().detach());
        out.put("h", o.h().detach());
        out.put("c", o.c().detach());
        out.put("d/dx", x.grad());
        out.put("d/dh0", h0.grad());
        out.put("d/dc0", c0.grad());
        lstm.namedParameters().forEach((k, p) -> out.put("d/d" + k, p.grad()));
        lstm.fused = true;
        return out;
    }

    @Test
    void badShapesAreNamed() {
        Lstm lstm = new Lstm(4, 5, 2, true, true, G);
        assertThatThrownBy(() -> lstm.forward(Tensor.zeros(3, 4))).isInstanceOf(ShapeException.class)
                .hasMessage("Lstm: input must be [B, T, 4], got [3, 4]");
        assertThatThrownBy(() -> lstm.forward(Tensor.zeros(3, 6, 4), Tensor.zeros(1, 3, 5), null))
                .isInstanceOf(ShapeException.class).hasMessage("Lstm: h0 must be [2, 3, 5], got [1, 3, 5]");
        assertThatThrownBy(() -> new Gru(0, 5, 1, true, true, G)).hasMessageContaining("Gru: sizes and layers must be "
                + "positive");
        assertThat(lstm.namedParameters().keySet()).containsExactly("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1");
        assertThat(lstm.namedParameters().get("weight_ih_l1").shape().toArray()).containsExactly(20, 5);
        assertThat(lstm.forward(Tensor.zeros(3, 6, 4)).shape().toArray()).containsExactly(3, 6, 5);
    }
}
