package io.jgrad.layers;

import io.jgrad.core.Autograd;
import io.jgrad.core.CustomOp;
import io.jgrad.core.FusedCells;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One LSTM layer's recurrence over a whole sequence as a single op, the way PyTorch's
 * {@code nn.LSTM} runs it: the forward records nothing per step, and the backward walks the steps
 * once, computing each step's gate gradients and the product that carries the gradient to the
 * previous state, then the weight's gradient as one product over all steps (ΣₜdGₜᵀhₜ₋₁ as
 * [4H, T·B]·[T·B, H]) instead of T small ones summed one at a time. Each step's pointwise work
 * (the gate activations, the new states) is one kernel each way ({@link FusedCells}), which
 * computes what {@link Cells#step} computes, operation for operation, so the outputs have the same
 * bits as the layer written step by step.
 *
 * <p>Inputs: {@code ih} [T, B, 4H] (every step's x·Wᵢₕᵀ + bᵢₕ, time first), {@code h0}, {@code c0}
 * [B, H], {@code whh} [4H, H] and optionally {@code bhh} [4H]. Output: [T + 1, B, H], the hidden
 * states h₁…h_T followed by the last cell state c_T (so one tensor carries every output and
 * its gradient). A backward that builds a graph (grad of grad) differentiates the step-by-step
 * form again instead (its gradient is the same function), so every order of gradient works.
 */
final class FusedLstm extends CustomOp {
    private final boolean bias;

    private FusedLstm(boolean bias) {
        this.bias = bias;
    }

    /** h₁…h_T and c_T packed as [T + 1, B, H] (see the class comment); bhh may be null. */
    static Tensor run(Tensor ih, Tensor h0, Tensor c0, Tensor whh, Tensor bhh) {
        FusedLstm op = new FusedLstm(bhh != null);
        return bhh == null ? op.apply(ih, h0, c0, whh) : op.apply(ih, h0, c0, whh, bhh);
    }

    @Override
    public String name() {
        return "lstmSequence";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        FusedCells.LstmSequence seq = FusedCells.lstmSequence(in[0], in[1], in[2], in[3], bias ? in[4] : null);
        ctx.put("sequence", seq);
        ctx.put("inputs", in.clone());
        ctx.saveForBackward(seq.packed()); // its hidden states are the weight gradient's operand
        return seq.packed();
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor dOut) {
        Tensor[] in = (Tensor[]) ctx.get("inputs");
        if (Autograd.isGradEnabled()) {
            return differentiateSteps(in, dOut);
        }
        FusedCells.LstmSequence seq = (FusedCells.LstmSequence) ctx.get("sequence");
        Tensor whh = in[3];
        FusedCells.LstmSequenceGrads g = FusedCells.lstmSequenceBackward(dOut, seq, in[2], whh);
        Tensor all = g.ih(); // [T, B, 4H]: the gradient of ih
        int steps = all.size(0);
        int rows = steps * all.size(1);
        // the hidden state each step started from: h0, h1, ..., h_{T-1}
        Tensor prev = steps == 0 ? in[1].unsqueeze(0).narrow(0, 0, 0)
                : Tensor.cat(List.of(in[1].unsqueeze(0), seq.packed().narrow(0, 0, steps - 1)), 0);
        Tensor flat = all.reshape(rows, all.size(2));
        Tensor dWhh = flat.t().matmul(prev.reshape(rows, whh.size(1)));
        Tensor[] grads = new Tensor[in.length];
        grads[0] = all;
        grads[1] = g.h0();
        grads[2] = g.c0();
        grads[3] = dWhh;
        if (bias) {
            grads[4] = flat.sum(0);
        }
        return grads;
    }

    /** Grad of grad: the step-by-step form's gradients, built as a graph from the same inputs. */
    private Tensor[] differentiateSteps(Tensor[] in, Tensor dOut) {
        Tensor ih = in[0];
        Tensor h = in[1];
        Tensor c = in[2];
        List<Tensor> packed = new ArrayList<>();
        for (int t = 0; t < ih.size(0); t++) {
            Tensor[] next = Cells.step(Cells.Kind.LSTM, ih.select(0, t), h, c, in[3], bias ? in[4] : null);
            h = next[0];
            c = next[1];
            packed.add(h);
        }
        packed.add(c);
        Tensor out = Tensor.stack(packed, 0);
        List<Tensor> wrt = new ArrayList<>();
        for (Tensor t : in) {
            if (t.requiresGrad()) {
                wrt.add(t);
            }
        }
        Tensor[] grads = new Tensor[in.length];
        if (wrt.isEmpty() || !out.requiresGrad()) {
            return grads;
        }
        List<Tensor> g = Autograd.grad(List.of(out), wrt, List.of(dOut), Autograd.Options.createGraph());
        for (int k = 0, j = 0; k < in.length; k++) {
            if (in[k].requiresGrad()) {
                grads[k] = g.get(j++);
            }
        }
        return grads;
    }
}
