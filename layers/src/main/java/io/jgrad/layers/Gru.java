package io.jgrad.layers;

import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;

/**
 * A multi-layer GRU, as PyTorch's {@code nn.GRU}: per step r, z = σ(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)
 * (their parts), n = tanh(ihₙ + r ⊙ (h Wₕₙᵀ + bₕₙ)), h' = (1 − z) ⊙ n + z ⊙ h. See
 * {@link Recurrent} for shapes and parameters.
 */
public final class Gru extends Recurrent {
    /** {@code layers} stacked layers; {@code batchFirst} for [B, T, in] inputs (else [T, B, in]). */
    public Gru(int inputSize, int hiddenSize, int layers, boolean bias, boolean batchFirst, Generator rng) {
        super(Cells.Kind.GRU, inputSize, hiddenSize, layers, bias, batchFirst, rng);
    }

    /** Runs over {@code x} from {@code h0} ([layers, B, hidden], or null for zeros); {@link Output#c()} is null. */
    public Output forward(Tensor x, Tensor h0) {
        return run(x, h0, null);
    }
}
