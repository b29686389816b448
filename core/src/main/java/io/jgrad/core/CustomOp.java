package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A user-defined differentiable op, given by its forward and backward (like
 * {@code torch.autograd.Function}).
 *
 * <pre>{@code
 * class Cube extends CustomOp {
 *     protected Tensor forward(Context ctx, Tensor... in) {
 *         ctx.saveForBackward(in[0]);
 *         return in[0].mul(in[0]).mul(in[0]);
 *     }
 *     protected Tensor[] backward(Context ctx, Tensor dOut) {
 *         Tensor x = ctx.saved().get(0);
 *         return new Tensor[] {dOut.mul(x.mul(x)).mul(3)};
 *     }
 * }
 * Tensor y = new Cube().apply(x);
 * }</pre>
 *
 * <p>Forward runs with recording off. Backward receives the output gradient and returns one
 * gradient per input (null for inputs without one); written with tensor ops, it is itself
 * differentiable, so grad of grad works. Check a new op with {@link GradCheck}.
 */
public abstract class CustomOp {
    /** Per-call state passed from forward to backward. */
    public static final class Context {
        private final List<Tensor> saved = new ArrayList<>();
        private final Map<String, Object> values = new HashMap<>();

        /** Keeps tensors for backward; modifying them in place before backward is detected and rejected. */
        public void saveForBackward(Tensor... tensors) {
            saved.addAll(Arrays.asList(tensors));
        }

        /** The tensors passed to {@link #saveForBackward}, in order. */
        public List<Tensor> saved() {
            return List.copyOf(saved);
        }

        /** Stores a non-tensor value (a shape, a flag) for backward. */
        public void put(String key, Object value) {
            values.put(key, value);
        }

        /** A value stored with {@link #put}, or null. */
        public Object get(String key) {
            return values.get(key);
        }
    }

    /** Computes the output from the inputs; runs with gradient recording off. */
    protected abstract Tensor forward(Context ctx, Tensor... inputs);

    /** Returns the gradient of each input (null where none) given {@code dOut}, the gradient of the output. */
    protected abstract Tensor[] backward(Context ctx, Tensor dOut);

    /** Name used in error messages, anomaly reports and traces; the class's simple name by default. */
    public String name() {
        return getClass().getSimpleName();
    }

    /** Applies the op: runs forward and, when recording, attaches backward to the result. */
    public final Tensor apply(Tensor... inputs) {
        Context ctx = new Context();
        // a trace records this op as one, by its name, not the ops its forward runs
        Tensor result = Trace.isTracing() ? Trace.opaque(() -> run(ctx, inputs)) : run(ctx, inputs);
        int count = inputs.length;
        Tensor derived = Tensor.derive(name(), result, inputs.clone(), ctx.saved.toArray(new Tensor[0]), dOut -> {
            Tensor[] grads = backward(ctx, dOut);
            checkArgument(grads != null && grads.length == count, "%s: backward returned %s gradients for %s inputs",
                    name(), grads == null ? "null" : grads.length, count);
            return grads;
        });
        if (derived.gradFn != null) {
            derived.gradFn.userCode = true;
        }
        if (Trace.isTracing()) {
            Trace.amend(derived, null, "customOp", true); // never mistaken for the op table's op of the same name
        }
        return derived;
    }

    private Tensor run(Context ctx, Tensor[] inputs) {
        Tensor out;
        try (var s = Autograd.noGrad()) {
            out = forward(ctx, inputs);
        }
        checkArgument(out != null, "%s: forward returned null", name());
        for (Tensor in : inputs) {
            if (out == in || out.gradFn != null) {
                return out.detach(); // never attach this op's node to a tensor the caller already holds
            }
        }
        return out;
    }
}
