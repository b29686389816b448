package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import java.lang.ref.SoftReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Loop fusion for large FLOAT32 elementwise results: {@code add}, {@code sub}, {@code mul},
 * {@code neg}, {@code relu} and relu's backward return a tensor whose {@link ArrayStorage} holds the
 * expression instead of its values. A fusable op on such a tensor extends the expression; a
 * whole-tensor {@code sum} evaluates it block by block without ever storing it, max pooling over
 * a 2x2 window pools the input of a relu of one array ({@link #reluOfArray}); anything else
 * that reads it computes it once into an array ({@link ArrayStorage#f()}). So
 * {@code x.add(c).relu().sum()} reads x and c once and allocates nothing the size of x, where
 * evaluating op by op writes and reads two fresh arrays.
 *
 * <p>Results are bit-for-bit those of the op-by-op kernels: each element goes through the same
 * float operations in the same order, and the fused sum keeps {@link Reduce#sumAll}'s blocks
 * and accumulation order. What changes is only when the work happens; the values a deferred
 * tensor stands for are fixed when it is created, because an in-place write to any storage it
 * reads first computes it ({@link ArrayStorage#beforeWrite()}).
 *
 * <p>How an expression is evaluated: a chain (each op has at most one op below it) of up to
 * four ops runs through a loop compiled for it alone ({@link ChainKernels}) once that is ready,
 * when the vectorized kernels are on ({@link Simd}); otherwise op by op over chunks of 1024
 * elements that stay in L1 (vectorized, or plain same-index loops that C2 vectorizes); other
 * trees through a small register interpreter.
 *
 * <p>Not deferred: results under {@link #minElements} elements (nothing to save), expressions
 * past {@link #MAX_OPS} ops or {@link #MAX_LEAVES} inputs, operands that are strided or broadcast
 * along some dimensions only, and other dtypes. (Anomaly detection reads each op's output as
 * the op runs, which computes it at once.) The system property {@code jgrad.fusion=false}
 * turns fusion off; {@code jgrad.fusion.minElements} sets the size threshold.
 */
final class Fused {
    /** The ops an expression is made of (each has a step below and in {@link ChainKernel}). */
    private static final java.util.Set<ElementwiseOp> FUSABLE = java.util.EnumSet.of(ElementwiseOp.ADD,
            ElementwiseOp.SUB, ElementwiseOp.MUL, ElementwiseOp.NEG, ElementwiseOp.RELU, ElementwiseOp.RELU_BACKWARD);

    /** Whether {@code op} can be part of a deferred expression. */
    static boolean isFusable(ElementwiseOp op) {
        return FUSABLE.contains(op);
    }

    /** Whether fusable ops defer their results. */
    static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("jgrad.fusion"));
    /** Results with fewer elements are computed at once (tests lower it to run everything fused). */
    static volatile int minElements = Math.max(1, Integer.getInteger("jgrad.fusion.minElements", 1 << 15));
    static final int MAX_OPS = 16;
    static final int MAX_LEAVES = 8;
    /** Elements per step of the evaluation loop: every intermediate of a step stays in L1/L2. */
    private static final int CHUNK = 1024;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[0][]);
    private static final ThreadLocal<float[]> BLOCK_BUFFER = ThreadLocal.withInitial(() -> new float[0]);
    /** A chunk's values while they are consumed (stays in L1). */
    private static final ThreadLocal<float[]> CHUNK_BUFFER = ThreadLocal.withInitial(() -> new float[CHUNK]);

    /** The op of an inner node; null for a leaf. */
    final ElementwiseOp op;
    final Fused x;
    final Fused y;
    /** A leaf's storage (never deferred itself) and the offset of element 0 in it. */
    final ArrayStorage leaf;
    final int offset;
    /** A leaf that is one value for every element (a 1-element or expanded tensor). */
    final boolean scalar;
    /** Number of ops in this tree, counting shared subtrees once per use. */
    final int ops;

    private Fused(ElementwiseOp op, Fused x, Fused y) {
        this.op = op;
        this.x = x;
        this.y = y;
        this.leaf = null;
        this.offset = 0;
        this.scalar = false;
        this.ops = 1 + x.ops + (y == null ? 0 : y.ops);
    }

    private Fused(ArrayStorage leaf, int offset, boolean scalar) {
        this.op = null;
        this.x = null;
        this.y = null;
        this.leaf = leaf;
        this.offset = offset;
        this.scalar = scalar;
        this.ops = 0;
    }

    /**
     * When this expression is relu of one array indexed like the result, that array's leaf (its
     * storage, never deferred, and offset); else null. Max pooling reads through it.
     */
    Fused reluOfArray() {
        return op == ElementwiseOp.RELU && x.op == null && !x.scalar ? x : null;
    }

    private static boolean active() {
        return enabled;
    }

    // ---------------------------------------------------------------- building

    /** a op b (both broadcast to {@code shape}) deferred, or null when the op must run now (see the class comment). */
    static View binary(ElementwiseOp op, View a, View b, int[] shape) {
        if (op == ElementwiseOp.RELU_BACKWARD) {
            return reluBackward(a, b);
        }
        if (op.isUnary() || !FUSABLE.contains(op) || !active() || a.type() != ScalarType.FLOAT32
                || b.type() != ScalarType.FLOAT32 || Views.numel(shape) < minElements) {
            return null;
        }
        Fused ea = operand(a, shape);
        Fused eb = ea == null ? null : operand(b, shape);
        return eb == null ? null : make(new Fused(op, ea, eb), shape);
    }

    /** op(x) deferred for NEG and RELU, or null. */
    static View unary(ElementwiseOp op, View x) {
        if (!op.isUnary() || !FUSABLE.contains(op) || !active() || x.type() != ScalarType.FLOAT32
                || x.numel() < minElements) {
            return null;
        }
        Fused ex = operand(x, x.shape());
        return ex == null ? null : make(new Fused(op, ex, null), x.shape());
    }

    /** dOut where !(x <= 0) (relu's backward, see {@link Elementwise#reluBackward}) deferred, or null. */
    private static View reluBackward(View dOut, View x) {
        if (!active() || dOut.type() != ScalarType.FLOAT32 || x.type() != ScalarType.FLOAT32 || x.numel() < minElements) {
            return null;
        }
        boolean fits = Arrays.equals(dOut.shape(), x.shape())
                || dOut.numel() == 1 && dOut.shape().length <= x.shape().length;
        Fused eg = fits ? operand(dOut, x.shape()) : null;
        Fused ex = eg == null ? null : operand(x, x.shape());
        return ex == null ? null : make(new Fused(ElementwiseOp.RELU_BACKWARD, eg, ex), x.shape());
    }

    /** t (already known to broadcast to shape) as an expression, or null if it cannot be one. */
    private static Fused operand(View t, int[] shape) {
        if (t.numel() == 1) {
            return new Fused(scalarStorage(t), t.offset(), true);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            return null;
        }
        if (isConstant(t)) {
            return new Fused(scalarStorage(t), t.offset(), true);
        }
        ArrayStorage s = st(t);
        Fused p = s.pending();
        if (p != null && t.offset() == 0 && t.numel() == s.length() && t.isContiguous()) {
            return p;
        }
        if (!t.isContiguous()) {
            return null;
        }
        s.materialize(); // a view of part of a deferred storage reads its values
        return new Fused(s, t.offset(), false);
    }

    private static ArrayStorage scalarStorage(View t) {
        st(t).materialize();
        return st(t);
    }

    /** Every element at the same offset (an expanded scalar, such as the gradient of a sum). */
    private static boolean isConstant(View t) {
        for (int d = 0; d < t.shape().length; d++) {
            if (t.shape()[d] != 1 && t.strides()[d] != 0) {
                return false;
            }
        }
        return true;
    }

    private static View make(Fused e, int[] shape) {
        if (e.ops > MAX_OPS) {
            return null;
        }
        List<ArrayStorage> leaves = new ArrayList<>();
        e.collectLeafStorages(leaves);
        if (leaves.size() > MAX_LEAVES) {
            return null;
        }
        int[] s = shape.clone();
        ArrayStorage out = ArrayStorage.deferred(CpuBackend.INSTANCE, e, Views.numel(s));
        for (ArrayStorage leaf : leaves) {
            leaf.addDependent(out);
        }
        return new View(out, 0, s, View.contiguousStrides(s));
    }

    private void collectLeafStorages(List<ArrayStorage> into) {
        if (op == null) {
            for (ArrayStorage s : into) {
                if (s == leaf) {
                    return;
                }
            }
            into.add(leaf);
            return;
        }
        x.collectLeafStorages(into);
        if (y != null) {
            y.collectLeafStorages(into);
        }
    }

    // ---------------------------------------------------------------- evaluation

    /** The tree as straight-line code over registers: leaves first, then one register per op. */
    private static final class Program {
        final List<Fused> leaves = new ArrayList<>();
        final List<ElementwiseOp> code = new ArrayList<>();
        final List<int[]> args = new ArrayList<>();
        float[][] arrays;
        int[] offsets;
        float[] values;

        Program(Fused root) {
            collect(root);
            int n = leaves.size();
            arrays = new float[n][];
            offsets = new int[n];
            values = new float[n];
            for (int i = 0; i < n; i++) {
                Fused l = leaves.get(i);
                float[] a = l.leaf.f();
                offsets[i] = l.offset;
                if (l.scalar) {
                    values[i] = a[l.offset];
                } else {
                    arrays[i] = a;
                }
            }
            emit(root);
        }

        private void collect(Fused e) {
            if (e.op == null) {
                if (indexOf(e) < 0) {
                    leaves.add(e);
                }
                return;
            }
            collect(e.x);
            if (e.y != null) {
                collect(e.y);
            }
        }

        private int indexOf(Fused l) {
            for (int i = 0; i < leaves.size(); i++) {
                Fused m = leaves.get(i);
                if (m.leaf == l.leaf && m.offset == l.offset && m.scalar == l.scalar) {
                    return i;
                }
            }
            return -1;
        }

        private int emit(Fused e) {
            if (e.op == null) {
                return indexOf(e);
            }
            int a = emit(e.x);
            int b = e.y == null ? -1 : emit(e.y);
            code.add(e.op);
            args.add(new int[] {a, b});
            return leaves.size() + code.size() - 1;
        }

        int registers() {
            return leaves.size() + code.size();
        }

        /** Scratch registers for this thread, with the scalar leaves filled in. */
        float[][] scratch() {
            float[][] regs = SCRATCH.get();
            if (regs.length < registers()) {
                regs = new float[registers()][CHUNK];
                SCRATCH.set(regs);
            }
            for (int i = 0; i < leaves.size(); i++) {
                if (arrays[i] == null) {
                    Arrays.fill(regs[i], values[i]);
                }
            }
            return regs;
        }

        /** Evaluates elements [start, start + len), len <= CHUNK; returns the register holding them. */
        float[] run(int start, int len, float[][] regs) {
            int nl = leaves.size();
            for (int i = 0; i < nl; i++) {
                if (arrays[i] != null) {
                    System.arraycopy(arrays[i], offsets[i] + start, regs[i], 0, len);
                }
            }
            for (int k = 0; k < code.size(); k++) {
                int[] ab = args.get(k);
                if (ab[1] < 0) {
                    unaryStep(code.get(k), regs[ab[0]], 0, regs[nl + k], 0, len);
                } else {
                    arrayStep(code.get(k), regs[ab[0]], 0, regs[ab[1]], 0, regs[nl + k], 0, len);
                }
            }
            return regs[nl + code.size() - 1];
        }
    }

    /**
     * The common case, run without copies: a chain (every op has at most one op below it) whose
     * array inputs start at offset 0, so element i of every input, of the running result and of
     * the output share the index i, the only form C2 vectorizes. Each step updates the running
     * result in place, chunk by chunk, while the chunk is in L1.
     */
    private static final class Chain {
        final List<ElementwiseOp> ops = new ArrayList<>();
        /** Per step: the operands' arrays (null: the running result, or a scalar in the values). */
        final List<float[][]> arrays = new ArrayList<>();
        final List<float[]> values = new ArrayList<>();
        final List<boolean[]> isScalar = new ArrayList<>();

        /** This chain's compiled loop ({@link ChainKernels}), when it has one ready; its operands. */
        ChainKernels.Kernel kernel;
        float[][] kernelArrays;
        float[] kernelScalars;

        /** The chain for root, or null when root is not one. */
        static Chain of(Fused root, long elements) {
            Chain c = new Chain();
            if (c.emit(root) != Source.RESULT) {
                return null;
            }
            if (ChainKernels.ENABLED && c.ops.size() <= ChainKernels.MAX_STEPS) {
                c.findKernel(elements);
            }
            return c;
        }

        /** Describes the chain as ChainKernel's class data and asks for its kernel. */
        private void findKernel(long elements) {
            int[] sig = new int[ChainKernels.SIGNATURE_LENGTH];
            float[][] a = new float[ChainKernels.MAX_STEPS + 1][];
            float[] v = new float[ChainKernels.MAX_STEPS + 1];
            sig[0] = ops.size();
            for (int k = 0; k < ops.size(); k++) {
                float[][] arr = arrays.get(k);
                float[] val = values.get(k);
                boolean[] sc = isScalar.get(k);
                int operand; // which of the step's operands goes to slot k + 1; -1: none (unary)
                int side = 0;
                if (k == 0) { // both operands are inputs: the first starts the chain
                    sig[1] = sc[0] ? 2 : 1;
                    a[0] = arr[0];
                    v[0] = val[0];
                    operand = arr.length == 2 ? 1 : -1;
                } else if (arr.length == 1) {
                    operand = -1;
                } else if (arr[0] == null && !sc[0]) { // the running result on the left
                    operand = 1;
                } else {
                    operand = 0;
                    side = 1;
                }
                int at = 2 + 3 * k;
                sig[at] = ops.get(k).ordinal();
                if (operand >= 0) {
                    sig[at + 1] = sc[operand] ? 2 : 1;
                    a[k + 1] = arr[operand];
                    v[k + 1] = val[operand];
                }
                sig[at + 2] = side;
            }
            kernel = ChainKernels.get(sig, elements);
            kernelArrays = a;
            kernelScalars = v;
        }

        /** What an operand is: the running result, an array input, a one-value input, or not a chain. */
        private enum Source { RESULT, INPUT, SCALAR, FAIL }

        private Source emit(Fused e) {
            if (e.op == null) {
                return e.scalar ? Source.SCALAR : e.offset == 0 ? Source.INPUT : Source.FAIL;
            }
            Source a = emit(e.x);
            Source b = e.y == null ? null : emit(e.y);
            if (a == Source.FAIL || b == Source.FAIL || a == Source.RESULT && b == Source.RESULT) {
                return Source.FAIL;
            }
            if (a == Source.SCALAR && (b == null || b == Source.SCALAR)) {
                return Source.FAIL; // every input one value: the general path fills registers with them
            }
            Fused[] in = e.y == null ? new Fused[] {e.x} : new Fused[] {e.x, e.y};
            float[][] arr = new float[in.length][];
            float[] val = new float[in.length];
            boolean[] sc = new boolean[in.length];
            for (int k = 0; k < in.length; k++) {
                Fused l = in[k];
                if (l.op == null) {
                    float[] data = l.leaf.f();
                    sc[k] = l.scalar;
                    if (l.scalar) {
                        val[k] = data[l.offset];
                    } else {
                        arr[k] = data;
                    }
                }
            }
            ops.add(e.op);
            arrays.add(arr);
            values.add(val);
            isScalar.add(sc);
            return Source.RESULT;
        }

        /** Receives a chunk's elements [start, start + len) in buf[0, len). */
        interface ChunkSink {
            void accept(float[] buf, int start, int len);
        }

        /**
         * Evaluates [from, to) chunk by chunk into this thread's chunk buffer and hands each chunk
         * to sink while it is in L1. Vectorized kernels only (the buffer's indices are not the
         * inputs').
         */
        void inChunks(int from, int to, ChunkSink sink) {
            float[] buf = CHUNK_BUFFER.get();
            for (int s = from; s < to; s += CHUNK) {
                int len = Math.min(CHUNK, to - s);
                run(buf, s, s, s + len);
                sink.accept(buf, s, len);
            }
        }

        /**
         * Runs every step over [from, to), the running result living in r at index i - base.
         * The plain loops need base 0 (shared indices); the vectorized ones take any base.
         */
        void run(float[] r, int base, int from, int to) {
            for (int s = from; s < to; s += CHUNK) {
                int n = Math.min(to, s + CHUNK) - s;
                int ro = s - base;
                for (int k = 0; k < ops.size(); k++) {
                    float[][] arr = arrays.get(k);
                    float[] val = values.get(k);
                    boolean[] sc = isScalar.get(k);
                    ElementwiseOp op = ops.get(k);
                    float[] a = arr[0] != null ? arr[0] : r;
                    int ao = arr[0] != null ? s : ro;
                    if (arr.length == 1) {
                        unaryStep(op, a, ao, r, ro, n);
                        continue;
                    }
                    float[] b = arr[1] != null ? arr[1] : r;
                    int bo = arr[1] != null ? s : ro;
                    if (sc[0]) {
                        scalarArrayStep(op, val[0], b, bo, r, ro, n);
                    } else if (sc[1]) {
                        arrayScalarStep(op, a, ao, val[1], r, ro, n);
                    } else {
                        arrayStep(op, a, ao, b, bo, r, ro, n);
                    }
                }
            }
        }
    }

    // Each step runs n elements: SimdKernels' loops when enabled (any offsets), else Elementwise's
    // same-index loops (offsets equal), so fused and op-by-op values are the same code.

    private static void unaryStep(ElementwiseOp op, float[] a, int ao, float[] o, int oo, int n) {
        if (Simd.ENABLED) {
            SimdKernels.unary(op, a, ao, o, oo, n);
            return;
        }
        Elementwise.unaryAlignedF(op, a, o, oo, oo + n, 0, 0);
    }

    private static void arrayStep(ElementwiseOp op, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        if (Simd.ENABLED) {
            SimdKernels.binary(op, a, ao, b, bo, o, oo, n);
        } else if (op != ElementwiseOp.RELU_BACKWARD) {
            Elementwise.binaryAlignedF(op, a, b, o, oo, oo + n);
        } else {
            for (int i = oo; i < oo + n; i++) { // RELU_BACKWARD: the bit form is exact for every input but stays scalar
                o[i] = Float.intBitsToFloat(Float.floatToRawIntBits(a[i]) & Elementwise.reluMask(b[i]));
            }
        }
    }

    private static void arrayScalarStep(ElementwiseOp op, float[] a, int ao, float b, float[] o, int oo, int n) {
        if (Simd.ENABLED) {
            SimdKernels.arrayScalar(op, a, ao, b, o, oo, n);
        } else if (op != ElementwiseOp.RELU_BACKWARD) {
            Elementwise.scalarAlignedF(op, a, b, o, oo, oo + n);
        } else {
            int mask = Elementwise.reluMask(b);
            for (int i = oo; i < oo + n; i++) {
                o[i] = Float.intBitsToFloat(Float.floatToRawIntBits(a[i]) & mask);
            }
        }
    }

    private static void scalarArrayStep(ElementwiseOp op, float a, float[] b, int bo, float[] o, int oo, int n) {
        if (Simd.ENABLED) {
            SimdKernels.scalarArray(op, a, b, bo, o, oo, n);
            return;
        }
        switch (op) {
            case ADD, MUL -> Elementwise.scalarAlignedF(op, b, a, o, oo, oo + n); // commute, as Elementwise does
            case SUB -> {
                for (int i = oo; i < oo + n; i++) {
                    o[i] = a - b[i];
                }
            }
            default -> { // the gradient of a sum reaching relu: one value, masked
                int g = Float.floatToRawIntBits(a);
                for (int i = oo; i < oo + n; i++) {
                    o[i] = Float.intBitsToFloat(g & Elementwise.reluMask(b[i]));
                }
            }
        }
    }

    /** Whether this expression runs through a ready per-expression kernel (tests). */
    boolean hasKernel() {
        Chain c = Chain.of(this, 0);
        return c != null && c.kernel != null;
    }

    /** Computes every element into {@code out} (length = the deferred storage's). */
    void evaluateInto(float[] out) {
        Chain c = Chain.of(this, out.length);
        if (c != null && c.kernel != null) {
            Parallel.forRange(out.length, Elementwise.GRAIN,
                    (from, to) -> c.kernel.store(c.kernelArrays, c.kernelScalars, out, from, to));
            return;
        }
        if (c != null) {
            Parallel.forRange(out.length, Elementwise.GRAIN, (from, to) -> c.run(out, 0, from, to));
            return;
        }
        Program p = new Program(this);
        Parallel.forRange(out.length, Elementwise.GRAIN, (from, to) -> {
            float[][] regs = p.scratch();
            for (int s = from; s < to; s += CHUNK) {
                int len = Math.min(CHUNK, to - s);
                System.arraycopy(p.run(s, len, regs), 0, out, s, len);
            }
        });
    }

    /**
     * The sums of the n elements in blocks of {@code block} (block i into partial[i]) with
     * {@link Reduce#sumRange}'s accumulation, without storing the elements. A chain runs through
     * its compiled kernel when one is ready ({@link ChainKernels}); else, with the vectorized
     * kernels, step by step in a chunk buffer that stays in L1; else (plain loops, which need
     * shared indices) into a per-thread workspace the size of the result (it stays warm in the
     * cache from one call to the next, where a fresh array would not). False when the result is
     * too large for the workspace, and the caller should materialize instead.
     */
    boolean sumBlocks(int n, int block, double[] partial) {
        Chain c = Chain.of(this, n);
        if (c != null && c.kernel != null) {
            Parallel.forRange(n, block, (from, to) -> {
                double[] lanes = new double[Reduce.SUM_LANES];
                c.kernel.sum(c.kernelArrays, c.kernelScalars, from, to, lanes);
                partial[from / block] = Reduce.combine(lanes);
            });
            return true;
        }
        if (c != null && Simd.ENABLED) {
            // each chunk in a buffer that stays in L1, summed while there (vectorized loops take any offsets)
            Parallel.forRange(n, block, (from, to) -> {
                double[] lanes = new double[Reduce.SUM_LANES];
                c.inChunks(from, to, (buf, start, len) -> SimdKernels.accumulate(buf, 0, len, lanes));
                partial[from / block] = Reduce.combine(lanes);
            });
            return true;
        }
        if (c != null) {
            if (n > MAX_WORKSPACE) {
                return false;
            }
            Parallel.forRange(n, block, (from, to) -> {
                float[] ws = workspace(n);
                c.run(ws, 0, from, to);
                partial[from / block] = Reduce.sumRange(ws, from, to - from);
            });
            return true;
        }
        Program p = new Program(this);
        Parallel.forRange(n, block, (from, to) -> {
            float[][] regs = p.scratch();
            float[] buf = BLOCK_BUFFER.get();
            if (buf.length < to - from) {
                buf = new float[block];
                BLOCK_BUFFER.set(buf);
            }
            for (int s = from; s < to; s += CHUNK) {
                int len = Math.min(CHUNK, to - s);
                System.arraycopy(p.run(s, len, regs), 0, buf, s - from, len);
            }
            partial[from / block] = Reduce.sumRange(buf, 0, to - from);
        });
        return true;
    }

    /**
     * dest[destOffset + i] += alpha * element i for every element, each chunk evaluated in a
     * buffer that stays in L1 and added from there (the accumulation of a gradient in flight into
     * a {@code .grad}). The same bits as computing the elements and then adding. False when the
     * expression is not a chain or the vectorized kernels are off; the caller then materializes.
     */
    boolean addInto(float[] dest, int destOffset, float alpha, int n) {
        Chain c = Simd.ENABLED ? Chain.of(this, n) : null;
        if (c == null) {
            return false;
        }
        if (c.kernel != null) {
            Parallel.forRange(n, Elementwise.GRAIN,
                    (from, to) -> c.kernel.addScaled(c.kernelArrays, c.kernelScalars, alpha, dest, destOffset, from, to));
            return true;
        }
        Parallel.forRange(n, Elementwise.GRAIN, (from, to) -> c.inChunks(from, to,
                (buf, start, len) -> SimdKernels.addScaled(buf, 0, alpha, dest, destOffset + start, len)));
        return true;
    }

    /** Copies elements of a deferred expression into an array of the caller's ({@link #ranges}). */
    interface RangeReader {
        /** dest[destOffset + i] = element from + i, for i below len. */
        void copy(int from, int len, float[] dest, int destOffset);
    }

    /**
     * A reader of this expression's elements range by range, each evaluated chunk by chunk in a
     * buffer that stays in L1 and copied from there (the same bits as materializing and copying),
     * so that a kernel that rearranges the elements (a convolution's gradient gathered channel by
     * channel) need not write and read back the whole result; null when the expression is not a
     * chain or the vectorized kernels are off (the caller then materializes).
     */
    RangeReader ranges(int n) {
        Chain c = Simd.ENABLED ? Chain.of(this, n) : null;
        if (c == null) {
            return null;
        }
        return (from, len, dest, destOffset) -> c.inChunks(from, from + len,
                (buf, start, l) -> System.arraycopy(buf, 0, dest, destOffset + start - from, l));
    }

    /** Largest result (elements) a fused sum evaluates through a workspace: 16 MB per thread. */
    static final int MAX_WORKSPACE = 1 << 22;
    /** Softly held, so that the collector can take it back when memory runs short. */
    private static final ThreadLocal<SoftReference<float[]>> WORKSPACE = new ThreadLocal<>();

    private static float[] workspace(int n) {
        SoftReference<float[]> ref = WORKSPACE.get();
        float[] ws = ref == null ? null : ref.get();
        if (ws == null || ws.length < n) {
            ws = new float[n];
            WORKSPACE.set(new SoftReference<>(ws));
        }
        return ws;
    }
}
