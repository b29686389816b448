package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link Rnn}, {@link Lstm} and {@link Gru} share, as in PyTorch: stacked layers run over a
 * sequence, batch-first ({@code [B, T, in]}) or sequence-first ({@code [T, B, in]}), with
 * optional initial states ({@code [layers, B, hidden]}, zeros when null), returning every step's
 * output of the last layer and each layer's final state. Parameters carry PyTorch's names and
 * layouts ({@code weight_ih_l0 [gates·hidden, in]}, {@code weight_hh_l0 [gates·hidden, hidden]},
 * {@code bias_ih_l0}, {@code bias_hh_l0}, gates in PyTorch's order), initialised like PyTorch's
 * (uniform on ±1/√hidden), so state dicts move between the two. Each step is written with tensor
 * ops, so gradients of any order flow through it.
 */
public abstract class Recurrent extends Block {
    /** Every step's output of the last layer, and each layer's final hidden (and, for an LSTM, cell) state. */
    public record Output(Tensor output, Tensor h, Tensor c) {}

    private final Cells.Kind kind;
    private final int inputSize;
    private final int hiddenSize;
    private final int layers;
    private final boolean bias;
    private final boolean batchFirst;
    /** Whether an LSTM runs each layer's recurrence as one op ({@link FusedLstm}); false: step by step. */
    boolean fused = true;

    Recurrent(Cells.Kind kind, int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst,
              Generator rng) {
        String name = getClass().getSimpleName();
        checkArgument(inputSize > 0 && hiddenSize > 0 && layers > 0,
                "%s: sizes and layers must be positive, got input %s, hidden %s, layers %s", name, inputSize,
                hiddenSize, layers);
        this.kind = kind;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.layers = layers;
        this.bias = bias;
        this.batchFirst = batchFirst;
        double bound = 1 / Math.sqrt(hiddenSize);
        int g = kind.gates * hiddenSize;
        for (int l = 0; l < layers; l++) {
            int in = l == 0 ? inputSize : hiddenSize;
            registerParameter("weight_ih_l" + l, new Parameter(Tensor.uniform(rng, -bound, bound, g, in)));
            registerParameter("weight_hh_l" + l, new Parameter(Tensor.uniform(rng, -bound, bound, g, hiddenSize)));
            if (bias) {
                registerParameter("bias_ih_l" + l, new Parameter(Tensor.uniform(rng, -bound, bound, g)));
                registerParameter("bias_hh_l" + l, new Parameter(Tensor.uniform(rng, -bound, bound, g)));
            }
        }
    }

    /** Runs the layers over {@code x}; {@code h0} and {@code c0} (LSTM only) may be null for zeros. */
    Output run(Tensor x, Tensor h0, Tensor c0) {
        if (!Trace.isTracing()) {
            return steps(x, h0, c0);
        }
        // one op for an exporter: ONNX's LSTM, GRU or RNN per layer (see io.jgrad.core.Trace);
        // operands: x, h0, c0 (null for zeros), then per layer weight_ih, weight_hh and, with bias, bias_ih, bias_hh
        List<Tensor> operands = new ArrayList<>(Arrays.asList(x, h0, c0));
        operands.addAll(parameters());
        return Trace.function("recurrent", operands, () -> steps(x, h0, c0),
                out -> out.c() == null ? List.of(out.output(), out.h()) : List.of(out.output(), out.h(), out.c()),
                "kind", kind.name(), "layers", layers, "hidden", hiddenSize, "bias", bias, "batchFirst", batchFirst);
    }

    private Output steps(Tensor x, Tensor h0, Tensor c0) {
        String name = getClass().getSimpleName();
        if (x.dim() != 3 || x.size(2) != inputSize) {
            throw new ShapeException(name + ": input must be " + (batchFirst ? "[B, T, " : "[T, B, ") + inputSize
                    + "], got " + x.shape());
        }
        int timeDim = batchFirst ? 1 : 0;
        int steps = x.size(timeDim);
        int batch = x.size(1 - timeDim);
        Tensor[] h = initial("h0", h0, batch, x.dtype());
        Tensor[] c = kind == Cells.Kind.LSTM ? initial("c0", c0, batch, x.dtype()) : null;
        if (kind != Cells.Kind.LSTM && c0 != null) {
            throw new IllegalArgumentException(name + ": only an LSTM has a cell state; c0 must be null");
        }
        Tensor layerInput = x;
        for (int l = 0; l < layers; l++) {
            Tensor wih = param("weight_ih_l" + l);
            Tensor whh = param("weight_hh_l" + l);
            Tensor bih = bias ? param("bias_ih_l" + l) : null;
            Tensor bhh = bias ? param("bias_hh_l" + l) : null;
            Tensor ih = Cells.inputPart(layerInput, wih, bih); // all steps' input projections at once
            if (kind == Cells.Kind.LSTM && fused && steps > 0) {
                // the recurrence as one op (FusedLstm): the same values, a backward that batches the weight's gradient
                Tensor packed = FusedLstm.run(batchFirst ? ih.transpose(0, 1) : ih, h[l], c[l], whh, bhh);
                Tensor out = packed.narrow(0, 0, steps);
                h[l] = packed.select(0, steps - 1);
                c[l] = packed.select(0, steps);
                layerInput = batchFirst ? out.transpose(0, 1) : out;
                continue;
            }
            List<Tensor> outs = new ArrayList<>(steps);
            for (int t = 0; t < steps; t++) {
                Tensor[] next = Cells.step(kind, ih.select(timeDim, t), h[l], c == null ? null : c[l], whh, bhh);
                h[l] = next[0];
                if (c != null) {
                    c[l] = next[1];
                }
                outs.add(h[l]);
            }
            layerInput = Tensor.stack(outs, timeDim);
        }
        return new Output(layerInput, Tensor.stack(List.of(h), 0), c == null ? null : Tensor.stack(List.of(c), 0));
    }

    private Tensor[] initial(String what, Tensor given, int batch, DType dtype) {
        Tensor[] out = new Tensor[layers];
        if (given != null && (given.dim() != 3 || given.size(0) != layers || given.size(1) != batch
                || given.size(2) != hiddenSize)) {
            throw new ShapeException(getClass().getSimpleName() + ": " + what + " must be [" + layers + ", " + batch
                    + ", " + hiddenSize + "], got " + given.shape());
        }
        for (int l = 0; l < layers; l++) {
            out[l] = given == null ? Tensor.zeros(dtype, batch, hiddenSize) : given.select(0, l);
        }
        return out;
    }

    /** The output sequence for {@code x} from zero initial states. */
    @Override
    public Tensor forward(Tensor x) {
        return run(x, null, null).output();
    }

    @Override
    protected String extraRepr() {
        return "input=" + inputSize + ", hidden=" + hiddenSize + ", layers=" + layers + ", bias=" + bias
                + ", batchFirst=" + batchFirst;
    }
}
