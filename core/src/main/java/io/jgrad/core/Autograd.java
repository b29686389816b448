package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.backend.Storage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reverse-mode engine and its switches: gradient recording on or off ({@link #noGrad()}),
 * anomaly detection ({@link #detectAnomaly()}), and the functional {@link #grad} (like
 * {@code torch.autograd.grad}).
 *
 * <p>Backward walks the graph in reverse topological order with an explicit work list (no
 * recursion, so a chain of millions of ops works), sums the gradients of every use of a tensor,
 * and frees each node as it goes unless the graph is retained.
 */
public final class Autograd {
    private static final ThreadLocal<boolean[]> GRAD_ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});
    private static volatile boolean anomaly;
    /** Depth of backward functions running on this thread: their ops are checked as that op's backward, not as forwards. */
    private static final ThreadLocal<int[]> IN_BACKWARD = ThreadLocal.withInitial(() -> new int[1]);

    private Autograd() {}

    /** A scope that restores the previous setting when closed; use with try-with-resources. */
    public interface Scope extends AutoCloseable {
        /** Restores the setting that was in force when the scope was opened. */
        @Override
        void close();
    }

    /** True when ops on this thread record the graph (the default). */
    public static boolean isGradEnabled() {
        return GRAD_ENABLED.get()[0];
    }

    /** Turns graph recording on this thread on or off; returns the previous setting. */
    public static boolean setGradEnabled(boolean enabled) {
        boolean[] flag = GRAD_ENABLED.get();
        boolean previous = flag[0];
        flag[0] = enabled;
        return previous;
    }

    /**
     * Ops in this scope record nothing (results do not require grad):
     * {@code try (var s = Autograd.noGrad()) { ... }}. Thread-local, like {@code torch.no_grad}.
     */
    public static Scope noGrad() {
        return setGradEnabled(false) ? RESTORE_ON : RESTORE_OFF;
    }

    /** Re-enables recording inside a {@link #noGrad()} scope. */
    public static Scope enableGrad() {
        return setGradEnabled(true) ? RESTORE_ON : RESTORE_OFF;
    }

    private static final Scope RESTORE_ON = () -> setGradEnabled(true);
    private static final Scope RESTORE_OFF = () -> setGradEnabled(false);

    /** True while anomaly detection is on. */
    public static boolean isAnomalyEnabled() {
        return anomaly;
    }

    /**
     * Turns anomaly detection on for the scope (process-wide): every op records where it was
     * created, and the first op whose forward or backward turns finite inputs into NaN or Inf
     * throws {@link NonFiniteException} naming it, with the creation site as the cause. Slow; for debugging.
     */
    public static Scope detectAnomaly() {
        boolean previous = anomaly;
        anomaly = true;
        return () -> anomaly = previous;
    }

    /**
     * What a backward keeps and records: {@link #DEFAULT} frees the graph as it goes;
     * {@link #retainGraph()} keeps it for another backward; {@link #createGraph()} records the
     * backward itself, so that the gradients can be differentiated again (grad of grad), which
     * keeps the graph too.
     *
     * @param retain keep the graph for another backward (always, with {@code create})
     * @param create record the backward (its results require grad)
     */
    public record Options(boolean retain, boolean create) {
        /** Free the graph, record nothing. */
        public static final Options DEFAULT = new Options(false, false);

        /** The options; {@code create} implies {@code retain}. */
        public Options {
            retain |= create;
        }

        /** Keep the graph for another backward. */
        public static Options retainGraph() {
            return new Options(true, false);
        }

        /** Record the backward for grad of grad (and keep the graph). */
        public static Options createGraph() {
            return new Options(true, true);
        }
    }

    /**
     * Gradients of {@code output} (a scalar) with respect to {@code inputs}, without touching any
     * {@code grad()}; the graph is freed afterwards.
     */
    public static List<Tensor> grad(Tensor output, Tensor... inputs) {
        return grad(List.of(output), List.of(inputs), null, Options.DEFAULT);
    }

    /**
     * Gradients of the scalar {@code outputs} (their sum) with respect to {@code inputs}, as
     * {@code options} say: {@code Autograd.grad(List.of(y), List.of(x), Autograd.Options.createGraph())}
     * gives a gradient that can be differentiated again.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, Options options) {
        return grad(outputs, inputs, null, options);
    }

    /**
     * Gradients of {@code outputs} with respect to {@code inputs}, like {@code torch.autograd.grad}:
     * {@code gradOutputs} seeds each output (null, or a null entry, for a scalar output means 1);
     * {@code options} say whether the graph is kept and whether the results are themselves
     * differentiable. An input the outputs do not depend on gets a zero gradient of its shape.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    Options options) {
        checkArgument(!outputs.isEmpty(), "grad: no outputs given");
        checkArgument(options != null, "grad: options are required (Autograd.Options.DEFAULT)");
        checkArgument(gradOutputs == null || gradOutputs.size() == outputs.size(),
                "grad: %s outputs but %s gradOutputs", outputs.size(), gradOutputs == null ? 0 : gradOutputs.size());
        for (Tensor in : inputs) {
            if (!in.requiresGrad) {
                throw new IllegalArgumentException("grad: one of the inputs (" + Shapes.str(in.shape) + " " + in.dtype()
                        + ") does not require grad");
            }
        }
        Tensor[] seeds = new Tensor[outputs.size()];
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = seed(outputs.get(i), gradOutputs == null ? null : gradOutputs.get(i), "grad");
        }
        IdentityHashMap<Tensor, Tensor> captured = new IdentityHashMap<>();
        for (Tensor in : inputs) {
            captured.put(in, null);
        }
        run(outputs.toArray(new Tensor[0]), seeds, options.retain(), options.create(), captured);
        List<Tensor> result = new ArrayList<>(inputs.size());
        for (Tensor in : inputs) {
            Tensor g = captured.get(in);
            result.add(g != null ? g : Tensor.zeros(in.dtype(), in.shape));
        }
        return result;
    }

    /** The gradient that starts backward from {@code out}: 1 for a scalar, else the caller's. */
    static Tensor seed(Tensor out, Tensor gradient, String op) {
        if (!out.requiresGrad) {
            throw new IllegalStateException(op + ": the tensor " + Shapes.str(out.shape)
                    + " does not require grad and has no gradFn; nothing to differentiate");
        }
        if (gradient == null) {
            if (out.numel() != 1) {
                throw new IllegalArgumentException(op + ": a gradient can be implicitly created only for scalar "
                        + "outputs, got shape " + Shapes.str(out.shape) + "; pass a gradient of that shape");
            }
            return Tensor.ones(out.dtype(), out.shape);
        }
        if (!Arrays.equals(gradient.shape, out.shape)) {
            throw new ShapeException(op + ": gradient shape " + Shapes.str(gradient.shape)
                    + " does not match output shape " + Shapes.str(out.shape));
        }
        return gradient;
    }

    /**
     * Runs backward from {@code roots}. With {@code captured} null, gradients accumulate into the
     * leaves' {@code grad}; otherwise they are summed into {@code captured} for its keys only.
     */
    static void run(Tensor[] roots, Tensor[] seeds, boolean retainGraph, boolean createGraph,
                    Map<Tensor, Tensor> captured) {
        List<Node> entered = new ArrayList<>();
        IdentityHashMap<Tensor, int[]> pending;
        try {
            pending = countUses(roots, !retainGraph, entered);
        } catch (RuntimeException e) {
            leave(entered, !retainGraph);
            throw e;
        }
        try {
            propagate(roots, seeds, retainGraph, createGraph, captured, pending);
        } finally {
            leave(entered, !retainGraph);
        }
    }

    private static void leave(List<Node> entered, boolean frees) {
        for (Node n : entered) {
            if (!n.isReleased()) {
                n.leave(frees);
            }
        }
    }

    private static void propagate(Tensor[] roots, Tensor[] seeds, boolean retainGraph, boolean createGraph,
                                  Map<Tensor, Tensor> captured, IdentityHashMap<Tensor, int[]> pending) {
        Pass pass = new Pass(captured == null && !createGraph, !createGraph);
        for (int i = 0; i < roots.length; i++) {
            pass.add(roots[i], seeds[i]);
        }
        ArrayDeque<Tensor> ready = new ArrayDeque<>();
        for (Tensor r : roots) {
            if (pending.get(r)[0] == 0 && !ready.contains(r)) {
                ready.add(r);
            }
        }
        boolean previous = setGradEnabled(createGraph);
        try {
            while (!ready.isEmpty()) {
                Tensor t = ready.poll();
                Tensor g = pass.take(t);
                step(t, g, pass, captured, createGraph, retainGraph, pending, ready);
                pass.recycle(g); // consumed: unless something else holds its storage, a later op may reuse it
            }
        } catch (RuntimeException | Error e) {
            // nothing of this pass may still be read on the helper thread once the caller has the exception
            for (Products terms : pass.products.values()) {
                terms.settle();
            }
            throw e;
        } finally {
            setGradEnabled(previous);
        }
    }

    /** Delivers t's gradient g (null if none reached it) and runs t's node's backward into its inputs' gradients. */
    private static void step(Tensor t, Tensor g, Pass pass, Map<Tensor, Tensor> captured, boolean createGraph,
                             boolean retainGraph, IdentityHashMap<Tensor, int[]> pending, ArrayDeque<Tensor> ready) {
        if (g != null && t.hooks != null) {
            for (var hook : t.hooks) {
                pass.expose(g);
                Tensor replaced = hook.apply(g);
                g = replaced != null ? replaced : g;
                pass.expose(g);
            }
        }
        if (g != null) {
            deliver(t, g, captured, createGraph, pass);
        }
        Node node = t.gradFn;
        if (node == null) {
            return;
        }
        Tensor[] inputs = node.inputs;
        if (g != null && node.userCode) {
            pass.expose(g);
        }
        // a view's input gets g in a window of its gradient: added there, without a zero tensor its size
        boolean windowed = g != null && node.window != null && !createGraph && inputs.length == 1
                && inputs[0] != null && inputs[0].requiresGrad;
        if (windowed) {
            pass.addWindow(inputs[0], g, node.window);
        }
        // a product of matrices: b's gradient becomes a term of one product over all its uses
        boolean product = g != null && !windowed && node.product && !createGraph && !anomaly
                && inputs[1].requiresGrad && g.dtype() == inputs[1].dtype();
        Tensor[] inGrads;
        if (g == null || windowed) {
            inGrads = null;
        } else if (product) {
            node.checkSavedVersions();
            inGrads = new Tensor[] {
                    inputs[0].requiresGrad ? Tensor.matmulGradA(inputs[0], inputs[1], g, true) : null, null};
            pass.addProduct(inputs[1], inputs[0], g);
        } else {
            inGrads = callBackward(node, g);
        }
        for (int i = 0; i < inputs.length; i++) {
            Tensor in = inputs[i];
            if (in == null || !in.requiresGrad) {
                continue;
            }
            if (inGrads != null && i < inGrads.length && inGrads[i] != null) {
                if (node.userCode) {
                    pass.expose(inGrads[i]);
                }
                pass.add(in, conform(inGrads[i], in, node.op));
            }
            if (--pending.get(in)[0] == 0) {
                ready.add(in);
            }
        }
        if (!retainGraph) {
            node.release();
        }
    }

    /**
     * The gradients in flight during one backward, summed per tensor, and what is known of who
     * else can see their storage. A leaf whose {@code grad} is empty takes over the storage of
     * its gradient instead of copying it (as PyTorch does when nothing else refers to it) when
     * the storage was created during this backward by jgrad's own ops, covers exactly that
     * gradient, backs no other gradient still in flight, and was never seen by user code (a
     * hook, or a {@link CustomOp}'s backward, which may keep what it is given or return what
     * it holds). Otherwise the leaf gets a copy.
     */
    private static final class Pass {
        final IdentityHashMap<Tensor, Tensor> grads = new IdentityHashMap<>();
        /** How many in-flight gradients use each storage; null when nothing may be taken over. */
        final IdentityHashMap<Storage, int[]> users;
        final Set<Storage> exposed = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Storages that became a leaf's {@code grad} (see {@link #keep}). */
        final Set<Storage> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        final long start = Storage.lastSerial();
        /**
         * Storages of sums this pass allocated for a gradient in flight, which nothing else has
         * seen: later gradients of the same tensor are added into them in place. An entry leaves
         * when its gradient is taken (from then on backward functions and hooks see it). Null when
         * the pass builds a graph (grad of grad), where every sum must be a recorded op.
         */
        final Set<Storage> owned;
        /** Product terms of each tensor's gradient not yet evaluated (see {@link #addProduct}). */
        final IdentityHashMap<Tensor, Products> products = new IdentityHashMap<>();

        Pass(boolean mayTakeOver, boolean sumsInPlace) {
            users = mayTakeOver ? new IdentityHashMap<>() : null;
            owned = sumsInPlace ? Collections.newSetFromMap(new IdentityHashMap<>()) : null;
        }

        /** Adds {@code g} to the gradient in flight for {@code t}. */
        void add(Tensor t, Tensor g) {
            Tensor prev = grads.get(t);
            if (prev != null && owns(prev)) {
                prev.addInPlaceRaw(g, 1.0); // prev's storage is its own: dense, of t's shape
                return;
            }
            Tensor sum;
            if (prev == null) {
                sum = g;
            } else if (owned != null && !g.isContiguous() && isDense(g)) {
                // g is a permuted layout (a product's gradient for a transposed weight, say): the sum
                // takes that layout, so that the gradients that follow add in memory order
                sum = Tensor.empty(g.dtype(), g.shape).permuteLike(g);
                Tensor.copyInto(g, sum);
                Tensor.addInto(prev, sum); // g + prev, the bits of prev + g
            } else {
                sum = accumulate(prev, g);
            }
            if (prev != null && owned != null && ownable(sum)) {
                owned.add(sum.storage);
            }
            put(t, prev, sum);
        }

        /**
         * Adds {@code g} into {@code window} of the gradient in flight for {@code t}, whose other
         * elements get nothing: what adding the backward of a view op would give, without its zeros.
         */
        void addWindow(Tensor t, Tensor g, Node.Window window) {
            if (g.dtype() != t.dtype()) {
                g = g.to(t.dtype());
            }
            Tensor prev = grads.get(t);
            if (prev != null && owns(prev)) {
                Tensor.addInto(g, prev.windowOf(window, g.shape));
                return;
            }
            Tensor sum;
            if (prev == null) {
                sum = Tensor.zeros(t.dtype(), window.base());
                Tensor.copyInto(g, sum.windowOf(window, g.shape));
            } else {
                sum = prev.contiguousCopyNoGrad();
                Tensor.addInto(g, sum.windowOf(window, g.shape));
            }
            if (owned != null && ownable(sum)) {
                owned.add(sum.storage);
            }
            put(t, prev, sum);
        }

        private void put(Tensor t, Tensor prev, Tensor sum) {
            grads.put(t, sum);
            if (users != null) {
                if (prev != null) {
                    release(prev);
                }
                users.computeIfAbsent(sum.storage, k -> new int[1])[0]++;
            }
        }

        private boolean owns(Tensor g) {
            return owned != null && owned.contains(g.storage);
        }

        /** A fresh storage, all of it this tensor's elements (in any order), no other gradient in flight uses. */
        private boolean ownable(Tensor sum) {
            Storage st = sum.storage;
            return st.serial() > start && sum.offset == 0 && sum.numel() == st.length() && isDense(sum)
                    && (users == null || !users.containsKey(st)) && !exposed.contains(st);
        }

        /** Removes and returns t's gradient (null if none reached it). */
        Tensor take(Tensor t) {
            Tensor g = grads.remove(t);
            if (g != null && users != null) {
                release(g);
            }
            if (g != null && owned != null) {
                owned.remove(g.storage);
            }
            Products terms = products.remove(t);
            return terms == null ? g : terms.sum(t, g, this);
        }

        /**
         * Records that {@code b}'s gradient gets aᵀ · dOut, a matrix product's term, summed with
         * b's other terms in one product when b's gradient is taken. Terms are evaluated early
         * (into b's gradient in flight) once they hold {@link Products#limit} elements, which
         * bounds what they keep alive.
         */
        void addProduct(Tensor b, Tensor a, Tensor dOut) {
            Products terms = products.computeIfAbsent(b, k -> new Products());
            terms.add(b, a, dOut);
            if (users != null) {
                users.computeIfAbsent(dOut.storage, k -> new int[1])[0]++; // read when the terms are summed
            }
            if (terms.elements > Products.limit) {
                products.remove(b);
                add(b, terms.sum(b, null, this));
            }
        }

        private void release(Tensor g) {
            int[] n = users.get(g.storage);
            if (--n[0] == 0) {
                users.remove(g.storage);
            }
        }

        void expose(Tensor g) {
            if (users != null && g != null) {
                exposed.add(g.storage);
            }
        }

        /** Records that g's storage is now a leaf's {@code grad}: it lives on after this pass. */
        void keep(Tensor g) {
            if (users != null) {
                kept.add(g.storage);
            }
        }

        /**
         * Hands g's storage back to its backend for reuse when nothing can read it any more: it was
         * made during this pass (by jgrad's own ops), no gradient still in flight uses it, no user
         * code saw it, and no leaf kept it. (The backend also keeps it while a deferred result that
         * reads it is still to be computed.)
         */
        void recycle(Tensor g) {
            if (users == null || g == null) {
                return;
            }
            Storage st = g.storage;
            if (st.serial() > start && !users.containsKey(st) && !exposed.contains(st) && !kept.contains(st)) {
                st.backend().release(st);
            }
        }

        /** Whether a leaf may keep g's storage as its own grad (see the class comment). */
        boolean mayTakeOver(Tensor g) {
            Storage st = g.storage;
            return users != null && st.serial() > start && g.offset == 0 && g.numel() == st.length()
                    && g.isContiguous() && !users.containsKey(st) && !exposed.contains(st);
        }
    }

    /**
     * The product terms aᵢᵀ · dOutᵢ of one matrix's gradient, still to be summed. A matrix used
     * at many time steps (a recurrent weight) gets one term per step; summing them as one product
     * of the stacked rows runs the BLAS at its best. The terms are cut, in the order they arrive,
     * into chunks of at least two terms and {@link #chunkFlops} operations; each chunk's product
     * starts as soon as it is complete, on the backend's helper thread where it has one
     * ({@link io.jgrad.core.backend.Backend#offload}), so the weight's gradient is computed on the
     * other core while this thread goes on back through the time steps. The chunk sums are added
     * in order, then the product of the terms left over: the same operations in the same order
     * whether a chunk ran on the helper or here, so results do not depend on the thread count.
     */
    static final class Products {
        /** Elements (of the aᵢ and dOutᵢ) past which terms are summed at once (tests lower it). */
        static long limit = 1L << 24;
        /** Floating-point operations of the terms that make a chunk (with two terms or more; tests lower it). */
        static double chunkFlops = 32e6;
        final List<Tensor> as = new ArrayList<>();
        final List<Tensor> outs = new ArrayList<>();
        long elements;
        /** The first term not in a chunk yet, and the operations of the terms from there. */
        private int open;
        private double openFlops;
        /** Each chunk's sum, in order: a {@code Future<Tensor>} where it was offloaded, else the tensor. */
        private final List<Object> chunks = new ArrayList<>();
        /** The storage versions of each term's a and dOut when it was added (checked when the terms are summed). */
        private final List<int[]> versions = new ArrayList<>();

        /** Adds the term aᵀ · dOut (a [m, k], dOut [m, n]); cuts a chunk when the open terms make one. */
        void add(Tensor b, Tensor a, Tensor dOut) {
            as.add(a);
            outs.add(dOut);
            versions.add(new int[] {a.storage.version(), dOut.storage.version()});
            elements += (long) a.numel() + dOut.numel();
            openFlops += 2.0 * a.numel() * dOut.shape[dOut.shape.length - 1];
            if (as.size() - open >= 2 && openFlops >= chunkFlops) {
                List<Tensor> ca = List.copyOf(as.subList(open, as.size()));
                List<Tensor> co = List.copyOf(outs.subList(open, outs.size()));
                for (Tensor t : ca) {
                    t.storage.materialize(); // a deferred operand is computed here, never on two threads at once
                }
                for (Tensor t : co) {
                    t.storage.materialize();
                }
                io.jgrad.core.backend.Backend backend = Backends.current();
                Object chunk = backend.offload(() -> Backends.with(backend, () -> {
                    boolean previous = setGradEnabled(false);
                    try {
                        return product(b, ca, co);
                    } finally {
                        setGradEnabled(previous);
                    }
                }));
                chunks.add(chunk != null ? chunk : product(b, ca, co));
                open = as.size();
                openFlops = 0;
            }
        }

        /** Σ aᵢᵀ · dOutᵢ over the given terms, as one product of their stacked rows, in b's layout. */
        private static Tensor product(Tensor b, List<Tensor> as, List<Tensor> outs) {
            return as.size() == 1 ? Tensor.matmulGradB(as.get(0), b, outs.get(0), true)
                    : Tensor.matmulGradB(Tensor.cat(as, 0), b, Tensor.cat(outs, 0), true);
        }

        /**
         * Σ aᵢᵀ · dOutᵢ over every term (the chunks' sums in order, then the terms left over), in
         * b's layout, plus {@code g} (b's other gradient, or null).
         */
        Tensor sum(Tensor b, Tensor g, Pass pass) {
            settle();
            checkVersions();
            if (open < as.size()) { // the terms left over make the last chunk
                chunks.add(product(b, as.subList(open, as.size()), outs.subList(open, outs.size())));
                open = as.size();
            }
            Tensor p = null;
            for (Object chunk : chunks) {
                Tensor c = chunk instanceof java.util.concurrent.Future<?> f ? await(f) : (Tensor) chunk;
                if (p == null) {
                    p = c;
                } else {
                    Tensor.addInto(c, p); // p is a product this pass made: nothing else sees it
                    pass.recycle(c);
                }
            }
            if (pass.users != null) {
                for (Tensor o : outs) {
                    pass.release(o);
                }
                for (Tensor o : outs) {
                    pass.recycle(o); // summed: the product read them
                }
            }
            if (g == null) {
                return p;
            }
            if (p.offset == 0 && p.numel() == p.storage.length() && isDense(p) && p.storage.serial() > pass.start) {
                Tensor.addInto(g, p); // p is this pass's own product: nothing else sees it
                pass.recycle(g);
                return p;
            }
            return accumulate(p, g);
        }

        /**
         * Waits until every offloaded chunk has finished (or failed), without giving up on an
         * interrupt (the wait is a few milliseconds; the thread's interrupt flag is set again after).
         */
        void settle() {
            boolean interrupted = false;
            for (Object chunk : chunks) {
                if (chunk instanceof java.util.concurrent.Future<?> f) {
                    while (true) {
                        try {
                            f.get();
                            break;
                        } catch (InterruptedException e) {
                            interrupted = true;
                        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                            break; // sum() throws it
                        }
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Throws if a term's operand was changed in place after its term was recorded (its product read it since). */
        private void checkVersions() {
            for (int i = 0; i < as.size(); i++) {
                Tensor[] operands = {as.get(i), outs.get(i)};
                for (int j = 0; j < 2; j++) {
                    Tensor t = operands[j];
                    if (t.storage.version() != versions.get(i)[j]) {
                        throw new IllegalStateException("one of the tensors needed for gradient computation has been "
                                + "modified by an in-place operation during backward: " + Shapes.str(t.shape) + " "
                                + t.dtype() + ", " + (j == 0 ? "an operand" : "the output gradient") + " of a matrix "
                                + "product, is at version " + t.storage.version() + "; expected version "
                                + versions.get(i)[j]);
                    }
                }
            }
        }

        /** A finished chunk's sum; its failure is thrown here as it was thrown there. */
        private static Tensor await(java.util.concurrent.Future<?> f) {
            try {
                return (Tensor) f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                throw new IllegalStateException(e); // settle() has waited for it: get() returns at once
            }
        }
    }

    /** Whether t's strides are a permutation of a contiguous layout's (each element once, no gaps). */
    static boolean isDense(Tensor t) {
        if (t.isContiguous()) {
            return true; // the common case, without sorting the dims
        }
        int r = t.shape.length;
        Integer[] order = new Integer[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(t.strides[b], t.strides[a]));
        long expected = 1;
        for (int i = r - 1; i >= 0; i--) {
            int d = order[i];
            if (t.shape[d] != 1 && t.strides[d] != expected) {
                return false;
            }
            expected *= t.shape[d];
        }
        return true;
    }

    /**
     * Number of uses of each tensor inside the graph below the roots, entering each node (see
     * {@link Node#enter}) and listing it in {@code entered}; throws on a freed node or one another
     * thread's backward holds in a conflicting way.
     */
    private static IdentityHashMap<Tensor, int[]> countUses(Tensor[] roots, boolean frees, List<Node> entered) {
        IdentityHashMap<Tensor, int[]> uses = new IdentityHashMap<>();
        ArrayDeque<Tensor> stack = new ArrayDeque<>();
        for (Tensor r : roots) {
            if (uses.putIfAbsent(r, new int[1]) == null) {
                stack.push(r);
            }
        }
        while (!stack.isEmpty()) {
            Tensor t = stack.pop();
            Node node = t.gradFn;
            if (node == null) {
                continue;
            }
            node.enter(frees);
            entered.add(node);
            for (Tensor in : node.inputs) {
                if (in == null || !in.requiresGrad) {
                    continue;
                }
                int[] count = uses.get(in);
                if (count == null) {
                    uses.put(in, new int[] {1});
                    stack.push(in);
                } else {
                    count[0]++;
                }
            }
        }
        return uses;
    }

    private static Tensor[] callBackward(Node node, Tensor g) {
        node.checkSavedVersions();
        Tensor[] inGrads;
        int[] depth = IN_BACKWARD.get();
        depth[0]++;
        try {
            inGrads = node.backward.apply(g);
        } finally {
            depth[0]--;
        }
        if (anomaly && g.allFinite()) {
            for (int i = 0; i < inGrads.length; i++) {
                if (inGrads[i] != null && !inGrads[i].allFinite()) {
                    throw new NonFiniteException("anomaly: backward of '" + node.op + "' produced a non-finite "
                            + "gradient for input " + i + " from a finite output gradient", node.createdAt);
                }
            }
        }
        return inGrads;
    }

    /** Gives a computed gradient the input's shape (summing broadcast dims) and dtype. */
    private static Tensor conform(Tensor g, Tensor in, String op) {
        if (!Arrays.equals(g.shape, in.shape)) {
            try {
                g = g.sumTo(in.shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("backward of '" + op + "' returned a gradient of shape "
                        + Shapes.str(g.shape) + " for an input of shape " + Shapes.str(in.shape), e);
            }
        }
        return g.dtype() == in.dtype() ? g : g.to(in.dtype());
    }

    private static Tensor accumulate(Tensor a, Tensor b) {
        return a.add(b);
    }

    private static void deliver(Tensor t, Tensor g, Map<Tensor, Tensor> captured, boolean createGraph, Pass pass) {
        if (captured != null) {
            deliverCaptured(t, g, captured);
            return;
        }
        if (t.gradFn != null && !t.retainsGrad) {
            return;
        }
        synchronized (t) { // backwards on other threads may accumulate into the same leaf
            accumulate(t, g, createGraph, pass);
        }
    }

    private static void deliverCaptured(Tensor t, Tensor g, Map<Tensor, Tensor> captured) {
        if (captured.containsKey(t)) {
            Tensor prev = captured.get(t);
            captured.put(t, prev == null ? g : prev.add(g));
        }
    }

    private static void accumulate(Tensor t, Tensor g, boolean createGraph, Pass pass) {
        if (t.grad == null) {
            if (createGraph) {
                t.grad = g;
            } else if (t.gradFn == null && pass.mayTakeOver(g)) { // a leaf: g goes nowhere else
                t.grad = g.requiresGrad ? g.detach() : g;
                pass.keep(g);
            } else {
                // the gradient may be shared with other tensors (add passes dOut through): own a copy
                t.grad = g.detach().contiguousCopyNoGrad();
            }
        } else if (createGraph || t.grad.requiresGrad) {
            t.grad = t.grad.add(g);
        } else {
            t.grad.addInPlaceRaw(g, 1.0);
        }
        // a .grad holds values, not a deferred expression (Fused) that would keep its inputs alive
        t.grad.storage.materialize();
    }

    /** In anomaly mode: the creation site to record on a new node. */
    static Throwable creationSite(String op) {
        return anomaly ? new Throwable("op '" + op + "' was created here") : null;
    }

    /** In anomaly mode: throws if {@code out} is non-finite although every input is finite. */
    static void checkForward(String op, Tensor out, Tensor[] inputs, Throwable site) {
        if (IN_BACKWARD.get()[0] > 0 || out.allFinite()) {
            return;
        }
        for (Tensor in : inputs) {
            if (in != null && !in.allFinite()) {
                return; // not the first op to go non-finite
            }
        }
        throw new NonFiniteException("anomaly: forward of '" + op + "' produced a non-finite value from finite inputs",
                site);
    }
}
