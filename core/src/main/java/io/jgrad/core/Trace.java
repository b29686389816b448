package io.jgrad.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A record of the ops one thread runs, in order, while the trace is open: what an exporter (ONNX,
 * see {@code io.jgrad.onnx}) maps to another format, like {@code torch.jit.trace}. Every op of the
 * op table is recorded with its operands, its result and the arguments that are not in its
 * operands' shapes (a softmax's dim, a convolution's window), with or without gradients; code
 * outside the op table (reading values with {@link Tensor#item()}, building tensors from arrays)
 * is not, so tensors it makes appear in the trace as constants.
 *
 * <pre>{@code
 * try (Trace trace = Trace.start()) {
 *     model.forward(x);
 *     for (Trace.Op op : trace.ops()) System.out.println(op);
 * }
 * }</pre>
 *
 * <p>A layer whose ops together mean one operator of another format (a batch norm in eval mode,
 * a layer norm, an LSTM) runs them inside {@link #function}: the trace then holds one op of that
 * name, with the layer's tensors as operands and the ops it ran as its {@link Op#body() body}, so
 * an exporter can map it whole or, not knowing the name, map its body.
 *
 * <p>A trace belongs to the thread that started it and records only that thread's ops; at most
 * one is open per thread; close it (try-with-resources) on that thread, since an open trace holds
 * every tensor it recorded. When no trace is open on any thread, an op pays one volatile read.
 */
public final class Trace implements AutoCloseable {
    /**
     * One recorded op.
     *
     * @param name the op's name in the op table ("add", "conv2d", "softmax", ...) or a function's name
     * @param inputs its operands, in order (null where an optional operand was absent, as a conv2d's bias)
     * @param outputs its results (one for every op of the op table; a function may have several)
     * @param attributes its other arguments by name, in the order recorded (values are Integer,
     *     Double, Boolean, String, int[], {@link DType} or {@link Window2d})
     * @param body for a function, the ops it ran; empty for an op of the op table
     * @param site where the op was called: the stack frames from the code that called the op
     *     (the op table's own frames left out) outwards, at most eight
     */
    public record Op(String name, List<Tensor> inputs, List<Tensor> outputs, Map<String, Object> attributes,
                     List<Op> body, List<StackTraceElement> site) {
        /** The single result of an op of the op table (the first of a function's). */
        public Tensor output() {
            return outputs.get(0);
        }

        /** The attribute {@code key}, which must have been recorded. */
        public Object attribute(String key) {
            Object v = attributes.get(key);
            if (v == null) {
                throw new IllegalStateException("trace: op '" + name + "' has no attribute '" + key + "'");
            }
            return v;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(name).append('(');
            for (int i = 0; i < inputs.size(); i++) {
                Tensor t = inputs.get(i);
                sb.append(i == 0 ? "" : ", ").append(t == null ? "none" : t.shape().toString());
            }
            sb.append(") -> ").append(outputs.get(0).shape());
            attributes.forEach((k, v) -> sb.append(' ').append(k).append('=')
                    .append(v instanceof int[] a ? Arrays.toString(a) : v));
            return sb.toString();
        }
    }

    private static final ThreadLocal<Trace> CURRENT = new ThreadLocal<>();
    /** Traces open on any thread: the one read every op pays when none is. */
    private static volatile int open;

    private final Thread owner = Thread.currentThread();
    private final List<Op> ops = new ArrayList<>();
    private final Deque<List<Op>> frames = new ArrayDeque<>();
    private boolean closed;

    private Trace() {
        frames.push(ops);
    }

    /**
     * Starts recording this thread's ops.
     *
     * @throws IllegalStateException if this thread is already tracing
     */
    public static Trace start() {
        if (CURRENT.get() != null) {
            throw new IllegalStateException("trace: this thread is already tracing; close that trace first");
        }
        Trace t = new Trace();
        CURRENT.set(t);
        synchronized (Trace.class) {
            open++;
        }
        return t;
    }

    /** Whether a trace is recording this thread's ops now. */
    public static boolean isTracing() {
        return open != 0 && CURRENT.get() != null;
    }

    /** The ops recorded so far, outermost level (functions hold their own ops), in order. */
    public List<Op> ops() {
        return Collections.unmodifiableList(ops);
    }

    /** Stops recording; the ops stay readable. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("trace: close it on the thread that started it (" + owner.getName() + ")");
        }
        closed = true;
        CURRENT.remove();
        synchronized (Trace.class) {
            open--;
        }
    }

    /**
     * Runs {@code body} and, when this thread is tracing, records it as one op named {@code name}
     * with the given operands, attributes (key, value pairs) and result, holding the ops the body
     * ran. When no trace is open this is just {@code body.get()}.
     */
    public static Tensor function(String name, List<Tensor> inputs, Supplier<Tensor> body, Object... attributes) {
        return function(name, inputs, body, List::of, attributes);
    }

    /**
     * {@link #function(String, List, Supplier, Object...)} for a body with several results:
     * {@code outputs} lists the tensors of the body's value that the op yields.
     */
    public static <T> T function(String name, List<Tensor> inputs, Supplier<T> body,
                                 Function<? super T, List<Tensor>> outputs, Object... attributes) {
        Trace t = isTracing() ? CURRENT.get() : null;
        if (t == null) {
            return body.get();
        }
        List<Op> inner = new ArrayList<>();
        t.frames.push(inner);
        T value;
        try {
            value = body.get();
        } finally {
            t.frames.pop();
        }
        t.add(name, new ArrayList<>(inputs), outputs.apply(value), attributes, inner);
        return value;
    }

    /** Runs {@code body} without recording the ops it runs (a {@link CustomOp}'s forward: the op is recorded whole). */
    static <T> T opaque(Supplier<T> body) {
        Trace t = CURRENT.get();
        if (t == null) {
            return body.get();
        }
        t.frames.push(new ArrayList<>());
        try {
            return body.get();
        } finally {
            t.frames.pop();
        }
    }

    /** Records an op of the op table on this thread's trace (callers check {@link #isTracing()} first). */
    static void record(String op, Tensor[] inputs, Tensor out, Object... attributes) {
        Trace t = CURRENT.get();
        if (t != null) {
            t.add(op, Arrays.asList(inputs.clone()), List.of(out), attributes, List.of());
        }
    }

    /**
     * Replaces the operands and adds attributes of the latest op that produced {@code out} (for
     * ops whose recorded operands differ from their autograd inputs, as where's condition);
     * {@code inputs} null keeps the operands.
     */
    static void amend(Tensor out, Tensor[] inputs, Object... attributes) {
        Trace t = CURRENT.get();
        if (t == null) {
            return;
        }
        List<Op> frame = t.frames.peek();
        for (int i = frame.size() - 1; i >= 0; i--) {
            Op op = frame.get(i);
            if (op.outputs().get(0) == out) {
                Map<String, Object> attrs = new LinkedHashMap<>(op.attributes());
                putAll(attrs, attributes);
                frame.set(i, new Op(op.name(), inputs == null ? op.inputs() : Arrays.asList(inputs.clone()),
                        op.outputs(), Collections.unmodifiableMap(attrs), op.body(), op.site()));
                return;
            }
        }
        throw new IllegalStateException("trace: no recorded op produced the tensor to amend");
    }

    private void add(String name, List<Tensor> inputs, List<Tensor> outputs, Object[] attributes, List<Op> body) {
        Map<String, Object> attrs = new LinkedHashMap<>();
        putAll(attrs, attributes);
        frames.peek().add(new Op(name, Collections.unmodifiableList(inputs), List.copyOf(outputs),
                Collections.unmodifiableMap(attrs), Collections.unmodifiableList(body), callSite()));
    }

    private static void putAll(Map<String, Object> attrs, Object[] kv) {
        if (kv.length % 2 != 0) {
            throw new IllegalArgumentException("trace: attributes come in key, value pairs, got " + kv.length + " items");
        }
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            attrs.put((String) kv[i], v instanceof int[] a ? a.clone() : v);
        }
    }

    private static final int SITE_FRAMES = 8;

    private static List<StackTraceElement> callSite() {
        StackTraceElement[] frames = new Throwable().getStackTrace();
        int from = 0;
        while (from < frames.length && isOpTable(frames[from].getClassName())) {
            from++;
        }
        return List.of(Arrays.copyOfRange(frames, from, Math.min(frames.length, from + SITE_FRAMES)));
    }

    /** The classes whose frames an op's site leaves out: where ops are implemented, not called. */
    private static boolean isOpTable(String cls) {
        String top = cls.indexOf('$') < 0 ? cls : cls.substring(0, cls.indexOf('$'));
        return top.equals("io.jgrad.core.Tensor") || top.equals("io.jgrad.core.Trace") || top.equals("io.jgrad.core.CustomOp");
    }

    /** An op's {@link Op#site() site} as one line: {@code "at A.f(A.java:10) < B.g(B.java:20) < ..."}. */
    public static String describeSite(List<StackTraceElement> site) {
        StringBuilder sb = new StringBuilder("at ");
        for (int i = 0; i < site.size(); i++) {
            StackTraceElement f = site.get(i);
            String c = f.getClassName();
            sb.append(i == 0 ? "" : " < ").append(c.substring(c.lastIndexOf('.') + 1)).append('.')
                    .append(f.getMethodName()).append('(').append(f.getFileName()).append(':')
                    .append(f.getLineNumber()).append(')');
        }
        return sb.toString();
    }
}
