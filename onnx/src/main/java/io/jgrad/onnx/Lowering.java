package io.jgrad.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.jgrad.core.Autograd;
import io.jgrad.core.DType;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import io.jgrad.core.Window2d;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns traced ops into ONNX nodes. Tensors of the first trace (batch A) are named as they are
 * produced; each is paired with its counterpart in the second trace (batch B), and the dims where
 * the two shapes differ are the batch-dependent ones.
 */
final class Lowering {
    private static final Set<String> FUNCTIONS = Set.of("batchNorm", "layerNorm", "avgPool2d", "embedding",
            "leakyRelu", "recurrent");
    private static final Map<String, String> UNARY = Map.ofEntries(Map.entry("neg", "Neg"), Map.entry("exp", "Exp"),
            Map.entry("log", "Log"), Map.entry("sqrt", "Sqrt"), Map.entry("reciprocal", "Reciprocal"),
            Map.entry("abs", "Abs"), Map.entry("sign", "Sign"), Map.entry("tanh", "Tanh"),
            Map.entry("sigmoid", "Sigmoid"), Map.entry("relu", "Relu"), Map.entry("erf", "Erf"),
            Map.entry("sin", "Sin"), Map.entry("cos", "Cos"));
    private static final Map<String, String> BINARY = Map.of("add", "Add", "sub", "Sub", "mul", "Mul", "div", "Div",
            "maximum", "Max", "minimum", "Min", "matmul", "MatMul");
    private static final Map<String, String> COMPARE = Map.of("gt", "Greater", "ge", "GreaterOrEqual", "lt", "Less",
            "le", "LessOrEqual", "eq", "Equal", "ne", "Equal");
    private static final Set<String> ALIASES = Set.of("detach", "clone");
    /** The attribute marking a {@link io.jgrad.core.CustomOp} in a trace. */
    static final String CUSTOM = "customOp";

    private final Graph g;
    private final Map<Tensor, String> names;
    private final Set<Tensor> state = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<String> emitted = new HashSet<>();
    private final Map<Tensor, Tensor> pairs = new IdentityHashMap<>();
    private final int batchA;
    private final int batchB;

    private Trace.Op op;
    private Trace.Op opB;

    Lowering(Graph g, Map<Tensor, String> names, int batchA, int batchB) {
        this.g = g;
        this.names = names;
        state.addAll(names.keySet());
        this.batchA = batchA;
        this.batchB = batchB;
    }

    static boolean isMappedFunction(String name) {
        return FUNCTIONS.contains(name);
    }

    void pair(Tensor a, Tensor b) {
        pairs.put(a, b);
    }

    /** The dims of {@code a} whose size follows the batch. */
    boolean[] dyn(Tensor a) {
        boolean[] d = new boolean[a.dim()];
        Tensor b = pairs.get(a);
        if (b != null && b.dim() == a.dim()) {
            for (int i = 0; i < d.length; i++) {
                d[i] = a.size(i) != b.size(i);
            }
        }
        return d;
    }

    /** Symbolic names of {@code a}'s batch-dependent dims ("batch", "batch*12"), null for fixed dims. */
    String[] symbols(Tensor a) {
        boolean[] d = dyn(a);
        Tensor b = pairs.get(a);
        String[] s = new String[d.length];
        for (int i = 0; i < d.length; i++) {
            if (!d[i]) {
                continue;
            }
            int sa = a.size(i);
            int sb = b.size(i);
            if (sa == batchA && sb == batchB) {
                s[i] = "batch";
            } else if (sa % batchA == 0 && (long) sa / batchA * batchB == sb) {
                s[i] = "batch*" + sa / batchA;
            } else {
                s[i] = "dim" + i;
            }
        }
        return s;
    }

    /**
     * The ONNX name of tensor {@code a} (from the first trace): a named value, a parameter or
     * buffer (written as an initializer the first time it is used), or else a constant, which must
     * be the same in the second trace ({@code b}, null when there is none).
     */
    String name(Tensor a, Tensor b) {
        String n = names.get(a);
        if (n != null) {
            if (state.contains(a) && emitted.add(n)) {
                g.initializer(n, a);
            }
            return n;
        }
        if (b != null && !a.shape().equals(b.shape())) {
            throw fail("a tensor the model made outside the op table has shape " + a.shape() + " for a batch of "
                    + batchA + " and " + b.shape() + " for one of " + batchB + ": it depends on the input, which the "
                    + "graph cannot see (make it with tensor ops from the input, or export with dynamicBatch(false))");
        }
        if (b != null && !Arrays.equals(a.toDoubleArray(), b.toDoubleArray())) {
            throw fail("a tensor the model made outside the op table (shape " + a.shape() + ") has other values for "
                    + "another input: it was computed from the input outside the op table (item(), toArray), which "
                    + "the graph cannot see; make it with tensor ops");
        }
        n = g.fresh("const");
        g.initializer(n, a);
        names.put(a, n);
        return n;
    }

