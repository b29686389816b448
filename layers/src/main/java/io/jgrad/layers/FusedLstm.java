package io.jgrad.layers;

import io.jgrad.core.Autograd;
import io.jgrad.core.CustomOp;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * One LSTM layer's recurrence over a whole sequence as a single op, the way PyTorch's
 * {@code nn.LSTM} runs it: the forward records nothing per step, and the backward walks the steps
 * once, computing each step's gate gradients and the product that carries the gradient to the
 * previous state, then the weight's gradient as one product over all steps (ΣₜdGₜᵀhₜ₋₁ as
 * [4H, T·B]·[T·B, H]) instead of T small ones summed one at a time. The steps compute what
 * {@link Cells#step} computes, op for op, so the outputs have the same bits as the layer written
 * step by step.
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

    /** The states a step saved: its input states and gate activations. */
    private record Step(Tensor hPrev, Tensor cPrev, Tensor i, Tensor f, Tensor g, Tensor o, Tensor tanhC) {}

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        Tensor ih = in[0];
        Tensor h = in[1];
        Tensor c = in[2];
        Tensor whhT = in[3].t();
        Tensor bhh = bias ? in[4] : null;
        int steps = ih.size(0);
        int n = h.size(-1);
        List<Step> saved = new ArrayList<>(steps);
        List<Tensor> packed = new ArrayList<>(steps + 1);
        for (int t = 0; t < steps; t++) {
            // Cells.step's LSTM arm, op for op
            Tensor hh = h.matmul(whhT);
            if (bhh != null) {
                hh = hh.add(bhh);
            }
            Tensor gates = ih.select(0, t).add(hh);
            Tensor i = gates.narrow(-1, 0, n).sigmoid();
            Tensor f = gates.narrow(-1, n, n).sigmoid();
            Tensor g = gates.narrow(-1, 2 * n, n).tanh();
            Tensor o = gates.narrow(-1, 3 * n, n).sigmoid();
            Tensor c2 = f.mul(c).add(i.mul(g));
            Tensor tanhC = c2.tanh();
            Tensor h2 = o.mul(tanhC);
            saved.add(new Step(h, c, i, f, g, o, tanhC));
            packed.add(h2);
            h = h2;
            c = c2;
        }
        packed.add(c);
        ctx.put("steps", saved);
        ctx.put("inputs", in.clone());
        return Tensor.stack(packed, 0);
    }

    @Override
    @SuppressWarnings("unchecked")
    protected Tensor[] backward(Context ctx, Tensor dOut) {
        Tensor[] in = (Tensor[]) ctx.get("inputs");
        if (Autograd.isGradEnabled()) {
            return differentiateSteps(in, dOut);
        }
        List<Step> saved = (List<Step>) ctx.get("steps");
        Tensor whh = in[3];
        int steps = saved.size();
        Tensor dh = null;
        Tensor dc = dOut.select(0, steps);
        Tensor[] dGates = new Tensor[steps];
        for (int t = steps - 1; t >= 0; t--) {
            Step s = saved.get(t);
            dh = dh == null ? dOut.select(0, t) : dh.add(dOut.select(0, t));
            // h = o·tanh(c), c = f·c₋₁ + i·g
            Tensor dO = dh.mul(s.tanhC());
            dc = dc.add(dh.mul(s.o()).mul(s.tanhC().mul(s.tanhC()).neg().add(1.0)));
            Tensor dI = dc.mul(s.g());
            Tensor dG = dc.mul(s.i());
            Tensor dF = dc.mul(s.cPrev());
            dc = dc.mul(s.f());
            // through the activations to the pre-activation gates
            Tensor gi = dI.mul(s.i()).mul(s.i().neg().add(1.0));
            Tensor gf = dF.mul(s.f()).mul(s.f().neg().add(1.0));
            Tensor gg = dG.mul(s.g().mul(s.g()).neg().add(1.0));
            Tensor go = dO.mul(s.o()).mul(s.o().neg().add(1.0));
            dGates[t] = Tensor.cat(List.of(gi, gf, gg, go), -1);
            dh = dGates[t].matmul(whh);
        }
        Tensor all = Tensor.stack(List.of(dGates), 0); // [T, B, 4H]: the gradient of ih
        List<Tensor> prev = new ArrayList<>(steps);
        for (Step s : saved) {
            prev.add(s.hPrev());
        }
        int rows = all.size(0) * all.size(1);
        Tensor flat = all.reshape(rows, all.size(2));
        Tensor dWhh = flat.t().matmul(Tensor.stack(prev, 0).reshape(rows, whh.size(1)));
        Tensor[] grads = new Tensor[in.length];
        grads[0] = all;
        grads[1] = dh;
        grads[2] = dc;
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
