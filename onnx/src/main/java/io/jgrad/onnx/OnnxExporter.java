package io.jgrad.onnx;

import static com.google.common.base.Preconditions.checkArgument;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.Tensor;
import io.jgrad.core.Trace;
import io.jgrad.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Writes a model as an ONNX file, like {@code torch.onnx.export}: the model's forward pass runs
 * on an example input under a {@link Trace}, in eval mode and without gradients, and each
 * recorded op becomes ONNX operators (opset {@value #OPSET}, IR version {@value #IR_VERSION}, which
 * runtimes and checkers still in wide use accept). Parameters and buffers become initializers
 * under their state-dict names; tensors the forward pass makes outside the op table become
 * constants. The graph has one input and one output, each with a declared shape; with a dynamic
 * batch (the default) dim 0 of the input (or {@link #batchDim}) is the symbol {@code batch}, and
 * the dims of the output that follow it are found by tracing twice with
 * different batch sizes, so a model whose shapes follow the batch in ways a graph cannot express
 * (a constant built with the batch size, a reshape merging two batch-dependent dims) is refused
 * rather than exported wrong.
 *
 * <pre>{@code
 * OnnxExporter.of(model).export(exampleBatch, Path.of("model.onnx"));
 * }</pre>
 *
 * <p>Mapped: the elementwise ops (GELU comes out as its Erf or Tanh formula), comparisons,
 * where, matmul, sum, max/min and argmax/argmin over a dim, softmax and log-softmax, reshape,
 * transpose/permute, unsqueeze, expand, slice, select, cat, conv2d, maxPool2d, indexSelect,
 * gather, oneHot, casts; and whole layers that mark themselves as one op: batch norm in eval mode
 * (BatchNormalization), LayerNorm (LayerNormalization), AvgPool2d (AveragePool), Embedding
 * (Gather), LeakyRelu, and Rnn, Lstm and Gru (ONNX's RNN, LSTM and GRU per layer, gates
 * reordered). Dropout in eval mode runs no op. Any other op is an {@link OnnxExportException}
 * naming it and the stack frames of the model code that ran it.
 *
 * <p>Not thread-safe: one export at a time per exporter; the model must not be trained meanwhile.
 */
public final class OnnxExporter {
    /** The ONNX operator set the exporter writes. */
    public static final int OPSET = 17;
    /** The ONNX IR version of the files written. */
    public static final int IR_VERSION = 8;

    private final Block owner;
    private final UnaryOperator<Tensor> forward;
    private String inputName = "input";
    private String outputName = "output";
    private boolean dynamicBatch = true;
    private int batchDim;
    private String graphName;

    private OnnxExporter(Block owner, UnaryOperator<Tensor> forward) {
        this.owner = Objects.requireNonNull(owner, "owner");
        this.forward = Objects.requireNonNull(forward, "forward");
        this.graphName = owner.getClass().getSimpleName();
    }

    /** An exporter of {@code model.forward}. */
    public static OnnxExporter of(Block model) {
        return new OnnxExporter(model, model::forward);
    }

    /**
     * An exporter of any function of one tensor whose parameters and buffers belong to
     * {@code owner} (their state-dict names become the initializers' names; {@code owner} is put
     * in eval mode while tracing).
     */
    public static OnnxExporter of(Block owner, UnaryOperator<Tensor> forward) {
        return new OnnxExporter(owner, forward);
    }

    /** The graph input's name (default "input"). */
    public OnnxExporter inputName(String name) {
        checkArgument(name != null && !name.isEmpty(), "onnx: the input name must be non-empty");
        this.inputName = name;
        return this;
    }

    /** The graph output's name (default "output"). */
    public OnnxExporter outputName(String name) {
        checkArgument(name != null && !name.isEmpty(), "onnx: the output name must be non-empty");
        this.outputName = name;
        return this;
    }

    /** Whether dim 0 of the input is a symbolic batch dim (default true) or fixed at the example's size. */
    public OnnxExporter dynamicBatch(boolean dynamic) {
        this.dynamicBatch = dynamic;
        return this;
    }

    /**
     * Which dim of the input is the batch (default 0; 1 for a sequence-first recurrent model's
     * [T, B, in]).
     */
    public OnnxExporter batchDim(int dim) {
        checkArgument(dim >= 0, "onnx: the batch dim must be non-negative, got %s", dim);
        this.batchDim = dim;
        return this;
    }

    /** The graph's name (default: the model class's simple name). */
    public OnnxExporter graphName(String name) {
        this.graphName = Objects.requireNonNull(name, "name");
        return this;
    }

    /**
     * Exports to {@code file}, written atomically (a failure leaves no partial file and any earlier
     * file as it was).
     *
     * @throws OnnxExportException if the model cannot be expressed in ONNX (nothing is written)
     */
    public void export(Tensor example, Path file) throws IOException {
        byte[] bytes = toBytes(example);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /** The ONNX file's bytes. */
    public byte[] toBytes(Tensor example) {
        return toModel(example).toByteArray();
    }

    /** The ONNX model as Tribuo's generated protobuf message ({@code ai.onnx.proto.OnnxMl}). */
    public ModelProto toModel(Tensor example) {
        Objects.requireNonNull(example, "example");
        checkArgument(example.dim() > batchDim && example.size(batchDim) >= 1,
                "onnx: the example input needs a batch dim %s of at least one item, got shape %s", batchDim,
                example.shape());
        Tensor second = dynamicBatch ? otherBatch(example, batchDim) : null;
        List<Trace.Op> a;
        List<Trace.Op> b = null;
        Tensor outA;
        Tensor outB = null;
        IdentityHashMap<Block, Boolean> modes = new IdentityHashMap<>();
        owner.apply(m -> modes.put(m, m.isTraining()));
        owner.eval();
        try (var s = Autograd.noGrad()) {
            Tensor[] out = new Tensor[1];
            a = trace(example, out);
            outA = out[0];
            if (second != null) {
                b = trace(second, out);
                outB = out[0];
            }
        } finally {
            owner.apply(m -> {
                if (modes.get(m)) {
                    m.train();
                } else {
                    m.eval();
                }
            });
        }
        return build(example, a, outA, second, b, outB);
    }

    /** Another batch of the example's rows, of a different size (for finding the batch-dependent dims). */
    private static Tensor otherBatch(Tensor x, int dim) {
        try (var s = Autograd.noGrad()) {
            int n = x.size(dim);
            Tensor other = n == 1 ? Tensor.cat(List.of(x, x), dim) : Tensor.cat(List.of(x.narrow(dim, 1, n - 1), x), dim);
            // other values too (floats scaled a little), so that a constant computed from them differs
            return x.dtype().isFloatingPoint() ? other.mul(1.0009765625) : other;
        }
    }

    private List<Trace.Op> trace(Tensor input, Tensor[] out) {
        try (Trace t = Trace.start()) {
            out[0] = forward.apply(input);
            if (out[0] == null) {
                throw new OnnxExportException("onnx: the forward pass returned null");
            }
            return t.ops();
        }
    }

    private ModelProto build(Tensor inA, List<Trace.Op> a, Tensor outA, Tensor inB, List<Trace.Op> b, Tensor outB) {
        List<Trace.Op> unitsA = new ArrayList<>();
        flatten(a, unitsA);
        List<Trace.Op> unitsB = null;
        if (b != null) {
            unitsB = new ArrayList<>();
            flatten(b, unitsB);
            checkSameStructure(unitsA, unitsB);
        }
        Map<Tensor, String> names = new IdentityHashMap<>();
        owner.namedParameters().forEach((n, p) -> names.putIfAbsent(p, n));
        owner.namedBuffers().forEach((n, t) -> names.putIfAbsent(t, n));
        Graph g = new Graph();
        Lowering low = new Lowering(g, names, inA.size(batchDim), inB == null ? -1 : inB.size(batchDim));
        names.put(inA, inputName);
        if (inB != null) {
            low.pair(inA, inB);
        }
        for (int i = 0; i < unitsA.size(); i++) {
            low.lower(unitsA.get(i), unitsB == null ? null : unitsB.get(i));
        }
        if (outB != null) {
            low.pair(outA, outB);
        }
        String last = low.name(outA, outB);
        g.node("Identity", List.of(last), List.of(outputName));
        GraphProto.Builder graph = GraphProto.newBuilder().setName(graphName).addAllNode(g.nodes)
                .addAllInitializer(g.initializers);
        graph.addInput(Graph.valueInfo(inputName, inA.dtype(), shape(inA), low.symbols(inA)));
        graph.addOutput(Graph.valueInfo(outputName, outA.dtype(), shape(outA), low.symbols(outA)));
        return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("jgrad")
                .setProducerVersion(version()).setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).build();
    }

    /** The ops to lower: functions with a mapping stay whole, others are replaced by the ops they ran. */
    private static void flatten(List<Trace.Op> ops, List<Trace.Op> into) {
        for (Trace.Op op : ops) {
            if (!op.body().isEmpty() && !Lowering.isMappedFunction(op.name())) {
                flatten(op.body(), into);
            } else {
                into.add(op);
            }
        }
    }

    private static void checkSameStructure(List<Trace.Op> a, List<Trace.Op> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            if (!a.get(i).name().equals(b.get(i).name())) {
                throw new OnnxExportException("onnx: the model ran different ops for two batch sizes (op " + i + ": '" + a.get(i).name() + "' "
                        + Trace.describeSite(a.get(i).site()) + " vs '" + b.get(i).name() + "'); its control flow "
                        + "depends on the batch size, so export it with dynamicBatch(false)");
            }
        }
        if (a.size() != b.size()) {
            throw new OnnxExportException("onnx: the model ran " + a.size() + " ops for the example batch and "
                    + b.size() + " for one of another size; its control flow depends on the batch size, so export it "
                    + "with dynamicBatch(false)");
        }
    }

    static int[] shape(Tensor t) {
        return t.shape().toArray();
    }

    private static String version() {
        String v = OnnxExporter.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public String toString() {
        return "OnnxExporter[" + graphName + ", input=" + inputName + ", output=" + outputName + ", dynamicBatch="
                + dynamicBatch + ", batchDim=" + batchDim + ", opset=" + OPSET + "]";
    }
}