    private String in(int i) {
        Tensor a = op.inputs().get(i);
        if (a == null) {
            return "";
        }
        return name(a, opB == null ? null : opB.inputs().get(i));
    }

    private Tensor input(int i) {
        return op.inputs().get(i);
    }

    private void out(int i, String name) {
        names.put(op.outputs().get(i), name);
    }

    private void out(String name) {
        out(0, name);
    }

    private int intAttr(String key) {
        return (Integer) op.attribute(key);
    }

    private int intAttrB(String key) {
        return (Integer) opB.attribute(key);
    }

    OnnxExportException fail(String why) {
        return new OnnxExportException("onnx: op '" + op.name() + "' " + Trace.describeSite(op.site()) + ": " + why);
    }

    /** Lowers one op (with its counterpart in the second trace, or null). */
    void lower(Trace.Op a, Trace.Op b) {
        this.op = a;
        this.opB = b;
        if (b != null) {
            for (int i = 0; i < a.outputs().size(); i++) {
                Tensor ya = a.outputs().get(i);
                Tensor yb = b.outputs().get(i);
                if (ya.dim() != yb.dim()) {
                    throw fail("its result has rank " + ya.dim() + " " + ya.shape() + " for one batch size and rank "
                            + yb.dim() + " " + yb.shape() + " for another (a squeeze of a size-1 batch?); the graph "
                            + "cannot express that: export with a larger example batch or dynamicBatch(false)");
                }
                pairs.put(ya, yb);
            }
        }
        String name = a.name();
        if (a.attributes().containsKey(CUSTOM)) {
            throw fail("a CustomOp has no ONNX mapping (its forward is Java code the graph cannot hold)");
        }
        if (UNARY.containsKey(name)) {
            out(g.apply(UNARY.get(name), List.of(in(0))));
        } else if (BINARY.containsKey(name)) {
            out(g.apply(BINARY.get(name), List.of(in(0), in(1))));
        } else if (COMPARE.containsKey(name)) {
            String c = g.apply(COMPARE.get(name), List.of(in(0), in(1)));
            if (name.equals("ne")) {
                c = g.apply("Not", List.of(c));
            }
            out(cast(c, a.output().dtype()));
        } else if (ALIASES.contains(name)) {
            out(in(0));
        } else {
            lowerOther(name);
        }
    }

    private String cast(String value, DType to) {
        return cast(value, Graph.elemType(to));
    }

    private String cast(String value, TensorProto.DataType to) {
        return g.apply("Cast", List.of(value), "to", to.getNumber());
    }

