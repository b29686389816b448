package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;

/**
 * One step of a recurrent layer, for writing the loop over time yourself (PyTorch's
 * {@code RNNCell}, {@code LSTMCell}, {@code GRUCell}): input [B, in] and state [B, hidden];
 * parameters {@code weight_ih [gates·hidden, in]}, {@code weight_hh}, {@code bias_ih},
 * {@code bias_hh} with PyTorch's names, layouts and initialisation.
 */
public abstract class RecurrentCell extends Block {
    private final Cells.Kind kind;
    private final int inputSize;
    private final int hiddenSize;
    private final boolean bias;

    RecurrentCell(Cells.Kind kind, int inputSize, int hiddenSize, boolean bias, Generator rng) {
        checkArgument(inputSize > 0 && hiddenSize > 0, "%s: sizes must be positive, got input %s, hidden %s",
                getClass().getSimpleName(), inputSize, hiddenSize);
        this.kind = kind;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.bias = bias;
        double bound = 1 / Math.sqrt(hiddenSize);
        int g = kind.gates * hiddenSize;
        registerParameter("weight_ih", new Parameter(Tensor.uniform(rng, -bound, bound, g, inputSize)));
        registerParameter("weight_hh", new Parameter(Tensor.uniform(rng, -bound, bound, g, hiddenSize)));
        if (bias) {
            registerParameter("bias_ih", new Parameter(Tensor.uniform(rng, -bound, bound, g)));
            registerParameter("bias_hh", new Parameter(Tensor.uniform(rng, -bound, bound, g)));
        }
    }

    /** {h'} or {h', c'} after one step from x, h (zeros when null) and, for an LSTM, c. */
    Tensor[] step(Tensor x, Tensor h, Tensor c) {
        String name = getClass().getSimpleName();
        if (x.dim() != 2 || x.size(1) != inputSize) {
            throw new ShapeException(name + ": input must be [B, " + inputSize + "], got " + x.shape());
        }
        Tensor h0 = h == null ? Tensor.zeros(x.dtype(), x.size(0), hiddenSize) : h;
        Tensor c0 = kind == Cells.Kind.LSTM && c == null ? Tensor.zeros(x.dtype(), x.size(0), hiddenSize) : c;
        for (Tensor s : new Tensor[] {h0, c0}) {
            if (s != null && (s.dim() != 2 || s.size(0) != x.size(0) || s.size(1) != hiddenSize)) {
                throw new ShapeException(name + ": a state must be [" + x.size(0) + ", " + hiddenSize + "], got "
                        + s.shape());
            }
        }
        Tensor ih = Cells.inputPart(x, param("weight_ih"), bias ? param("bias_ih") : null);
        return Cells.step(kind, ih, h0, c0, param("weight_hh"), bias ? param("bias_hh") : null);
    }

    /** The next hidden state from zero states. */
    @Override
    public Tensor forward(Tensor x) {
        return step(x, null, null)[0];
    }

    @Override
    protected String extraRepr() {
        return "input=" + inputSize + ", hidden=" + hiddenSize + ", bias=" + bias;
    }

    /** PyTorch's {@code LSTMCell}: {@link #forward(Tensor, Tensor, Tensor)} gives h' and c'. */
    public static final class LstmCell extends RecurrentCell {
        /** The next hidden and cell states. */
        public record State(Tensor h, Tensor c) {}

        /** A cell for inputs of {@code inputSize} and states of {@code hiddenSize}; {@code bias} false leaves out both biases. */
        public LstmCell(int inputSize, int hiddenSize, boolean bias, Generator rng) {
            super(Cells.Kind.LSTM, inputSize, hiddenSize, bias, rng);
        }

        /** One step from h and c ([B, hidden], or null for zeros). */
        public State forward(Tensor x, Tensor h, Tensor c) {
            Tensor[] s = step(x, h, c);
            return new State(s[0], s[1]);
        }
    }

    /** PyTorch's {@code GRUCell}. */
    public static final class GruCell extends RecurrentCell {
        /** A cell for inputs of {@code inputSize} and states of {@code hiddenSize}; {@code bias} false leaves out both biases. */
        public GruCell(int inputSize, int hiddenSize, boolean bias, Generator rng) {
            super(Cells.Kind.GRU, inputSize, hiddenSize, bias, rng);
        }

        /** h' from x and h ([B, hidden], or null for zeros). */
        public Tensor forward(Tensor x, Tensor h) {
            return step(x, h, null)[0];
        }
    }

    /** PyTorch's {@code RNNCell} (tanh, or ReLU). */
    public static final class RnnCell extends RecurrentCell {
        /** A cell for inputs of {@code inputSize} and states of {@code hiddenSize}; {@code relu} for ReLU instead of tanh. */
        public RnnCell(int inputSize, int hiddenSize, boolean bias, boolean relu, Generator rng) {
            super(relu ? Cells.Kind.RNN_RELU : Cells.Kind.RNN_TANH, inputSize, hiddenSize, bias, rng);
        }

        /** h' from x and h ([B, hidden], or null for zeros). */
        public Tensor forward(Tensor x, Tensor h) {
            return step(x, h, null)[0];
        }
    }
}
