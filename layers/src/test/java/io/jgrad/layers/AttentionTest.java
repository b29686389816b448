package io.jgrad.layers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.GradCheck;
import io.jgrad.core.Tensor;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MultiheadAttention against PyTorch 1.13's nn.MultiheadAttention in float64 (cross attention,
 * key padding and attention masks, random biases; its state dict loads as it is), and causal
 * scaled dot-product attention against torch written out: to 1e-10, with gradient checks
 * ({@code layers/src/test/python/make_attention_reference.py} wrote the cases).
 */
class AttentionTest {
    private static Map<String, Tensor> load(String file) throws IOException {
        return TorchCases.load(file);
    }

    private static void close(Tensor got, Tensor want, String what) {
        TorchCases.close(got, want, what);
    }

    @Test
    void multiheadAttentionGivesPyTorchsOutputsWeightsAndGradients() throws IOException {
        MultiheadAttention m = new MultiheadAttention(8, 2, true, false, Generator.seeded(0));
        m.to(DType.FLOAT64);
        Block.LoadResult r = m.loadStateDict(load("mha.safetensors"), true);
        assertThat(r.missingKeys()).isEmpty();
        assertThat(r.unexpectedKeys()).isEmpty();
        Map<String, Tensor> io = load("mha-io.safetensors");
        Tensor q = io.get("query").requiresGrad(true);
        Tensor k = io.get("key").requiresGrad(true);
        Tensor v = io.get("value").requiresGrad(true);
        MultiheadAttention.Output o = m.forward(q, k, v, io.get("key_padding"), io.get("blocked"));
        close(o.output(), io.get("output"), "output");
        close(o.weights(), io.get("weights"), "weights");
        o.output().mul(io.get("r")).sum().backward();
        close(q.grad(), io.get("grad.query"), "d/dquery");
        close(k.grad(), io.get("grad.key"), "d/dkey");
        close(v.grad(), io.get("grad.value"), "d/dvalue");
        for (var p : m.namedParameters().entrySet()) {
            close(p.getValue().grad(), io.get("grad." + p.getKey()), "d/d" + p.getKey());
        }
    }

    @Test
    void causalScaledDotProductAttentionMatchesTorchAndChecks() throws IOException {
        Map<String, Tensor> io = load("sdpa-io.safetensors");
        Tensor x = io.get("x");
        close(Attention.scaledDotProduct(x, x, x, null, true), io.get("output"), "causal attention");
        Tensor small = Tensor.randn(Generator.seeded(3), DType.FLOAT64, 2, 3, 4).requiresGrad(true);
        Tensor allowed = Tensor.of(new long[] {1, 1, 0, 1, 0, 1, 1, 1, 1}, 3, 3);
        GradCheck.check(ts -> Attention.scaledDotProduct(ts.get(0), ts.get(0).mul(0.5), ts.get(0).tanh(), allowed,
                true).sum(), small).assertPassed();
        GradCheck.checkSecondOrder(ts -> Attention.scaledDotProduct(ts.get(0), ts.get(0), ts.get(0), null, false)
                .square().sum(), small).assertPassed();
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.zeros(2, 3), Tensor.zeros(2, 4), Tensor.zeros(2, 3),
                null, false)).hasMessageContaining("attention: need q [..., L, d], k [..., S, d]");
    }

    /** Loads PyTorch's state dict {@code name} into {@code m}, runs it and compares output and every gradient. */
    private static void matches(String name, Block m, java.util.function.BiFunction<Tensor, Map<String, Tensor>, Tensor> run)
            throws IOException {
        m.to(DType.FLOAT64);
        Block.LoadResult r = m.loadStateDict(load(name + ".safetensors"), true);
        assertThat(r.missingKeys()).isEmpty();
        assertThat(r.unexpectedKeys()).isEmpty();
        Map<String, Tensor> io = load(name + "-io.safetensors");
        Tensor x = io.get("input").requiresGrad(true);
        Tensor y = run.apply(x, io);
        close(y, io.get("output"), name + " output");
        y.mul(io.get("r")).sum().backward();
        close(x.grad(), io.get("grad.input"), name + " d/dinput");
        for (var p : m.namedParameters().entrySet()) {
            close(p.getValue().grad(), io.get("grad." + p.getKey()), name + " d/d" + p.getKey());
        }
    }

    @Test
    void conv1dAndTransformerEncoderLayersGivePyTorchsOutputsAndGradients() throws IOException {
        Generator g = Generator.seeded(0);
        Conv1d conv = new Conv1d(3, 4, 3, 2, 1, 2, true, g);
        matches("conv1d", conv, (x, io) -> conv.forward(x));
        TransformerEncoderLayer post = new TransformerEncoderLayer(8, 2, 16, false, false, true, g);
        matches("encoder-post", post, (x, io) -> post.forward(x, io.get("key_padding"), null));
        TransformerEncoderLayer pre = new TransformerEncoderLayer(8, 2, 16, true, true, true, g);
        matches("encoder-pre", pre, (x, io) -> pre.forward(x, io.get("key_padding"), null));
    }

    @Test
    void positionalEncodingsAddTheirTable() {
        PositionalEncoding sin = PositionalEncoding.sinusoidal(10, 4);
        Tensor out = sin.forward(Tensor.zeros(1, 3, 4)); // zeros in: the table itself
        assertThat(out.toFloatArray()[4 * 2 + 0]).isEqualTo((float) Math.sin(2));
        assertThat(out.toFloatArray()[4 * 2 + 3]).isEqualTo((float) Math.cos(2 / Math.pow(10000, 2.0 / 4)));
        assertThat(sin.parameters()).isEmpty();
        PositionalEncoding learned = PositionalEncoding.learned(10, 4, Generator.seeded(1));
        assertThat(learned.namedParameters()).containsKey("weight");
        assertThatThrownBy(() -> sin.forward(Tensor.zeros(1, 11, 4))).hasMessageContaining("[N, T <= 10, 4]");
        Tensor x = Tensor.randn(Generator.seeded(2), DType.FLOAT64, 2, 5, 4).requiresGrad(true);
        learned.to(DType.FLOAT64);
        GradCheck.checkUnary(learned::forward, x).assertPassed();
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> new MultiheadAttention(8, 3, true, true, Generator.seeded(0)))
                .hasMessage("MultiheadAttention: 3 heads do not divide the width 8");
        MultiheadAttention m = new MultiheadAttention(8, 2, true, true, Generator.seeded(0));
        assertThat(m.forward(Tensor.zeros(2, 5, 8)).shape().toArray()).containsExactly(2, 5, 8);
        assertThatThrownBy(() -> m.forward(Tensor.zeros(2, 5, 8), Tensor.zeros(2, 5, 8), Tensor.zeros(2, 5, 8),
                Tensor.zeros(DType.INT64, 2, 4), null)).hasMessage("MultiheadAttention: keyPadding must be [2, 5], got "
                + "[2, 4]");
    }
}