    private void lowerOther(String name) {
        Tensor x = op.inputs().isEmpty() ? null : input(0);
        switch (name) {
            case "to" -> out(cast(in(0), op.output().dtype()));
            case "log1p" -> out(g.apply("Log", List.of(g.apply("Add", List.of(in(0), g.scalar(1, x.dtype()))))));
            case "pow" -> out(g.apply("Pow", List.of(in(0), g.scalar((Double) op.attribute("exponent"), x.dtype()))));
            case "clamp" -> out(g.apply("Clip", List.of(in(0), bound((Double) op.attribute("min"), x.dtype()),
                    bound((Double) op.attribute("max"), x.dtype()))));
            case "where" -> out(g.apply("Where", List.of(cast(in(0), TensorProto.DataType.BOOL), in(1), in(2))));
            case "isFinite" -> {
                if (!x.dtype().isFloatingPoint()) {
                    throw fail("isFinite of an " + x.dtype() + " tensor (always 1) has no ONNX mapping; leave it out");
                }
                String v = in(0);
                String bad = g.apply("Or", List.of(g.apply("IsNaN", List.of(v)), g.apply("IsInf", List.of(v))));
                out(cast(g.apply("Not", List.of(bad)), op.output().dtype()));
            }
            case "sum" -> {
                if (op.attributes().containsKey("dim")) {
                    out(g.apply("ReduceSum", List.of(in(0), g.ints(false, intAttr("dim"))), "keepdims", 0));
                } else if (op.attributes().containsKey("dims")) {
                    long[] axes = java.util.Arrays.stream((int[]) op.attribute("dims")).asLongStream().toArray();
                    out(axes.length == 0 ? g.apply("Identity", List.of(in(0)))
                            : g.apply("ReduceSum", List.of(in(0), g.ints(false, axes)), "keepdims", 0));
                } else {
                    out(g.apply("ReduceSum", List.of(in(0)), "keepdims", 0));
                }
            }
            case "max", "min" -> out(g.apply(name.equals("max") ? "ReduceMax" : "ReduceMin", List.of(in(0)),
                    "axes", new long[] {intAttr("dim")}, "keepdims", 0));
            case "argmax", "argmin" -> out(g.apply(name.equals("argmax") ? "ArgMax" : "ArgMin", List.of(in(0)),
                    "axis", intAttr("dim"), "keepdims", 0, "select_last_index", 0));
            case "softmax" -> out(g.apply("Softmax", List.of(in(0)), "axis", intAttr("dim")));
            case "logSoftmax" -> out(g.apply("LogSoftmax", List.of(in(0)), "axis", intAttr("dim")));
            case "reshape" -> {
                long[] target = reshapeTarget();
                // a literal 0 would mean "copy the input's dim" unless allowzero (an empty tensor's shape)
                boolean zero = Arrays.stream(target).anyMatch(v -> v == 0);
                out(zero ? g.apply("Reshape", List.of(in(0), g.ints(false, target)), "allowzero", 1)
                        : g.apply("Reshape", List.of(in(0), g.ints(false, target))));
            }
            case "unsqueeze" -> out(g.apply("Unsqueeze", List.of(in(0), g.ints(false, intAttr("dim")))));
            case "expand" -> out(g.apply("Expand", List.of(in(0), g.ints(false, expandTarget()))));
            case "transpose" -> {
                int[] perm = new int[x.dim()];
                for (int i = 0; i < perm.length; i++) {
                    perm[i] = i;
                }
                perm[intAttr("dim0")] = intAttr("dim1");
                perm[intAttr("dim1")] = intAttr("dim0");
                out(g.apply("Transpose", List.of(in(0)), "perm", perm));
            }
            case "permute" -> out(g.apply("Transpose", List.of(in(0)), "perm", (int[]) op.attribute("dims")));
            case "slice" -> lowerSlice(x);
            case "select" -> lowerSelect(x);
            case "cat" -> {
                List<String> ins = new ArrayList<>();
                for (int i = 0; i < op.inputs().size(); i++) {
                    ins.add(in(i));
                }
                out(g.apply("Concat", ins, "axis", intAttr("dim")));
            }
            case "conv2d" -> {
                Window2d w = (Window2d) op.attribute("window");
                List<String> ins = new ArrayList<>(List.of(in(0), in(1)));
                if (input(2) != null) {
                    ins.add(in(2));
                }
                out(g.apply("Conv", ins, "kernel_shape", new int[] {w.kernelH(), w.kernelW()},
                        "strides", new int[] {w.strideH(), w.strideW()},
                        "pads", new int[] {w.padH(), w.padW(), w.padH(), w.padW()},
                        "dilations", new int[] {w.dilationH(), w.dilationW()}, "group", 1));
            }
            case "maxPool2d" -> {
                Window2d w = (Window2d) op.attribute("window");
                out(g.apply("MaxPool", List.of(in(0)), "kernel_shape", new int[] {w.kernelH(), w.kernelW()},
                        "strides", new int[] {w.strideH(), w.strideW()},
                        "pads", new int[] {w.padH(), w.padW(), w.padH(), w.padW()},
                        "dilations", new int[] {w.dilationH(), w.dilationW()}));
            }
            case "indexSelect" -> { // jgrad keeps the dim for a 0-d index, ONNX's Gather would drop it
                String index = input(1).dim() == 0 ? g.apply("Unsqueeze", List.of(in(1), g.ints(false, 0))) : in(1);
                out(g.apply("Gather", List.of(in(0), index), "axis", intAttr("dim")));
            }
            case "gather" -> out(g.apply("GatherElements", List.of(in(0), in(1)), "axis", intAttr("dim")));
            case "scatterAdd" -> out(g.apply("ScatterElements", List.of(in(0), in(1), in(2)), "axis", intAttr("dim"),
                    "reduction", "add"));
            case "oneHot" -> {
                DType dt = op.output().dtype();
                String values = name(Tensor.of(dt, new double[] {0, 1}, 2), null);
                out(g.apply("OneHot", List.of(in(0), g.ints(true, op.output().size(-1)), values), "axis", -1));
            }
            case "batchNorm" -> out(g.apply("BatchNormalization", List.of(in(0), in(1), in(2), in(3), in(4)),
                    "epsilon", (Double) op.attribute("eps")));
            case "layerNorm" -> lowerLayerNorm(x);
            case "avgPool2d" -> {
                Window2d w = (Window2d) op.attribute("window");
                if (w.dilationH() != 1 || w.dilationW() != 1) {
                    throw fail("ONNX's AveragePool has no dilation before opset 19; this window has " + w);
                }
                out(g.apply("AveragePool", List.of(in(0)), "kernel_shape", new int[] {w.kernelH(), w.kernelW()},
                        "strides", new int[] {w.strideH(), w.strideW()},
                        "pads", new int[] {w.padH(), w.padW(), w.padH(), w.padW()}, "count_include_pad", 1));
            }
            case "embedding" -> out(g.apply("Gather", List.of(in(0), in(1)), "axis", 0));
            case "leakyRelu" -> out(g.apply("LeakyRelu", List.of(in(0)), "alpha", (Double) op.attribute("slope")));
            case "recurrent" -> new RecurrentLowering(this, g, op).lower();
            default -> throw fail("no ONNX mapping for this op");
        }
    }

