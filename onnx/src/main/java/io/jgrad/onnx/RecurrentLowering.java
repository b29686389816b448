package io.jgrad.onnx;

import io.jgrad.core.Autograd;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import java.util.ArrayList;
import java.util.List;

/**
 * A traced Rnn, Lstm or Gru (operands x, h0, c0, then per layer weight_ih, weight_hh and, with
 * bias, bias_ih and bias_hh) as one ONNX RNN, LSTM or GRU node per layer. PyTorch's gate order
 * (LSTM i, f, g, o; GRU r, z, n) becomes ONNX's (LSTM i, o, f, c; GRU z, r, h) in new
 * initializers; the GRU uses {@code linear_before_reset=1}, PyTorch's formulation.
 */
final class RecurrentLowering {
    private final Lowering low;
    private final Graph g;
    private final Trace.Op op;

    RecurrentLowering(Lowering low, Graph g, Trace.Op op) {
        this.low = low;
        this.g = g;
        this.op = op;
    }

    void lower() {
        String kind = (String) op.attribute("kind");
        int layers = (Integer) op.attribute("layers");
        int hidden = (Integer) op.attribute("hidden");
        boolean bias = (Boolean) op.attribute("bias");
        boolean batchFirst = (Boolean) op.attribute("batchFirst");
        String opType;
        int[] gateOrder;
        switch (kind) {
            case "LSTM" -> {
                opType = "LSTM";
                gateOrder = new int[] {0, 3, 1, 2};
            }
            case "GRU" -> {
                opType = "GRU";
                gateOrder = new int[] {1, 0, 2};
            }
            case "RNN_TANH", "RNN_RELU" -> {
                opType = "RNN";
                gateOrder = new int[] {0};
            }
            default -> throw low.fail("unknown recurrent kind " + kind);
        }
        String seq = low.inputName(0);
        if (batchFirst) { // ONNX's default layout is [T, B, in]
            seq = g.apply("Transpose", List.of(seq), "perm", new int[] {1, 0, 2});
        }
        boolean hasH0 = op.inputs().get(1) != null;
        boolean hasC0 = op.inputs().get(2) != null;
        String h0 = hasH0 ? low.inputName(1) : null;
        String c0 = hasC0 ? low.inputName(2) : null;
        int per = bias ? 4 : 2;
        List<String> hs = new ArrayList<>();
        List<String> cs = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            int at = 3 + l * per;
            String w = weight(at, gateOrder, "W");
            String r = weight(at + 1, gateOrder, "R");
            String b = bias ? biases(at + 2, at + 3, gateOrder) : "";
            List<String> ins = new ArrayList<>(List.of(seq, w, r, b, "",
                    hasH0 ? layerSlice(h0, l) : ""));
            if (opType.equals("LSTM")) {
                ins.add(hasC0 ? layerSlice(c0, l) : "");
            }
            String y = g.fresh(opType.toLowerCase(java.util.Locale.ROOT) + "_y");
            String yh = g.fresh(opType.toLowerCase(java.util.Locale.ROOT) + "_h");
            List<String> outs = new ArrayList<>(List.of(y, yh));
            String yc = null;
            if (opType.equals("LSTM")) {
                yc = g.fresh("lstm_c");
                outs.add(yc);
            }
            List<Object> attrs = new ArrayList<>(List.of("hidden_size", hidden));
            if (opType.equals("GRU")) {
                attrs.addAll(List.of("linear_before_reset", 1));
            } else if (opType.equals("RNN")) {
                attrs.addAll(List.of("activations", new String[] {kind.equals("RNN_RELU") ? "Relu" : "Tanh"}));
            }
            g.node(opType, ins, outs, attrs.toArray());
            seq = g.apply("Squeeze", List.of(y, g.ints(false, 1))); // [T, 1, B, H] -> [T, B, H]
            hs.add(yh);
            if (yc != null) {
                cs.add(yc);
            }
        }
        low.bindOutput(0, batchFirst ? g.apply("Transpose", List.of(seq), "perm", new int[] {1, 0, 2}) : seq);
        low.bindOutput(1, hs.size() == 1 ? hs.get(0) : g.apply("Concat", hs, "axis", 0));
        if (op.outputs().size() > 2) {
            low.bindOutput(2, cs.size() == 1 ? cs.get(0) : g.apply("Concat", cs, "axis", 0));
        }
    }

    /** Layer {@code l} of a [layers, B, H] state as [1, B, H]. */
    private String layerSlice(String state, int l) {
        return g.apply("Slice", List.of(state, g.ints(false, l), g.ints(false, l + 1), g.ints(false, 0)));
    }

    /** A [gates·H, in] weight with its gate blocks in ONNX's order, as [1, gates·H, in]. */
    private String weight(int operand, int[] gateOrder, String what) {
        Tensor w = op.inputs().get(operand);
        String name = g.fresh(what);
        try (var s = Autograd.noGrad()) {
            g.initializer(name, reorder(w, gateOrder).unsqueeze(0).contiguous());
        }
        return name;
    }

    /** bias_ih and bias_hh, each reordered, joined as ONNX's B [1, 2·gates·H]. */
    private String biases(int ih, int hh, int[] gateOrder) {
        String name = g.fresh("B");
        try (var s = Autograd.noGrad()) {
            Tensor b = Tensor.cat(List.of(reorder(op.inputs().get(ih), gateOrder), reorder(op.inputs().get(hh), gateOrder)), 0);
            g.initializer(name, b.unsqueeze(0).contiguous());
        }
        return name;
    }

    private static Tensor reorder(Tensor t, int[] gateOrder) {
        int block = t.size(0) / gateOrder.length;
        List<Tensor> parts = new ArrayList<>();
        for (int k : gateOrder) {
            parts.add(t.narrow(0, k * block, block));
        }
        return Tensor.cat(parts, 0);
    }
}
