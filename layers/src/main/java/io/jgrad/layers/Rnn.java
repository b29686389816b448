package io.jgrad.layers;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * A multi-layer Elman RNN, as PyTorch's {@code nn.RNN}: h' = tanh(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)
 * (or ReLU). See {@link Recurrent} for shapes and parameters.
 */
public final class Rnn extends Recurrent {
    /** {@code relu} for ReLU instead of tanh; {@code batchFirst} for [B, T, in] inputs (else [T, B, in]). */
    public Rnn(int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, boolean relu,
               Generator rng) {
        super(relu ? Cells.Kind.RNN_RELU : Cells.Kind.RNN_TANH, inputSize, hiddenSize, layers, bias, batchFirst, rng);
    }

    /** Runs over {@code x} from {@code h0} ([layers, B, hidden], or null for zeros); {@link Output#c()} is null. */
    public Output forward(Tensor x, Tensor h0) {
        return run(x, h0, null);
    }
}
