package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.backend.Storage;
import java.util.Arrays;

/**
 * Recurrent cells' pointwise work as single kernels, for fused recurrent layers: a
 * {@link CustomOp} whose forward and backward walk the time steps call these instead of a dozen
 * elementwise ops per step (PyTorch's fused LSTM cell kernels). They record nothing in the graph,
 * so they refuse to run while gradients are being recorded on an operand that requires them: the
 * recorded form of the same computation is the elementwise ops one by one, whose values these
 * give bit for bit.
 */
public final class FusedCells {
    private FusedCells() {}

    /**
     * One LSTM step's results: the hidden state h' = o·tanh(c'), the cell state c' = f·c + i·g,
     * the gate activations [B, 4H] (i, f, g, o after their sigmoid or tanh) and tanh(c'), which
     * its backward needs.
     */
    public record LstmStep(Tensor h, Tensor c, Tensor activations, Tensor tanhC) {}

    /** The gradients of one LSTM step's pre-activation gates [B, 4H] and of its input cell state [B, H]. */
    public record LstmGrads(Tensor gates, Tensor c) {}

    /**
     * The pointwise part of one LSTM step, gates in PyTorch's order i, f, g, o: from the
     * pre-activation gates [B, 4H] (x·Wᵢₕᵀ + bᵢₕ + h·Wₕₕᵀ + bₕₕ) and the cell state c [B, H].
     *
     * @throws IllegalArgumentException if the shapes or dtypes do not fit
     * @throws IllegalStateException if gradients are being recorded on an operand that requires them
     */
    public static LstmStep lstm(Tensor gates, Tensor c) {
        checkShapes("lstm", gates, c);
        checkOutsideGraph("lstm", gates, c);
        int[] hs = {c.shape[0], c.shape[1]};
        Storage[] r = gates.backend().lstmCell(gates.asView(), c.asView());
        return new LstmStep(Tensor.over(r[0], hs), Tensor.over(r[1], hs.clone()),
                Tensor.over(r[2], gates.shape.clone()), Tensor.over(r[3], hs.clone()));
    }

    /**
     * The backward of {@link #lstm} for one step: from dh and dc, the gradients of the step's h'
     * and c' (dc including what the next step sends back), the step's results, and its input cell
     * state {@code cPrev}.
     *
     * @throws IllegalArgumentException if the shapes or dtypes do not fit
     * @throws IllegalStateException if gradients are being recorded on an operand that requires them
     */
    public static LstmGrads lstmBackward(Tensor dh, Tensor dc, LstmStep step, Tensor cPrev) {
        checkShapes("lstmBackward", step.activations(), cPrev);
        for (Tensor t : new Tensor[] {dh, dc, step.tanhC()}) {
            if (!(t.dtype() == cPrev.dtype() && java.util.Arrays.equals(t.shape, cPrev.shape))) {
                throw new IllegalArgumentException(String.format(
                        "lstmBackward: gradients and states must all be %s %s, got %s %s",
                        Shapes.str(cPrev.shape), cPrev.dtype(), Shapes.str(t.shape), t.dtype()));
            }
        }
        checkOutsideGraph("lstmBackward", dh, dc, step.activations(), step.tanhC(), cPrev);
        Storage[] r = dh.backend().lstmCellBackward(dh.asView(), dc.asView(), step.activations().asView(),
                step.tanhC().asView(), cPrev.asView());
        return new LstmGrads(Tensor.over(r[0], step.activations().shape.clone()), Tensor.over(r[1], cPrev.shape.clone()));
    }

    /**
     * A whole LSTM layer's recurrence: the hidden states h₁…h_T followed by the last cell state c_T
     * as {@code packed} [T + 1, B, H], and what its backward needs: every step's activations
     * [T, B, 4H], cell states [T, B, H] and their tanh [T, B, H].
     */
    public record LstmSequence(Tensor packed, Tensor activations, Tensor cellStates, Tensor tanhCells) {}

    /** The gradients of an LSTM sequence's inputs: ih's [T, B, 4H] (every step's pre-activation gates'), h0's and c0's. */
    public record LstmSequenceGrads(Tensor ih, Tensor h0, Tensor c0) {}