    private String bound(double v, DType dt) {
        if (dt == DType.INT64 && Double.isInfinite(v)) {
            return g.ints(true, v > 0 ? Long.MAX_VALUE : Long.MIN_VALUE);
        }
        return g.scalar(v, dt);
    }

    /** The target shape of a reshape: -1 at the one dim that follows the batch, if any. */
    private long[] reshapeTarget() {
        Tensor y = op.output();
        boolean[] d = dyn(y);
        long[] t = new long[y.dim()];
        int dynamic = 0;
        for (int i = 0; i < t.length; i++) {
            t[i] = d[i] ? -1 : y.size(i);
            dynamic += d[i] ? 1 : 0;
        }
        if (dynamic > 1) {
            throw fail("reshape to " + y.shape() + " has " + dynamic + " dims that follow the batch size; ONNX's "
                    + "Reshape can infer only one (export with dynamicBatch(false))");
        }
        return t;
    }

    /** The target shape of an expand: 1 (keep the input's) at dims that follow the batch. */
    private long[] expandTarget() {
        Tensor x = input(0);
        Tensor y = op.output();
        boolean[] dy = dyn(y);
        boolean[] dx = dyn(x);
        long[] t = new long[y.dim()];
        int lead = y.dim() - x.dim();
        for (int i = 0; i < t.length; i++) {
            if (!dy[i]) {
                t[i] = y.size(i);
            } else if (i >= lead && dx[i - lead]) {
                t[i] = 1;
            } else {
                throw fail("expand to " + y.shape() + " makes dim " + i + " follow the batch size from a fixed one; "
                        + "export with dynamicBatch(false)");
            }
        }
        return t;
    }

    private void lowerSlice(Tensor x) {
        int d = intAttr("dim");
        int lo = intAttr("start");
        int hi = intAttr("end");
        long end = hi;
        if (dyn(x)[d] && opB != null) {
            boolean toEnd = hi == x.size(d) && intAttrB("end") == opB.inputs().get(0).size(d);
            if (toEnd && lo == intAttrB("start")) {
                end = Long.MAX_VALUE;
            } else if (lo != intAttrB("start") || hi != intAttrB("end")) {
                throw fail("slice [" + lo + ", " + hi + ") of dim " + d + " depends on the batch size; export with "
                        + "dynamicBatch(false)");
            }
        }
        out(g.apply("Slice", List.of(in(0), g.ints(false, lo), g.ints(false, end), g.ints(false, d),
                g.ints(false, intAttr("step")))));
    }

    private void lowerSelect(Tensor x) {
        int d = intAttr("dim");
        long i = intAttr("index");
        if (dyn(x)[d] && opB != null && i != intAttrB("index")) {
            if (i - x.size(d) != intAttrB("index") - opB.inputs().get(0).size(d)) {
                throw fail("index " + i + " of dim " + d + " depends on the batch size; export with dynamicBatch(false)");
            }
            i -= x.size(d); // counted from the end, as in both traces
        }
        out(g.apply("Gather", List.of(in(0), g.ints(true, i)), "axis", d));
    }

    private void lowerLayerNorm(Tensor x) {
        List<String> ins = new ArrayList<>(List.of(in(0)));
        int axis = intAttr("axis");
        if (op.inputs().size() >= 3) {
            ins.add(in(1));
            ins.add(in(2));
        } else { // no affine parameters: ONNX's scale is required, so ones
            int[] normalized = Arrays.copyOfRange(OnnxExporter.shape(x), x.dim() + axis, x.dim());
            try (var s = Autograd.noGrad()) {
                ins.add(name(Tensor.ones(x.dtype(), normalized), null));
            }
        }
        out(g.apply("LayerNormalization", ins, "axis", axis, "epsilon", (Double) op.attribute("eps")));
    }

    /** For {@link RecurrentLowering}: names an input of the current op, and binds its outputs. */
    String inputName(int i) {
        return in(i);
    }

    void bindOutput(int i, String name) {
        out(i, name);
    }
}
