package io.jgrad.layers;

import io.jgrad.core.Tensor;

/** The step arithmetic of the recurrent cells, in PyTorch's gate order, shared by cells and layers. */
final class Cells {
    /** A cell type and its number of gates. */
    enum Kind {
        RNN_TANH(1), RNN_RELU(1), LSTM(4), GRU(3);

        final int gates;

        Kind(int gates) {
            this.gates = gates;
        }
    }

    private Cells() {}

    /** x Wᵢₕᵀ + bᵢₕ for x [..., in] (every time step at once when x has one). */
    static Tensor inputPart(Tensor x, Tensor wih, Tensor bih) {
        Tensor y = x.matmul(wih.t());
        return bih == null ? y : y.add(bih);
    }

    /**
     * One step from the input part {@code ih} [B, gates·H] and the state: {h'} or {h', c'}.
     * LSTM gates i, f, g, o; GRU gates r, z, n with n = tanh(ihₙ + r ⊙ (h Wₕₙᵀ + bₕₙ)), as PyTorch.
     */
    static Tensor[] step(Kind kind, Tensor ih, Tensor h, Tensor c, Tensor whh, Tensor bhh) {
        Tensor hh = h.matmul(whh.t());
        if (bhh != null) {
            hh = hh.add(bhh);
        }
        int n = h.size(-1);
        switch (kind) {
            case RNN_TANH:
                return new Tensor[] {ih.add(hh).tanh()};
            case RNN_RELU:
                return new Tensor[] {ih.add(hh).relu()};
            case LSTM: {
                Tensor gates = ih.add(hh);
                Tensor i = gates.narrow(-1, 0, n).sigmoid();
                Tensor f = gates.narrow(-1, n, n).sigmoid();
                Tensor g = gates.narrow(-1, 2 * n, n).tanh();
                Tensor o = gates.narrow(-1, 3 * n, n).sigmoid();
                Tensor c2 = f.mul(c).add(i.mul(g));
                return new Tensor[] {o.mul(c2.tanh()), c2};
            }
            default: { // GRU
                Tensor r = ih.narrow(-1, 0, n).add(hh.narrow(-1, 0, n)).sigmoid();
                Tensor z = ih.narrow(-1, n, n).add(hh.narrow(-1, n, n)).sigmoid();
                Tensor cand = ih.narrow(-1, 2 * n, n).add(r.mul(hh.narrow(-1, 2 * n, n))).tanh();
                return new Tensor[] {z.neg().add(1).mul(cand).add(z.mul(h))};
            }
        }
    }
}