    /**
     * Every step of an LSTM layer, each as {@link #lstm} computes it from the pre-activation gates
     * ih[t] + (h·whhᵀ + bhh): from ih [T, B, 4H] (the input projection x·Wᵢₕᵀ + bᵢₕ of every step,
     * time first), h0 and c0 [B, H], whh [4H, H] and bhh [4H] (null for none). The values are those
     * of the steps written one by one with tensor ops, bit for bit.
     *
     * @throws IllegalArgumentException if the shapes or dtypes do not fit
     * @throws IllegalStateException if gradients are being recorded on an operand that requires them
     */
    public static LstmSequence lstmSequence(Tensor ih, Tensor h0, Tensor c0, Tensor whh, Tensor bhh) {
        if (!(ih.dim() == 3 && h0.dim() == 2 && c0.dim() == 2 && whh.dim() == 2)) {
            throw new IllegalArgumentException(String.format(
                    "lstmSequence: needs ih [T, B, 4H], h0 and c0 [B, H], whh [4H, H], got %s, %s, %s, %s",
                    Shapes.str(ih.shape), Shapes.str(h0.shape), Shapes.str(c0.shape), Shapes.str(whh.shape)));
        }
        int steps = ih.shape[0];
        int b = ih.shape[1];
        int n = c0.shape[1];
        boolean fits = ih.shape[2] == 4 * n && h0.shape[0] == b && h0.shape[1] == n && c0.shape[0] == b
                && whh.shape[0] == 4 * n && whh.shape[1] == n && (bhh == null || bhh.dim() == 1 && bhh.shape[0] == 4 * n);
        if (!fits) {
            throw new IllegalArgumentException(String.format(
                    "lstmSequence: ih %s, h0 %s, c0 %s, whh %s and bhh %s do not fit [T, B, 4H], [B, H], [B, H], "
                            + "[4H, H], [4H]",
                    Shapes.str(ih.shape), Shapes.str(h0.shape), Shapes.str(c0.shape), Shapes.str(whh.shape),
                    bhh == null ? "none" : Shapes.str(bhh.shape)));
        }
        DType dt = ih.dtype();
        for (Tensor t : new Tensor[] {h0, c0, whh, bhh}) {
            checkArgument(t == null || t.dtype() == dt && dt.isFloatingPoint(),
                    "lstmSequence: every operand needs ih's floating-point dtype %s, got %s", dt, t == null ? null : t.dtype());
        }
        checkOutsideGraph("lstmSequence", ih, h0, c0, whh, bhh);
        Storage[] r = ih.backend().lstmSequence(ih.asView(), h0.asView(), c0.asView(), whh.asView(),
                bhh == null ? null : bhh.asView());
        return new LstmSequence(Tensor.over(r[0], new int[] {steps + 1, b, n}), Tensor.over(r[1], new int[] {steps, b, 4 * n}),
                Tensor.over(r[2], new int[] {steps, b, n}), Tensor.over(r[3], new int[] {steps, b, n}));
    }

    /**
     * The backward of {@link #lstmSequence}, from dOut [T + 1, B, H] (the gradients of
     * {@code packed}), the forward's results, and its c0 and whh. The weight's gradient is left to
     * the caller: the gates' gradients ({@code ih}) times the hidden states h₀…h_{T−1}.
     *
     * @throws IllegalArgumentException if the shapes or dtypes do not fit
     * @throws IllegalStateException if gradients are being recorded on an operand that requires them
     */
    public static LstmSequenceGrads lstmSequenceBackward(Tensor dOut, LstmSequence forward, Tensor c0, Tensor whh) {
        if (!(Arrays.equals(dOut.shape, forward.packed().shape) && dOut.dtype() == forward.packed().dtype())) {
            throw new IllegalArgumentException(String.format(
                    "lstmSequenceBackward: dOut %s %s must be the forward's %s %s",
                    Shapes.str(dOut.shape), dOut.dtype(), Shapes.str(forward.packed().shape),
                    forward.packed().dtype()));
        }
        checkOutsideGraph("lstmSequenceBackward", dOut, c0, whh);
        Storage[] r = dOut.backend().lstmSequenceBackward(dOut.asView(), forward.activations().asView(),
                forward.cellStates().asView(), forward.tanhCells().asView(), c0.asView(), whh.asView());
        return new LstmSequenceGrads(Tensor.over(r[0], forward.activations().shape.clone()),
                Tensor.over(r[1], c0.shape.clone()), Tensor.over(r[2], c0.shape.clone()));
    }

    private static void checkShapes(String op, Tensor gates, Tensor c) {
        if (!(gates.dim() == 2 && c.dim() == 2 && gates.shape[0] == c.shape[0] && gates.shape[1] == 4 * c.shape[1])) {
            throw new IllegalArgumentException(String.format(
                    "%s: gates must be [B, 4H] and the cell state [B, H], got %s and %s",
                    op, Shapes.str(gates.shape), Shapes.str(c.shape)));
        }
        checkArgument(gates.dtype().isFloatingPoint() && gates.dtype() == c.dtype(),
                "%s: gates and cell state need one floating-point dtype, got %s and %s", op, gates.dtype(), c.dtype());
    }

    private static void checkOutsideGraph(String op, Tensor... ts) {
        if (!Autograd.isGradEnabled()) {
            return;
        }
        for (Tensor t : ts) {
            if (t != null && t.requiresGrad()) {
                throw new IllegalStateException(op + ": records no gradient, but an operand requires grad; call it "
                        + "inside a CustomOp's forward or backward, or under Autograd.noGrad()");
            }
        }
    }
}
