package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A building block with a forward pass, named parameters, named buffers (state that is saved
 * but not trained, such as running statistics) and named child modules, all kept in
 * registration order, like PyTorch's {@code nn.Block}. Names nest with dots ({@code 0.weight},
 * {@code encoder.1.bias}), so state dicts carry the names PyTorch would give. (Named
 * {@code Block}, as in DJL and Gluon, so that {@code import io.jgrad.core.*} does not make the
 * name ambiguous with {@code java.lang.Module}.)
 *
 * <p>Registration is explicit (no reflection): subclasses call {@link #registerParameter},
 * {@link #registerBuffer} and {@link #registerChild} in their constructors.
 *
 * <p>Not thread-safe: a forward in training mode may update state (batch norm's running
 * statistics, dropout's generator), and {@code train()}, {@code eval()} and loading a state dict
 * change the module. Several threads may run {@code forward} at once only in eval mode on modules
 * without such state; otherwise use a module per thread, or synchronize.
 */
public abstract class Block {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Block> children = new LinkedHashMap<>();
    private boolean training = true;
    private Map<String, Tensor> overrides;

    /** The forward pass. */
    public abstract Tensor forward(Tensor input);

    private void checkName(String kind, String name) {
        checkArgument(name != null && !name.isEmpty() && !name.contains("."),
                "%s: %s name must be non-empty and contain no '.', got '%s'", getClass().getSimpleName(), kind, name);
        checkArgument(!parameters.containsKey(name) && !buffers.containsKey(name) && !children.containsKey(name),
                "%s: the name '%s' is already registered", getClass().getSimpleName(), name);
    }

    /** Registers a trainable parameter under {@code name}; returns it. */
    protected final Parameter registerParameter(String name, Parameter p) {
        checkName("parameter", name);
        parameters.put(name, p);
        return p;
    }

    /** Registers a buffer (saved in the state dict, not trained) under {@code name}; returns it. */
    protected final Tensor registerBuffer(String name, Tensor t) {
        checkName("buffer", name);
        buffers.put(name, t);
        return t;
    }

    /** Registers a child module under {@code name}; returns it. */
    protected final <M extends Block> M registerChild(String name, M m) {
        checkName("module", name);
        checkArgument(m != this, "%s: a module cannot contain itself", getClass().getSimpleName());
        children.put(name, m);
        return m;
    }

    /**
     * The parameter registered as {@code name} on this module, or the tensor standing in for it
     * during {@link #functionalCall}. Layers read their parameters through this in forward.
     */
    protected final Tensor param(String name) {
        if (overrides != null) {
            Tensor t = overrides.get(name);
            if (t != null) {
                return t;
            }
        }
        Parameter p = parameters.get(name);
        checkArgument(p != null, "%s: no parameter named '%s'", getClass().getSimpleName(), name);
        return p;
    }

    /**
     * Runs forward with some parameters replaced by the given tensors (keys are dotted names as
     * in {@link #namedParameters()}), like {@code torch.func.functional_call}: the result is
     * differentiable with respect to those tensors. The module's own parameters are untouched.
     * Not thread-safe.
     */
    public Tensor functionalCall(Map<String, Tensor> replacements, Tensor input) {
        Map<String, Parameter> own = namedParameters();
        for (String k : replacements.keySet()) {
            checkArgument(own.containsKey(k), "functionalCall: %s has no parameter '%s'", getClass().getSimpleName(), k);
            Tensor r = replacements.get(k);
            if (!Arrays.equals(r.shape, own.get(k).shape)) {
                throw new ShapeException("functionalCall: replacement for '" + k + "' has shape " + Shapes.str(r.shape)
                        + ", the parameter has " + Shapes.str(own.get(k).shape));
            }
        }
        List<Block> touched = new ArrayList<>();
        walk("", (prefix, m) -> {
            for (String n : m.parameters.keySet()) {
                Tensor r = replacements.get(prefix + n);
                if (r != null) {
                    if (m.overrides == null) {
                        m.overrides = new LinkedHashMap<>();
                        touched.add(m);
                    }
                    m.overrides.put(n, r);
                }
            }
        });
        try {
            return forward(input);
        } finally {
            for (Block m : touched) {
                m.overrides = null;
            }
        }
    }

    /**
     * Converts every floating-point parameter and buffer to {@code dtype} (for example FLOAT64
     * for gradient checks); parameters are replaced by new ones, so create optimizers after
     * this. Returns this.
     */
    public Block to(DType dtype) {
        checkArgument(dtype.isFloatingPoint(), "to: modules hold floating-point parameters; got %s", dtype);
        walk("", (prefix, m) -> {
            m.parameters.replaceAll((n, p) -> p.dtype() == dtype ? p : new Parameter(p.detach().to(dtype)));
            m.buffers.replaceAll((n, b) -> b.dtype().isFloatingPoint() ? b.detach().to(dtype) : b);
        });
        return this;
    }

    /** The direct children, by name, in registration order. */
    public Map<String, Block> namedChildren() {
        return Collections.unmodifiableMap(children);
    }

    /**
     * All parameters of this module and its descendants with dotted names, in registration order;
     * a parameter shared by two modules is listed once, under its first name.
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        IdentityHashMap<Tensor, Boolean> seen = new IdentityHashMap<>();
        walk("", (prefix, m) -> m.parameters.forEach((n, p) -> {
            if (seen.put(p, true) == null) {
                out.put(prefix + n, p);
            }
        }));
        return out;
    }

    /** All parameters, in the order of {@link #namedParameters()}. */
    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** All buffers of this module and its descendants with dotted names. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        walk("", (prefix, m) -> m.buffers.forEach((n, b) -> out.put(prefix + n, b)));
        return out;
    }

    /** Replaces the buffer registered as {@code name} on this module (for modules whose state is not updated in place). */
    protected final void setBuffer(String name, Tensor t) {
        checkArgument(buffers.containsKey(name), "%s: no buffer named '%s'", getClass().getSimpleName(), name);
        buffers.put(name, t);
    }

    /** A buffer registered on this module. */
    protected final Tensor buffer(String name) {
        Tensor b = buffers.get(name);
        checkArgument(b != null, "%s: no buffer named '%s'", getClass().getSimpleName(), name);
        return b;
    }

    private interface Visitor {
        void visit(String prefix, Block m);
    }

    /** Visits this module and its descendants, depth first in registration order, with an explicit stack. */
    private void walk(String prefix, Visitor v) {
        ArrayList<Object[]> stack = new ArrayList<>();
        stack.add(new Object[] {prefix, this});
        IdentityHashMap<Block, Boolean> seen = new IdentityHashMap<>();
        while (!stack.isEmpty()) {
            Object[] top = stack.remove(stack.size() - 1);
            String p = (String) top[0];
            Block m = (Block) top[1];
            if (seen.put(m, true) != null) {
                continue;
            }
            v.visit(p, m);
            List<Map.Entry<String, Block>> kids = new ArrayList<>(m.children.entrySet());
            Collections.reverse(kids);
            for (Map.Entry<String, Block> e : kids) {
                stack.add(new Object[] {p + e.getKey() + ".", e.getValue()});
            }
        }
    }

    /** Total number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.numel();
        }
        return n;
    }

    /** Training mode for this module and all descendants (dropout active, batch statistics used); returns this. */
    public Block train() {
        return setTraining(true);
    }

    /** Evaluation mode for this module and all descendants; returns this. */
    public Block eval() {
        return setTraining(false);
    }

    private Block setTraining(boolean mode) {
        walk("", (p, m) -> m.training = mode);
        return this;
    }

    /** True in training mode (the default). */
    public boolean isTraining() {
        return training;
    }

    /** Resets every parameter's gradient (zeroed in place, see {@link Tensor#zeroGrad()}). */
    public void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Calls {@code fn} on every descendant and then on this module (PyTorch's order), for custom initialisation; returns this. */
    public Block apply(Consumer<Block> fn) {
        List<Block> order = new ArrayList<>();
        walk("", (p, m) -> order.add(m));
        Collections.reverse(order);
        order.forEach(fn);
        return this;
    }

    /**
     * Parameters and buffers by dotted name, as tensors that share this module's storage and
     * are outside the graph (like PyTorch's {@code state_dict}).
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        walk("", (prefix, m) -> {
            m.parameters.forEach((n, p) -> out.putIfAbsent(prefix + n, p.detach()));
            m.buffers.forEach((n, b) -> out.putIfAbsent(prefix + n, b.detach()));
        });
        return out;
    }

    /** Names that {@link #loadStateDict} did not match (empty unless loading non-strictly). */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {}

    /**
     * Copies values from {@code state} into this module's parameters and buffers. Every name,
     * shape and dtype is checked first and nothing changes on failure; the exception lists all
     * missing, unexpected and mismatched entries at once. With {@code strict} false, missing and
     * unexpected names are returned instead of rejected (shape and dtype mismatches still throw).
     */
    public LoadResult loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        Set<String> missing = new TreeSet<>(own.keySet());
        missing.removeAll(state.keySet());
        Set<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(own.keySet());
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            Tensor dst = e.getValue();
            if (src == null) {
                continue;
            }
            if (!Arrays.equals(src.shape, dst.shape)) {
                mismatched.add("size mismatch for " + e.getKey() + ": copying a tensor of shape " + Shapes.str(src.shape)
                        + " from the state dict, the shape in the current model is " + Shapes.str(dst.shape));
            } else if (src.dtype() != dst.dtype()) {
                mismatched.add("dtype mismatch for " + e.getKey() + ": the state dict has " + src.dtype()
                        + ", the current model " + dst.dtype());
            }
        }
        boolean fail = !mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()));
        if (fail) {
            StringBuilder msg = new StringBuilder("Error(s) in loading state dict for " + getClass().getSimpleName() + ":");
            if (strict && !missing.isEmpty()) {
                msg.append("\n\tMissing key(s): ").append(String.join(", ", missing));
            }
            if (strict && !unexpected.isEmpty()) {
                msg.append("\n\tUnexpected key(s): ").append(String.join(", ", unexpected));
            }
            for (String m : mismatched) {
                msg.append("\n\t").append(m);
            }
            throw new IllegalArgumentException(msg.toString());
        }
        try (var s = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src != null) {
                    e.getValue().copyFrom(src);
                }
            }
        }
        return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
    }

    /** What goes inside the parentheses of {@link #toString()} ({@code in=784, out=10, bias=true}); empty by default. */
    protected String extraRepr() {
        return "";
    }

    /** The module tree as PyTorch prints it: each child on its own line as {@code (name): Child(...)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(').append(extraRepr());
        if (!children.isEmpty()) {
            sb.append('\n');
            children.forEach((n, c) -> sb.append("  (").append(n).append("): ")
                    .append(c.toString().replace("\n", "\n  ")).append('\n'));
        }
        return sb.append(')').toString();
    }
}
