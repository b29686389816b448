package io.jgrad.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import io.jgrad.core.DType;
import io.jgrad.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The ONNX graph being built: nodes in order, initializers, and fresh value names. */
final class Graph {
    final List<NodeProto> nodes = new ArrayList<>();
    final List<TensorProto> initializers = new ArrayList<>();
    private final Map<String, Integer> counters = new HashMap<>();

    /** A value name not used before, from {@code hint}: "hint_0", "hint_1", ... */
    String fresh(String hint) {
        int k = counters.merge(hint, 1, Integer::sum) - 1;
        return hint + "_" + k;
    }

    /**
     * Adds a node; {@code attributes} are name, value pairs (Integer or Long: INT; int[] or long[]:
     * INTS; Double or Float: FLOAT; String: STRING; String[]: STRINGS). An empty input name is an
     * absent optional input.
     */
    void node(String opType, List<String> inputs, List<String> outputs, Object... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(fresh(opType))
                .addAllInput(inputs).addAllOutput(outputs);
        for (int i = 0; i < attributes.length; i += 2) {
            n.addAttribute(attribute((String) attributes[i], attributes[i + 1]));
        }
        nodes.add(n.build());
    }

    /** One-output node whose output gets a fresh name from its op type; returns that name. */
    String apply(String opType, List<String> inputs, Object... attributes) {
        String out = fresh(opType.toLowerCase(java.util.Locale.ROOT));
        node(opType, inputs, List.of(out), attributes);
        return out;
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Integer || v instanceof Long) {
            a.setType(AttributeProto.AttributeType.INT).setI(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(((Number) v).floatValue());
        } else if (v instanceof int[] ints) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (int x : ints) {
                a.addInts(x);
            }
        } else if (v instanceof long[] longs) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long x : longs) {
                a.addInts(x);
            }
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFrom(s, StandardCharsets.UTF_8));
        } else if (v instanceof String[] ss) {
            a.setType(AttributeProto.AttributeType.STRINGS);
            for (String s : ss) {
                a.addStrings(ByteString.copyFrom(s, StandardCharsets.UTF_8));
            }
        } else {
            throw new IllegalArgumentException("onnx: attribute " + name + " of unsupported type " + v.getClass());
        }
        return a.build();
    }

    /** Adds an initializer holding {@code t}'s values (its dtype, row-major) under {@code name}. */
    void initializer(String name, Tensor t) {
        int[] dims = t.shape().toArray();
        ByteBuffer raw;
        switch (t.dtype()) {
            case FLOAT32 -> {
                float[] v = t.toFloatArray();
                raw = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                raw.asFloatBuffer().put(v);
            }
            case FLOAT64 -> {
                double[] v = t.toDoubleArray();
                raw = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                raw.asDoubleBuffer().put(v);
            }
            case INT64 -> {
                long[] v = t.toLongArray();
                raw = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                raw.asLongBuffer().put(v);
            }
            default -> throw new IllegalArgumentException("onnx: dtype " + t.dtype());
        }
        initializer(name, elemType(t.dtype()), dims, raw.array());
    }

    /** A new INT64 initializer of the given values, 1-D (or 0-d when {@code scalar}); returns its name. */
    String ints(boolean scalar, long... values) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(values);
        String name = fresh("const");
        initializer(name, TensorProto.DataType.INT64, scalar ? new int[0] : new int[] {values.length}, raw.array());
        return name;
    }

    /** A new 0-d initializer holding {@code value} in {@code dtype}; returns its name. */
    String scalar(double value, DType dtype) {
        String name = fresh("const");
        initializer(name, Tensor.scalar(dtype, value));
        return name;
    }

    private void initializer(String name, TensorProto.DataType type, int[] dims, byte[] raw) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(raw));
        for (int d : dims) {
            b.addDims(d);
        }
        initializers.add(b.build());
    }

    static TensorProto.DataType elemType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> TensorProto.DataType.FLOAT;
            case FLOAT64 -> TensorProto.DataType.DOUBLE;
            case INT64 -> TensorProto.DataType.INT64;
        };
    }

    /** A graph input or output: its name, element type and shape, a named (symbolic) dim where {@code symbols[i]} is non-null. */
    static ValueInfoProto valueInfo(String name, DType dtype, int[] shape, String[] symbols) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (int i = 0; i < shape.length; i++) {
            TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
            if (symbols[i] != null) {
                d.setDimParam(symbols[i]);
            } else {
                d.setDimValue(shape[i]);
            }
            s.addDim(d);
        }
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(elemType(dtype).getNumber()).setShape(s)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }
}
