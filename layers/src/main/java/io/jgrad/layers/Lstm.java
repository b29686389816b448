package io.jgrad.layers;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * A multi-layer LSTM, as PyTorch's {@code nn.LSTM} (no projections, no dropout between layers):
 * per step i, f, g, o = σ, σ, tanh, σ of x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ; c' = f ⊙ c + i ⊙ g;
 * h' = o ⊙ tanh(c'). See {@link Recurrent} for shapes and parameters.
 */
public final class Lstm extends Recurrent {
    /** {@code layers} stacked layers; {@code batchFirst} for [B, T, in] inputs (else [T, B, in]). */
    public Lstm(int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, Generator rng) {
        super(Cells.Kind.LSTM, inputSize, hiddenSize, layers, bias, batchFirst, rng);
    }

    /** Runs over {@code x} from {@code h0} and {@code c0} ([layers, B, hidden], or null for zeros). */
    public Output forward(Tensor x, Tensor h0, Tensor c0) {
        return run(x, h0, c0);
    }
}
