package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.backend.Backend;
import io.jgrad.core.backend.ElementwiseOp;
import io.jgrad.core.backend.Storage;
import io.jgrad.core.backend.UpdateOp;
import io.jgrad.core.backend.View;
import io.jgrad.core.backend.Window;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An n-dimensional array and its place in the computational graph.
 *
 * <p>Each op is a kernel call on a {@link Backend} (the CPU's unless the tensor was made on
 * another, see {@link Backends}), a record in the graph, and a backward written in tensor ops;
 * this class is the table of those ops. The elements live in a {@link Storage} the backend owns,
 * row-major; views such as {@link #transpose}, {@link #narrow} and {@link #expand} share it
 * through strides. Methods use PyTorch's names and semantics, including NumPy broadcasting for
 * every binary op. Results are new tensors; the only methods that modify a tensor say so in
 * their name ({@code fill}, {@code copyFrom}, {@code addInPlace}, {@code mulInPlace},
 * {@code update}) and bump its version.
 *
 * <p>Autograd: a floating-point leaf made with {@link #requiresGrad(boolean)} records every op
 * applied to it; {@link #backward()} then fills {@link #grad()} of each such leaf. Each
 * differentiable op states its backward with tensor ops, so gradients are themselves
 * differentiable ({@code backward(g, Autograd.Options.createGraph())} or {@link Autograd#grad}).
 *
 * <p>Thread safety: ops that only read tensors (every op whose name does not say it modifies)
 * may run on several threads at once, also on shared inputs. In-place methods, {@code setGrad},
 * {@code zeroGrad} and {@code requiresGrad} are not synchronized: no other thread may use the
 * tensor meanwhile. Backward may run on several threads at once through graphs that share nodes
 * and leaves when every one of them retains the graph ({@code retainGraph = true}): each leaf's
 * gradient accumulates atomically, so the sum is as if they had run one after another (up to
 * floating-point order). A backward that frees the graph refuses, with an
 * {@link IllegalStateException} and before changing anything, to start through nodes another
 * thread's backward is using, and the other way round. Reading {@link #grad()} while a backward
 * may still be writing it is a race the caller must avoid.
 */
public sealed class Tensor permits Parameter {
    /** The most dims a tensor can have (a larger shape is a {@link ShapeException}). */
    public static final int MAX_RANK = Shapes.MAX_RANK;

    private static final Tensor[] NONE = new Tensor[0];

    final Storage storage;
    final int offset;
    final int[] shape;
    final int[] strides;
    private final int numel;

    boolean requiresGrad;
    Node gradFn;
    Tensor grad;
    boolean retainsGrad;
    List<UnaryOperator<Tensor>> hooks;

    Tensor(Storage storage, int offset, int[] shape, int[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        this.numel = Shapes.numel(shape);
    }

    /** A fresh, zero-filled contiguous tensor on the current backend (shape is checked before allocating). */
    static Tensor empty(DType dtype, int[] shape) {
        return empty(Backends.current(), dtype, shape);
    }

    /** A fresh, zero-filled contiguous tensor on {@code backend}. */
    static Tensor empty(Backend backend, DType dtype, int[] shape) {
        int[] s = shape.clone();
        int n = Shapes.numel(s);
        return new Tensor(backend.allocate(dtype.scalarType(), n), 0, s, Shapes.contiguousStrides(s));
    }

    /** {@code shape}, once it is known to fit a Java array (a {@link TensorTooLargeException} otherwise): before a kernel makes it. */
    private static int[] fits(int[] shape) {
        Shapes.numel(shape);
        return shape;
    }

    /** A kernel's result: {@code s} as a contiguous tensor of {@code shape} (never changed afterwards). */
    static Tensor over(Storage s, int[] shape) {
        return new Tensor(s, 0, shape, Shapes.contiguousStrides(shape));
    }

    /** What kernels see of this tensor. */
    View asView() {
        return new View(storage, offset, shape, strides);
    }

    /** The backend that holds this tensor's elements and runs the ops on it (PyTorch's {@code device}). */
    public Backend backend() {
        return storage.backend();
    }

    /** Records {@code out} as the result of {@code op} when gradients are being recorded. */
    static Tensor derive(String op, Tensor out, Tensor[] inputs, Tensor[] saved, Node.Backward backward) {
        if (Trace.isTracing()) {
            Trace.record(op, inputs, out);
        }
        Throwable site = null;
        if (Autograd.isAnomalyEnabled()) {
            site = Autograd.creationSite(op);
            Autograd.checkForward(op, out, inputs, site);
        }
        boolean any = false;
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad) {
                any = true;
                break;
            }
        }
        if (!any || !Autograd.isGradEnabled()) {
            return out;
        }
        out.requiresGrad = true;
        out.gradFn = new Node(op, inputs, saved, backward, site);
        return out;
    }

    private static Tensor[] in(Tensor... tensors) {
        return tensors;
    }

    // =================================================================== creation

    /** Zeros of the given shape, FLOAT32. */
    public static Tensor zeros(int... shape) {
        return zeros(DType.FLOAT32, shape);
    }

    /** Zeros of the given dtype and shape. */
    public static Tensor zeros(DType dtype, int... shape) {
        return empty(dtype, shape);
    }

    /** Zeros of the given shape, FLOAT32. */
    public static Tensor zeros(Shape shape) {
        return zeros(DType.FLOAT32, shape.dims());
    }

    /** Zeros of the given dtype and shape. */
    public static Tensor zeros(DType dtype, Shape shape) {
        return zeros(dtype, shape.dims());
    }

    /** Ones of the given shape, FLOAT32. */
    public static Tensor ones(int... shape) {
        return full(DType.FLOAT32, 1, shape);
    }

    /** Ones of the given dtype and shape. */
    public static Tensor ones(DType dtype, int... shape) {
        return full(dtype, 1, shape);
    }

    /** Ones of the given shape, FLOAT32. */
    public static Tensor ones(Shape shape) {
        return ones(DType.FLOAT32, shape);
    }

    /** Ones of the given dtype and shape. */
    public static Tensor ones(DType dtype, Shape shape) {
        return full(dtype, 1, shape.dims());
    }

    /** Every element equal to {@code value}, FLOAT32. */
    public static Tensor full(double value, int... shape) {
        return full(DType.FLOAT32, value, shape);
    }

    /** Every element equal to {@code value} (converted to the dtype). */
    public static Tensor full(DType dtype, double value, int... shape) {
        Tensor t = empty(dtype, shape);
        if (value != 0) {
            t.backend().fill(t.asView(), value);
        }
        return t;
    }

    /** Zeros with this tensor's dtype and shape. */
    public static Tensor zerosLike(Tensor t) {
        return zeros(t.dtype(), t.shape);
    }

    /** Ones with this tensor's dtype and shape. */
    public static Tensor onesLike(Tensor t) {
        return ones(t.dtype(), t.shape);
    }

    /** A 0-d FLOAT32 tensor. */
    public static Tensor scalar(double value) {
        return scalar(DType.FLOAT32, value);
    }

    /** A 0-d tensor of the given dtype. */
    public static Tensor scalar(DType dtype, double value) {
        return full(dtype, value, new int[0]);
    }

    /** FLOAT32 tensor holding {@code values} (copied) in row-major order; no shape means 1-D. */
    public static Tensor of(float[] values, int... shape) {
        return wrap(Backends.current().wrap(values.clone()), values.length, shape);
    }

    /**
     * FLOAT32 tensor over {@code values} itself, not a copy (like {@code torch.from_numpy}): writes
     * to the array show in the tensor and in-place ops on the tensor write the array. For
     * exchanging buffers without copies (a data-parallel trainer's gradients); the array must not
     * change while an op that reads the tensor runs or while autograd holds it for a backward.
     */
    public static Tensor wrapArray(float[] values, int... shape) {
        return wrap(Backends.current().wrap(values), values.length, shape);
    }

    /**
     * Takes back the array of a tensor made over one ({@link #wrapArray(float[], int...)}, or
     * {@link #of(float[], int...)}'s copy), so that the
     * caller can fill it again for a later tensor instead of allocating a new one (a data loader's
     * batches: {@link io.jgrad.data.Batch#close()}). Deferred results that read this tensor are
     * computed first; afterwards reading or writing this tensor, any view of it, or a graph that
     * saved it fails with {@link IllegalStateException}, so nothing can see the array's new
     * contents through it.
     *
     * @return the wrapped array
     * @throws IllegalStateException if this tensor's memory is not a wrapped float array, or was released already
     * @throws UnsupportedOperationException if its backend cannot give memory back
     */
    public float[] releaseArray() {
        return storage.release();
    }

    /** FLOAT64 tensor over {@code values} itself, not a copy; see {@link #wrapArray(float[], int...)}. */
    public static Tensor wrapArray(double[] values, int... shape) {
        return wrap(Backends.current().wrap(values), values.length, shape);
    }

    /** FLOAT64 tensor holding {@code values} (copied) in row-major order; no shape means 1-D. */
    public static Tensor of(double[] values, int... shape) {
        return wrap(Backends.current().wrap(values.clone()), values.length, shape);
    }

    /** INT64 tensor holding {@code values} (copied) in row-major order; no shape means 1-D. */
    public static Tensor of(long[] values, int... shape) {
        return wrap(Backends.current().wrap(values.clone()), values.length, shape);
    }

    /** INT64 tensor holding {@code values} (for labels and indices); no shape means 1-D. */
    public static Tensor of(int[] values, int... shape) {
        return wrap(Backends.current().wrap(Arrays.stream(values).asLongStream().toArray()), values.length, shape);
    }

    /** Tensor of the given dtype holding {@code values} converted; no shape means 1-D. */
    public static Tensor of(DType dtype, double[] values, int... shape) {
        return of(values, shape).to(dtype);
    }

    /** FLOAT64 matrix from rows of equal length (a ragged array is rejected, naming the row). */
    public static Tensor of(double[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        double[] flat = new double[Math.multiplyExact(rows.length, cols)];
        for (int r = 0; r < rows.length; r++) {
            checkArgument(rows[r].length == cols, "of: ragged array: row %s has %s values, row 0 has %s",
                    r, rows[r].length, cols);
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return wrap(Backends.current().wrap(flat), flat.length, rows.length, cols);
    }

    /** FLOAT32 matrix from rows of equal length (a ragged array is rejected, naming the row). */
    public static Tensor of(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[Math.multiplyExact(rows.length, cols)];
        for (int r = 0; r < rows.length; r++) {
            checkArgument(rows[r].length == cols, "of: ragged array: row %s has %s values, row 0 has %s",
                    r, rows[r].length, cols);
            System.arraycopy(rows[r], 0, flat, r * cols, cols);
        }
        return wrap(Backends.current().wrap(flat), flat.length, rows.length, cols);
    }

    private static Tensor wrap(Storage s, int length, int... shape) {
        int[] sh = shape.length == 0 ? new int[] {length} : shape.clone();
        int n = Shapes.numel(sh);
        if (n != length) {
            throw new ShapeException("of: " + length + " values cannot fill shape " + Shapes.str(sh)
                    + " (" + n + " elements)");
        }
        return new Tensor(s, 0, sh, Shapes.contiguousStrides(sh));
    }

    /** INT64 tensor [0, 1, ..., end - 1]. */
    public static Tensor arange(long end) {
        return arange(0, end);
    }

    /** INT64 tensor [start, start + 1, ..., end - 1]. */
    public static Tensor arange(long start, long end) {
        checkArgument(end >= start, "arange: end %s is below start %s", end, start);
        int n = Math.toIntExact(end - start);
        Tensor t = empty(DType.INT64, new int[] {n});
        for (int i = 0; i < n; i++) {
            t.storage.set(i, start + i);
        }
        return t;
    }

    /** FLOAT32 tensor start, start + step, ... (values below end; above it when step is negative). */
    public static Tensor arange(double start, double end, double step) {
        return arange(DType.FLOAT32, start, end, step);
    }

    /** Tensor of the given dtype: start, start + step, ... up to but excluding end. */
    public static Tensor arange(DType dtype, double start, double end, double step) {
        checkArgument(step != 0 && Double.isFinite(step), "arange: step must be finite and non-zero, got %s", step);
        checkArgument(Double.isFinite(start) && Double.isFinite(end), "arange: bounds must be finite, got %s, %s",
                start, end);
        checkArgument((end - start) / step >= 0, "arange: step %s has the wrong sign for [%s, %s)", step, start, end);
        long n = (long) Math.ceil((end - start) / step);
        checkArgument(n <= Shapes.MAX_ELEMENTS, "arange: %s elements exceed the limit %s", n, Shapes.MAX_ELEMENTS);
        Tensor t = empty(dtype, new int[] {(int) n});
        for (int i = 0; i < n; i++) {
            t.storage.set(i, start + i * step);
        }
        return t;
    }

    /** FLOAT32 identity matrix [n, n]. */
    public static Tensor eye(int n) {
        return eye(DType.FLOAT32, n, n);
    }

    /** Matrix [rows, cols] with ones on the main diagonal. */
    public static Tensor eye(DType dtype, int rows, int cols) {
        Tensor t = empty(dtype, new int[] {rows, cols});
        for (int i = 0; i < Math.min(rows, cols); i++) {
            t.storage.set(i * cols + i, 1);
        }
        return t;
    }

    /** Uniform on [0, 1) from the default generator, FLOAT32. */
    public static Tensor rand(int... shape) {
        return uniform(Generator.getDefault(), DType.FLOAT32, 0, 1, shape);
    }

    /** Uniform on [0, 1) from {@code rng}, FLOAT32. */
    public static Tensor rand(Generator rng, int... shape) {
        return uniform(rng, DType.FLOAT32, 0, 1, shape);
    }

    /** Uniform on [0, 1) from {@code rng}, FLOAT32, of the given shape. */
    public static Tensor rand(Generator rng, Shape shape) {
        return rand(rng, shape.dims());
    }

    /** Standard normal from the default generator, FLOAT32. */
    public static Tensor randn(int... shape) {
        return randn(Generator.getDefault(), DType.FLOAT32, shape);
    }

    /** Standard normal from {@code rng}, FLOAT32. */
    public static Tensor randn(Generator rng, int... shape) {
        return randn(rng, DType.FLOAT32, shape);
    }

    /** Standard normal from {@code rng}, FLOAT32, of the given shape. */
    public static Tensor randn(Generator rng, Shape shape) {
        return randn(rng, DType.FLOAT32, shape.dims());
    }

    /** Standard normal from {@code rng}, of the given floating dtype and shape. */
    public static Tensor randn(Generator rng, DType dtype, Shape shape) {
        return randn(rng, dtype, shape.dims());
    }

    /** Standard normal from {@code rng}, of the given floating dtype. */
    public static Tensor randn(Generator rng, DType dtype, int... shape) {
        checkFloating("randn", dtype);
        Tensor t = empty(dtype, shape);
        for (int i = 0; i < t.numel; i++) {
            t.storage.set(i, rng.nextGaussian());
        }
        return t;
    }

    /** Uniform on [low, high) from {@code rng}, FLOAT32. */
    public static Tensor uniform(Generator rng, double low, double high, int... shape) {
        return uniform(rng, DType.FLOAT32, low, high, shape);
    }

    /** Uniform on [low, high) from {@code rng}, of the given floating dtype. */
    public static Tensor uniform(Generator rng, DType dtype, double low, double high, int... shape) {
        checkFloating("uniform", dtype);
        checkArgument(low <= high && Double.isFinite(low) && Double.isFinite(high),
                "uniform: need finite low <= high, got [%s, %s)", low, high);
        Tensor t = empty(dtype, shape);
        for (int i = 0; i < t.numel; i++) {
            t.storage.set(i, low + (high - low) * rng.nextDouble());
        }
        return t;
    }

    /** INT64 integers uniform on [low, high) from {@code rng}. */
    public static Tensor randint(Generator rng, int low, int high, int... shape) {
        checkArgument(low < high, "randint: need low < high, got [%s, %s)", low, high);
        Tensor t = empty(DType.INT64, shape);
        for (int i = 0; i < t.numel; i++) {
            t.storage.set(i, low + rng.nextInt(high - low));
        }
        return t;
    }

    private static void checkFloating(String op, DType dtype) {
        checkArgument(dtype.isFloatingPoint(), "%s: needs a floating-point dtype, got %s", op, dtype);
    }

    // =================================================================== properties and conversion

    /** Element type. */
    public DType dtype() {
        return DType.of(storage.type());
    }

    /** The shape ({@code [2, 3]}; {@code []} for a scalar), an immutable value. */
    public Shape shape() {
        return Shape.own(shape);
    }

    /** Number of dimensions (0 for a scalar). */
    public int dim() {
        return shape.length;
    }

    /** Size along {@code dim}; negative dims count from the end. */
    public int size(int dim) {
        return shape[Shapes.dim("size", dim, shape.length)];
    }

    /** Number of elements. */
    public int numel() {
        return numel;
    }

    /** Element step per dimension in the storage (PyTorch's {@code stride()}). */
    public int[] strides() {
        return strides.clone();
    }

    /** True when elements are laid out row-major without gaps (size-1 dims ignored). */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** True if this tensor and {@code other} are views of the same storage (writing one changes the other). */
    public boolean sharesStorage(Tensor other) {
        return storage == other.storage;
    }

    /** Counter bumped by every in-place update of this tensor's storage (shared with its views). */
    public int version() {
        return storage.version();
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel != 1) {
            throw new IllegalStateException("item: a tensor with " + numel + " elements (shape " + Shapes.str(shape)
                    + ") cannot be converted to a scalar");
        }
        return storage.get(offset);
    }

    /** The element at {@code index} (one index per dim; negative indices count from the end). */
    public double get(int... index) {
        checkArgument(index.length == shape.length, "get: %s indices for a tensor of rank %s", index.length,
                shape.length);
        int at = offset;
        for (int d = 0; d < index.length; d++) {
            int i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d]) {
                throw new IndexOutOfBoundsException("get: index " + index[d] + " out of range for dim " + d
                        + " of size " + shape[d]);
            }
            at += i * strides[d];
        }
        return storage.get(at);
    }

    /** The elements in row-major order, converted to float. */
    public float[] toFloatArray() {
        return backend().toFloatArray(asView());
    }

    /** The elements in row-major order, converted to double. */
    public double[] toDoubleArray() {
        return backend().toDoubleArray(asView());
    }

    /** The elements in row-major order, converted to long (floats truncate toward zero). */
    public long[] toLongArray() {
        return backend().toLongArray(asView());
    }

    /** This tensor converted to {@code dtype} (itself if it already has it); differentiable between float types. */
    public Tensor to(DType dtype) {
        if (dtype == dtype()) {
            return this;
        }
        Tensor out = empty(backend(), dtype, shape);
        backend().copy(asView(), out.asView());
        if (!dtype.isFloatingPoint()) {
            if (Trace.isTracing()) {
                Trace.record("to", in(this), out);
            }
            return out;
        }
        DType from = dtype();
        return derive("to", out, in(this), NONE, dOut -> in(dOut.to(from)));
    }

    /** A contiguous copy that owns its storage; differentiable. */
    @Override
    public Tensor clone() {
        Tensor out = contiguousCopyNoGrad();
        return derive("clone", out, in(this), NONE, dOut -> in(dOut));
    }

    /** This tensor if contiguous, else a contiguous copy; differentiable. */
    public Tensor contiguous() {
        return isContiguous() ? this : clone();
    }

    /** A tensor sharing this one's storage but outside the graph (no gradient flows through it). */
    public Tensor detach() {
        Tensor out = new Tensor(storage, offset, shape, strides);
        if (Trace.isTracing()) {
            Trace.record("detach", in(this), out);
        }
        return out;
    }

    /** {@link #detach()} without a trace record: for ops that use an operand's values but record it themselves. */
    private Tensor outsideGraph() {
        return new Tensor(storage, offset, shape, strides);
    }

    Tensor contiguousNoGrad() {
        return isContiguous() ? this : contiguousCopyNoGrad();
    }

    /** A fresh contiguous copy at offset 0, never recorded. */
    Tensor contiguousCopyNoGrad() {
        Tensor out = empty(backend(), dtype(), shape);
        backend().copy(asView(), out.asView());
        return out;
    }

    Tensor narrowNoGrad(int dim, int start, int length) {
        int[] s = shape.clone();
        s[dim] = length;
        return new Tensor(storage, offset + start * strides[dim], s, strides);
    }

    // =================================================================== autograd

    /**
     * Marks this leaf as requiring gradients (or not); returns this. Only floating-point leaves
     * (tensors not produced by a recorded op) can.
     */
    public Tensor requiresGrad(boolean requires) {
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad: can only be set on leaf tensors; this one is the output of '"
                    + gradFn.op + "' (use detach() first)");
        }
        checkArgument(!requires || dtype().isFloatingPoint(),
                "requiresGrad: only floating-point tensors can require gradients, got %s", dtype());
        requiresGrad = requires;
        return this;
    }

    /** True if gradients are recorded for this tensor. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** True for tensors not produced by a recorded op (inputs, parameters). */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Name of the op that produced this tensor in the graph ({@code "mul"}), or null for a leaf. */
    public String gradFnName() {
        return gradFn == null ? null : gradFn.op;
    }

    /** The accumulated gradient: set by backward on leaves (and on tensors that {@link #retainGrad()}), else null. */
    public Tensor grad() {
        return grad;
    }

    /** Replaces the gradient (null clears it); it must have this tensor's shape and dtype, as in PyTorch. */
    public void setGrad(Tensor gradient) {
        if (gradient != null && !Arrays.equals(gradient.shape, shape)) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shapes.str(gradient.shape)
                    + " does not match tensor shape " + Shapes.str(shape));
        }
        checkArgument(gradient == null || gradient.dtype() == dtype(),
                "setGrad: gradient dtype %s does not match tensor dtype %s (convert it with to(DType.%s))",
                gradient == null ? null : gradient.dtype(), dtype(), dtype().name());
        // zeroGrad and accumulation write the gradient's storage in place: a strided or expanded view would
        // zero or add into memory that is not the gradient's
        checkArgument(gradient == null || gradient.isContiguous(),
                "setGrad: the gradient must be contiguous (a view like narrow, expand or t() is not); pass "
                        + "gradient.contiguous()");
        grad = gradient;
    }

    /**
     * Resets the gradient: zeroes it in place, keeping its storage (so later backward passes
     * accumulate without allocating), or clears it when it is part of a graph.
     */
    public void zeroGrad() {
        if (grad == null) {
            return;
        }
        if (grad.requiresGrad) {
            grad = null;
        } else {
            grad.backend().fill(grad.asView(), 0);
            grad.storage.bumpVersion();
        }
    }

    /** Keeps the gradient of this non-leaf tensor in {@link #grad()} during backward. */
    public Tensor retainGrad() {
        retainsGrad = true;
        return this;
    }

    /** A registered gradient hook; {@link #remove()} unregisters it. */
    public interface HookHandle {
        /** Unregisters the hook. */
        void remove();
    }

    /**
     * Calls {@code hook} with this tensor's gradient when backward computes it; a non-null return
     * value replaces the gradient. Hooks run in registration order.
     */
    public HookHandle registerHook(UnaryOperator<Tensor> hook) {
        checkArgument(hook != null, "registerHook: hook is null");
        if (!requiresGrad) {
            throw new IllegalStateException("registerHook: cannot register a hook on a tensor that does not require grad");
        }
        if (hooks == null) {
            hooks = new ArrayList<>(1);
        }
        hooks.add(hook);
        return () -> hooks.remove(hook);
    }

    /** Backward from this scalar: accumulates d(this)/d(leaf) into every leaf's grad, then frees the graph. */
    public void backward() {
        backward(null, Autograd.Options.DEFAULT);
    }

    /** Backward with an explicit upstream gradient of this tensor's shape (required when not a scalar). */
    public void backward(Tensor gradient) {
        backward(gradient, Autograd.Options.DEFAULT);
    }

    /**
     * Backward from {@code gradient} (null for a scalar: 1) as {@code options} say:
     * {@link Autograd.Options#retainGraph()} keeps the graph for another backward,
     * {@link Autograd.Options#createGraph()} records the backward itself so that the gradients
     * can be differentiated again.
     */
    public void backward(Tensor gradient, Autograd.Options options) {
        checkArgument(options != null, "backward: options are required (Autograd.Options.DEFAULT)");
        Tensor seed = Autograd.seed(this, gradient, "backward");
        Autograd.run(in(this), in(seed), options.retain(), options.create(), null);
    }

    // =================================================================== elementwise math

    private static DType resultType(Tensor a, Tensor b) {
        DType x = a.dtype();
        DType y = b.dtype();
        if (x == y) {
            return x;
        }
        // as in PyTorch, a 0-d operand does not widen a dimensioned one of the same kind
        if (a.shape.length == 0 && b.shape.length > 0 && x.isFloatingPoint() == y.isFloatingPoint()) {
            return y;
        }
        if (b.shape.length == 0 && a.shape.length > 0 && x.isFloatingPoint() == y.isFloatingPoint()) {
            return x;
        }
        return DType.promote(x, y);
    }

    private Tensor scalarLike(double v) {
        DType dt = dtype();
        if (dt == DType.INT64 && v != Math.rint(v)) {
            dt = DType.FLOAT32;
        }
        return scalar(dt, v);
    }

    /** The unary kernel {@code op} (an INT64 tensor converted to FLOAT32 first if op needs floats), recorded. */
    private Tensor unary(String op, ElementwiseOp kind, double p, double q, Tensor[] saved, Node.Backward backward) {
        Tensor x = dtype().isFloatingPoint() || kind.takesInt64() ? this : to(DType.FLOAT32);
        Tensor out = derive(op, x.map(kind, p, q), in(x), saved, backward);
        if (Trace.isTracing() && kind == ElementwiseOp.POW) {
            Trace.amend(out, null, "exponent", p);
        } else if (Trace.isTracing() && kind == ElementwiseOp.CLAMP) {
            Trace.amend(out, null, "min", p, "max", q);
        }
        return out;
    }

    /** The unary kernel {@code op}, not recorded. */
    private Tensor map(ElementwiseOp op, double p, double q) {
        return over(backend().unary(op, asView(), p, q), shape);
    }

    /** The binary kernel {@code op} of a and b (one dtype), broadcast, not recorded. */
    private static Tensor map(ElementwiseOp op, Tensor a, Tensor b) {
        int[] s = Shapes.broadcast(op.label(), a.shape, b.shape);
        if (s != a.shape) {
            fits(s);
        }
        return over(a.backend().binary(op, a.asView(), b.asView(), s), s);
    }

    private Tensor floatSelf() {
        return dtype().isFloatingPoint() ? this : to(DType.FLOAT32);
    }

    /** -x. */
    public Tensor neg() {
        return unary("neg", ElementwiseOp.NEG, 0, 0, NONE, dOut -> in(dOut.neg()));
    }

    /** this + other, broadcasting. */
    public Tensor add(Tensor other) {
        DType dt = resultType(this, other);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        return derive("add", map(ElementwiseOp.ADD, a, b), in(a, b), NONE, dOut -> in(dOut, dOut));
    }

    /** this + value. */
    public Tensor add(double value) {
        return add(scalarLike(value));
    }

    /** this - other, broadcasting. */
    public Tensor sub(Tensor other) {
        DType dt = resultType(this, other);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        return derive("sub", map(ElementwiseOp.SUB, a, b), in(a, b), NONE,
                dOut -> in(dOut, b.requiresGrad ? dOut.neg() : null));
    }

    /** this - value. */
    public Tensor sub(double value) {
        return sub(scalarLike(value));
    }

    /** this * other elementwise, broadcasting. */
    public Tensor mul(Tensor other) {
        DType dt = resultType(this, other);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        return derive("mul", map(ElementwiseOp.MUL, a, b), in(a, b), in(a, b),
                dOut -> in(a.requiresGrad ? dOut.mul(b) : null, b.requiresGrad ? dOut.mul(a) : null));
    }

    /** this * value. */
    public Tensor mul(double value) {
        return mul(scalarLike(value));
    }

    /** this / other elementwise (true division: integer operands give FLOAT32), broadcasting. */
    public Tensor div(Tensor other) {
        DType dt = resultType(this, other);
        if (dt == DType.INT64) {
            dt = DType.FLOAT32;
        }
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        return derive("div", map(ElementwiseOp.DIV, a, b), in(a, b), in(a, b),
                dOut -> in(a.requiresGrad ? dOut.div(b) : null,
                        b.requiresGrad ? dOut.neg().mul(a).div(b.mul(b)) : null));
    }

    /** this / value. */
    public Tensor div(double value) {
        return div(scalarLike(value));
    }

    /**
     * atan2(this, other) elementwise, broadcasting: the angle of the point (other, this), in
     * [−π, π] (PyTorch's {@code atan2}; integer operands give FLOAT32). The gradient is
     * (other, −this) / (this² + other²).
     */
    public Tensor atan2(Tensor other) {
        DType dt = resultType(this, other) == DType.INT64 ? DType.FLOAT32 : resultType(this, other);
        Tensor y = to(dt);
        Tensor x = other.to(dt);
        return derive("atan2", map(ElementwiseOp.ATAN2, y, x), in(y, x), in(y, x), dOut -> {
            Tensor r2 = x.square().add(y.square());
            return in(y.requiresGrad ? dOut.mul(x).div(r2) : null, x.requiresGrad ? dOut.mul(y).neg().div(r2) : null);
        });
    }

    /** x^exponent elementwise for a scalar exponent. */
    public Tensor pow(double exponent) {
        if (exponent == 1) {
            return mul(1.0);
        }
        Tensor x = floatSelf();
        return x.unary("pow", ElementwiseOp.POW, exponent, 0, in(x), dOut -> in(exponent == 0
                ? zerosLike(dOut)
                : dOut.mul(x.pow(exponent - 1)).mul(exponent)));
    }

    /** x² elementwise. */
    public Tensor square() {
        return mul(this);
    }

    /** e^x. */
    public Tensor exp() {
        Tensor[] out = new Tensor[1];
        out[0] = floatSelf().unary("exp", ElementwiseOp.EXP, 0, 0, NONE, dOut -> in(dOut.mul(out[0])));
        saveOutput(out[0]);
        return out[0];
    }

    /** Natural logarithm. */
    public Tensor log() {
        Tensor x = floatSelf();
        return x.unary("log", ElementwiseOp.LOG, 0, 0, in(x), dOut -> in(dOut.div(x)));
    }

    /** ln(1 + x), accurate for small x. */
    public Tensor log1p() {
        Tensor x = floatSelf();
        return x.unary("log1p", ElementwiseOp.LOG1P, 0, 0, in(x), dOut -> in(dOut.div(x.add(1.0))));
    }

    /** Square root. */
    public Tensor sqrt() {
        Tensor[] out = new Tensor[1];
        out[0] = floatSelf().unary("sqrt", ElementwiseOp.SQRT, 0, 0, NONE, dOut -> in(dOut.div(out[0].mul(2.0))));
        saveOutput(out[0]);
        return out[0];
    }

    /** 1 / x. */
    public Tensor reciprocal() {
        Tensor[] out = new Tensor[1];
        out[0] = floatSelf().unary("reciprocal", ElementwiseOp.RECIPROCAL, 0, 0, NONE,
                dOut -> in(dOut.neg().mul(out[0].mul(out[0]))));
        saveOutput(out[0]);
        return out[0];
    }

    /** |x|; the gradient at 0 is 0. */
    public Tensor abs() {
        return unary("abs", ElementwiseOp.ABS, 0, 0, in(this), dOut -> in(dOut.mul(sign())));
    }

    /** -1, 0 or 1 by the sign of x (no gradient: its derivative is 0 almost everywhere). */
    public Tensor sign() {
        Tensor out = map(ElementwiseOp.SIGN, 0, 0);
        if (Trace.isTracing()) {
            Trace.record("sign", in(this), out);
        }
        return out;
    }

    /** Hyperbolic tangent. */
    public Tensor tanh() {
        Tensor[] out = new Tensor[1];
        out[0] = floatSelf().unary("tanh", ElementwiseOp.TANH, 0, 0, NONE,
                dOut -> in(activationBackward(true, dOut, out[0])));
        saveOutput(out[0]);
        return out[0];
    }

    /** 1 / (1 + e^-x), computed without overflow for any x. */
    public Tensor sigmoid() {
        Tensor[] out = new Tensor[1];
        out[0] = floatSelf().unary("sigmoid", ElementwiseOp.SIGMOID, 0, 0, NONE,
                dOut -> in(activationBackward(false, dOut, out[0])));
        saveOutput(out[0]);
        return out[0];
    }

    /**
     * sigmoid's backward dOut·y·(1 − y) or tanh's dOut·(1 − y²) from the forward's output y, one
     * pass; itself differentiable in both (grad of grad): with g its output's gradient, dOut gets
     * this same op of g, and y gets g·dOut·(1 − 2y) or −2·g·dOut·y.
     */
    private static Tensor activationBackward(boolean tanh, Tensor dOut, Tensor y) {
        Tensor d = dOut.dtype() == y.dtype() ? dOut : dOut.to(y.dtype());
        return derive(tanh ? "tanhBackward" : "sigmoidBackward",
                map(tanh ? ElementwiseOp.TANH_BACKWARD : ElementwiseOp.SIGMOID_BACKWARD, d, y),
                in(d, y), in(d, y), g -> in(activationBackward(tanh, g, y),
                        tanh ? g.mul(d).mul(y).mul(-2.0) : g.mul(d).mul(y.mul(-2.0).add(1.0))));
    }

    /** max(x, 0); the gradient at 0 is 0 (the subgradient PyTorch picks). */
    public Tensor relu() {
        return unary("relu", ElementwiseOp.RELU, 0, 0, in(this), dOut -> in(reluBackward(dOut, this)));
    }

    /** dOut where x > 0 or x is NaN, else 0 (PyTorch's threshold_backward): relu's backward fused into one pass, itself differentiable in dOut. */
    private static Tensor reluBackward(Tensor dOut, Tensor x) {
        Tensor mask = x.dtype() == dOut.dtype() ? x : x.to(dOut.dtype()).detach();
        return derive("reluBackward", map(ElementwiseOp.RELU_BACKWARD, dOut, mask), in(dOut), in(x),
                g -> in(reluBackward(g, x)));
    }

    /** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (accurate to about 1e-15). */
    public Tensor erf() {
        Tensor x = floatSelf();
        return x.unary("erf", ElementwiseOp.ERF, 0, 0, in(x),
                dOut -> in(dOut.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))));
    }

    /** Sine. */
    public Tensor sin() {
        Tensor x = floatSelf();
        return x.unary("sin", ElementwiseOp.SIN, 0, 0, in(x), dOut -> in(dOut.mul(x.cos())));
    }

    /** Cosine. */
    public Tensor cos() {
        Tensor x = floatSelf();
        return x.unary("cos", ElementwiseOp.COS, 0, 0, in(x), dOut -> in(dOut.mul(x.sin()).neg()));
    }

    /** min(max(x, min), max); the gradient passes where {@code min <= x <= max}. Use ±infinity for a one-sided clamp. */
    public Tensor clamp(double min, double max) {
        checkArgument(!(min > max), "clamp: min %s is above max %s", min, max);
        return unary("clamp", ElementwiseOp.CLAMP, min, max, in(this), dOut -> in(dOut.mul(ge(min).mul(le(max)))));
    }

    /** Elementwise maximum, broadcasting; on ties each side gets half the gradient. */
    public Tensor maximum(Tensor other) {
        return extremum("maximum", ElementwiseOp.MAXIMUM, other);
    }

    /** Elementwise minimum, broadcasting; on ties each side gets half the gradient. */
    public Tensor minimum(Tensor other) {
        return extremum("minimum", ElementwiseOp.MINIMUM, other);
    }

    private Tensor extremum(String op, ElementwiseOp kind, Tensor other) {
        DType dt = resultType(this, other);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        return derive(op, map(kind, a, b), in(a, b), in(a, b), dOut -> {
            Tensor wins = (kind == ElementwiseOp.MAXIMUM ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
            return in(dOut.mul(wins), dOut.mul(wins.neg().add(1.0)));
        });
    }

    /** Makes an op's saved output part of its version check (for ops whose backward reads their result). */
    private static void saveOutput(Tensor out) {
        if (out.gradFn != null) {
            Node n = out.gradFn;
            n.saved = in(out);
            n.savedVersions = new int[] {out.storage.version()};
        }
    }

    // =================================================================== comparisons (no gradient)

    private Tensor compare(ElementwiseOp kind, Tensor other) {
        DType dt = resultType(this, other);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        Tensor out = map(kind, a, b);
        if (Trace.isTracing()) {
            Trace.record(kind.label(), in(a, b), out);
        }
        return out;
    }

    /** 1 where this > other, else 0, in the operands' common dtype (no gradient). */
    public Tensor gt(Tensor other) {
        return compare(ElementwiseOp.GT, other);
    }

    /** 1 where this > value, else 0. */
    public Tensor gt(double value) {
        return gt(scalarLike(value));
    }

    /** 1 where this >= other, else 0. */
    public Tensor ge(Tensor other) {
        return compare(ElementwiseOp.GE, other);
    }

    /** 1 where this >= value, else 0. */
    public Tensor ge(double value) {
        return ge(scalarLike(value));
    }

    /** 1 where {@code this < other}, else 0. */
    public Tensor lt(Tensor other) {
        return compare(ElementwiseOp.LT, other);
    }

    /** 1 where {@code this < value}, else 0. */
    public Tensor lt(double value) {
        return lt(scalarLike(value));
    }

    /** 1 where {@code this <= other}, else 0. */
    public Tensor le(Tensor other) {
        return compare(ElementwiseOp.LE, other);
    }

    /** 1 where {@code this <= value}, else 0. */
    public Tensor le(double value) {
        return le(scalarLike(value));
    }

    /** 1 where this == other, else 0. */
    public Tensor eq(Tensor other) {
        return compare(ElementwiseOp.EQ, other);
    }

    /** 1 where this == value, else 0. */
    public Tensor eq(double value) {
        return eq(scalarLike(value));
    }

    /** 1 where this != other, else 0. */
    public Tensor ne(Tensor other) {
        return compare(ElementwiseOp.NE, other);
    }

    /** 1 where the element is neither NaN nor infinite, else 0 (this tensor's dtype). */
    public Tensor isFinite() {
        Tensor out = map(ElementwiseOp.IS_FINITE, 0, 0);
        if (Trace.isTracing()) {
            Trace.record("isFinite", in(this), out);
        }
        return out;
    }

    /** True if no element is NaN or infinite. */
    public boolean allFinite() {
        return backend().allFinite(asView());
    }

    /**
     * cond != 0 ? a : b elementwise, broadcasting all three; differentiable in a and b
     * ({@code cond} may have any dtype).
     */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        DType dt = resultType(a, b);
        Tensor x = a.to(dt);
        Tensor y = b.to(dt);
        Tensor c = cond.outsideGraph();
        int[] s = fits(Shapes.broadcast("where", Shapes.broadcast("where", c.shape, x.shape), y.shape));
        Tensor out = over(x.backend().where(c.asView(), x.asView(), y.asView(), s), s);
        out = derive("where", out, in(x, y), NONE, dOut -> {
            Tensor zero = scalar(dOut.dtype(), 0);
            return in(x.requiresGrad ? where(c, dOut, zero) : null, y.requiresGrad ? where(c, zero, dOut) : null);
        });
        if (Trace.isTracing()) {
            Trace.amend(out, in(cond, x, y));
        }
        return out;
    }

    /**
     * This tensor with {@code value} where {@code mask} is non-zero (PyTorch's {@code masked_fill});
     * the mask broadcasts to this tensor's shape and may have any dtype. The gradient is zero at
     * the filled positions ({@code -infinity} there is how attention scores are masked).
     */
    public Tensor maskedFill(Tensor mask, double value) {
        int[] b = Shapes.broadcast("maskedFill", mask.shape, shape);
        if (!Arrays.equals(b, shape)) {
            throw new ShapeException("maskedFill: mask " + Shapes.str(mask.shape) + " does not broadcast to the tensor's "
                    + Shapes.str(shape));
        }
        return where(mask, scalar(dtype(), value), this);
    }

    /**
     * Running sums along {@code dim}, like {@code torch.cumsum}: out[..., i, ...] is the sum of
     * this tensor's elements 0..i along {@code dim}. Differentiable (the gradient is the reversed
     * running sum of the upstream gradient).
     */
    public Tensor cumsum(int dim) {
        if (shape.length == 0) {
            Shapes.dim("cumsum", dim, 0);
            return mul(1.0);
        }
        int d = Shapes.dim("cumsum", dim, shape.length);
        Tensor out = over(backend().cumsum(asView(), d, false), shape);
        // dIn[i] = sum over j >= i of dOut[j]: the running sum from the end
        Tensor r = derive("cumsum", out, in(this), NONE, dOut -> in(dOut.cumsumFromEnd(d)));
        if (Trace.isTracing()) {
            Trace.amend(r, in(this), "dim", d);
        }
        return r;
    }

    /** Running sums from the end along {@code d} (cumsum's adjoint; its own adjoint is cumsum). */
    private Tensor cumsumFromEnd(int d) {
        return derive("cumsumFromEnd", over(backend().cumsum(asView(), d, true), shape), in(this), NONE,
                dOut -> in(dOut.cumsum(d)));
    }

    /**
     * This tensor repeated {@code times[i]} times along each dim, like {@code torch.Tensor.repeat}:
     * {@code times} has at least this tensor's rank (extra leading entries add leading dims).
     */
    public Tensor repeat(int... times) {
        if (times.length < shape.length) {
            throw new IllegalArgumentException("repeat: " + times.length + " repeat counts for a tensor of rank "
                    + shape.length + "; give at least one per dim");
        }
        for (int t : times) {
            if (t < 0) {
                throw new IllegalArgumentException("repeat: counts must be >= 0, got " + Arrays.toString(times));
            }
        }
        int lead = times.length - shape.length;
        int[] padded = new int[times.length];
        Arrays.fill(padded, 1);
        System.arraycopy(shape, 0, padded, lead, shape.length);
        int[] interleaved = new int[2 * times.length]; // [1, s0, 1, s1, ...] expanded to [t0, s0, t1, s1, ...]
        int[] expanded = new int[2 * times.length];
        int[] result = new int[times.length];
        for (int i = 0; i < times.length; i++) {
            interleaved[2 * i] = 1;
            interleaved[2 * i + 1] = padded[i];
            expanded[2 * i] = times[i];
            expanded[2 * i + 1] = padded[i];
            result[i] = times[i] * padded[i];
        }
        return reshape(interleaved).expand(expanded).reshape(result);
    }

    /**
     * Einstein summation, like {@code torch.einsum}: {@code einsum("ij,jk->ik", a, b)} is a
     * product, {@code "bij,bjk->bik"} a batched one, {@code "i,i->"} a dot product,
     * {@code "i,j->ij"} an outer product, {@code "ij->ji"} a transpose, {@code "ij->j"} a sum.
     * Without {@code ->} the output is the indices that appear once, in alphabetical order. An
     * index may not repeat within one operand (no diagonals); sizes must match exactly (no
     * broadcasting). Differentiable to any order (built from sum, permute, reshape and matmul).
     */
    public static Tensor einsum(String equation, Tensor... operands) {
        return Einsum.of(equation, operands);
    }

    /**
     * The vector p-norm of all elements, like {@code torch.linalg.vector_norm}: p = 2 by default
     * in {@link #norm()}, any p > 0, and {@code Double.POSITIVE_INFINITY} for the largest |x|.
     */
    public Tensor norm(double p) {
        return norm(p, null, false);
    }

    /** The 2-norm of all elements. */
    public Tensor norm() {
        return norm(2);
    }

    /**
     * The p-norm over {@code dims} (all dims when null or empty), keeping them as size 1 when
     * {@code keepDim}. As in PyTorch, the gradient is 0 where the norm is 0, and the infinity
     * norm's gradient is shared between tied largest elements.
     */
    public Tensor norm(double p, int[] dims, boolean keepDim) {
        if (!(p > 0)) {
            throw new IllegalArgumentException("norm: p must be > 0 (or infinite), got " + p);
        }
        if (dtype() == DType.INT64) {
            throw new IllegalArgumentException("norm: needs a floating-point tensor, got int64 (convert it with "
                    + "to(DType.FLOAT64))");
        }
        int[] ds;
        if (dims == null || dims.length == 0) {
            ds = new int[shape.length];
            for (int i = 0; i < ds.length; i++) {
                ds[i] = i;
            }
        } else {
            ds = normalizeDims("norm", dims);
        }
        if (shape.length == 0) {
            return abs(); // its gradient, sign(x), is 0 at 0 as PyTorch's
        }
        int[] kept = shape.clone();
        int[] reduced = new int[shape.length - ds.length];
        for (int d : ds) {
            kept[d] = 1;
        }
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (Arrays.binarySearch(ds, i) < 0) {
                reduced[j++] = shape[i];
            }
        }
        Tensor nk; // the norm with the reduced dims kept as size 1
        try (var g = Autograd.noGrad()) {
            nk = detach().normKept(p, ds);
        }
        Tensor out = keepDim ? nk : nk.reshape(reduced);
        return derive("norm", out.contiguousNoGrad(), in(this), NONE, dOut -> {
            Tensor gk = dOut.reshape(kept);
            Tensor n = Autograd.isGradEnabled() ? normKept(p, ds) : nk; // differentiable again for grad of grad
            Tensor safe = where(n.eq(0), scalar(n.dtype(), 1), n); // where the norm is 0, so is every x: gradient 0
            Tensor sgn = this.sign();
            Tensor grad;
            if (Double.isInfinite(p)) {
                Tensor at = this.abs().eq(n).to(dtype());
                grad = sgn.mul(at).div(at.sum(ds, true)).mul(gk);
            } else if (p == 1) {
                grad = sgn.mul(gk);
            } else if (p == 2) {
                grad = this.mul(gk).div(safe);
            } else {
                grad = sgn.mul(this.abs().pow(p - 1)).mul(gk).div(safe.pow(p - 1));
            }
            return in(grad);
        });
    }

    /** The p-norm over the sorted, distinct dims {@code ds}, kept as size 1, from tensor ops. */
    private Tensor normKept(double p, int[] ds) {
        Tensor a = abs();
        if (Double.isInfinite(p)) {
            for (int d : ds) {
                a = a.max(d, true).values();
            }
            return a;
        }
        if (p == 1) {
            return a.sum(ds, true);
        }
        if (p == 2) {
            return a.square().sum(ds, true).sqrt();
        }
        return a.pow(p).sum(ds, true).pow(1 / p);
    }

    /**
     * The values of every slice along {@code dim} in order, with the indices that sort them,
     * like {@code torch.sort(stable=True)}: equal values keep their order, NaN sorts as the
     * largest. The values are differentiable (a gather of this tensor).
     */
    public ValuesIndices sort(int dim, boolean descending) {
        Tensor idx = argsort(dim, descending);
        return new ValuesIndices(shape.length == 0 ? mul(1.0) : gather(Shapes.dim("sort", dim, shape.length), idx), idx);
    }

    /** The indices that sort every slice along {@code dim} (INT64); see {@link #sort}. */
    public Tensor argsort(int dim, boolean descending) {
        if (shape.length == 0) {
            Shapes.dim("argsort", dim, 0);
            return zeros(DType.INT64);
        }
        int d = Shapes.dim("argsort", dim, shape.length);
        Tensor out = over(backend().argsort(asView(), d, descending), shape);
        if (Trace.isTracing()) {
            Trace.record("argsort", in(this), out, "dim", d, "descending", descending);
        }
        return out;
    }

    /**
     * The {@code k} largest (or smallest) values along {@code dim}, in order, with their indices,
     * like {@code torch.topk(sorted=True)}; ties go to the lower index.
     */
    public ValuesIndices topk(int k, int dim, boolean largest) {
        int d = Shapes.dim("topk", dim, shape.length);
        int n = shape.length == 0 ? 1 : shape[d];
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topk: k = " + k + " is outside [0, " + n + "] (the size of dim " + d + ")");
        }
        if (shape.length == 0) {
            return new ValuesIndices(mul(1.0), zeros(DType.INT64));
        }
        Tensor idx = argsort(d, largest).narrow(d, 0, k).contiguous();
        return new ValuesIndices(gather(d, idx), idx);
    }

    /**
     * {@code steps} evenly spaced FLOAT32 values from {@code start} to {@code end} inclusive, like
     * {@code torch.linspace}.
     */
    public static Tensor linspace(double start, double end, int steps) {
        return linspace(DType.FLOAT32, start, end, steps);
    }

    /** {@link #linspace(double, double, int)} in {@code dtype}, with PyTorch's formula (symmetric about the middle). */
    public static Tensor linspace(DType dtype, double start, double end, int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("linspace: steps must be >= 0, got " + steps);
        }
        if (!Double.isFinite(start) || !Double.isFinite(end)) {
            throw new IllegalArgumentException("linspace: start and end must be finite, got " + start + ", " + end);
        }
        double[] v = new double[steps];
        double step = steps > 1 ? (end - start) / (steps - 1) : 0;
        int half = steps / 2;
        for (int i = 0; i < steps; i++) {
            v[i] = i < half || steps == 1 ? start + step * i : end - step * (steps - 1 - i);
        }
        return of(dtype, v, steps);
    }

    // =================================================================== reductions

    /** Sum of all elements, as a 0-d tensor. */
    public Tensor sum() {
        int[] all = new int[shape.length];
        for (int d = 0; d < all.length; d++) {
            all[d] = d;
        }
        return sumOver(all, false);
    }

    /** Sum over {@code dim} (which is removed). */
    public Tensor sum(int dim) {
        return sum(dim, false);
    }

    /** Sum over {@code dim}, kept as size 1 when {@code keepDim}. */
    public Tensor sum(int dim, boolean keepDim) {
        if (shape.length == 0) {
            Shapes.dim("sum", dim, 0);
            return mul(1.0);
        }
        return sumOver(new int[] {Shapes.dim("sum", dim, shape.length)}, keepDim);
    }

    /** Sum over several dims at once (one pass). */
    public Tensor sum(int[] dims, boolean keepDim) {
        int[] ds = normalizeDims("sum", dims);
        return shape.length == 0 ? mul(1.0) : sumOver(ds, keepDim);
    }

    /** The sum over the distinct, ascending dims {@code ds}; its gradient is dOut broadcast back. */
    private Tensor sumOver(int[] ds, boolean keepDim) {
        int[] kept = shape.clone();
        for (int d : ds) {
            kept[d] = 1;
        }
        int[] reduced = new int[shape.length - ds.length];
        for (int i = 0, j = 0, k = 0; i < shape.length; i++) {
            if (k < ds.length && ds[k] == i) {
                k++;
            } else {
                reduced[j++] = shape[i];
            }
        }
        int[] s = shape;
        Tensor out = derive("sum", over(backend().sum(asView(), ds), reduced), in(this), NONE,
                dOut -> in(dOut.reshape(kept).expand(s)));
        if (Trace.isTracing() && ds.length == 1) {
            Trace.amend(out, null, "dim", ds[0]);
        } else if (Trace.isTracing() && ds.length < shape.length) {
            Trace.amend(out, null, "dims", ds);
        }
        for (int i = 0; keepDim && i < ds.length; i++) {
            out = out.unsqueeze(ds[i]);
        }
        return out;
    }

    private int[] normalizeDims(String op, int[] dims) {
        int[] ds = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            ds[i] = Shapes.dim(op, dims[i], shape.length);
        }
        Arrays.sort(ds);
        for (int i = 1; i < ds.length; i++) {
            if (ds[i] == ds[i - 1]) { // not checkArgument: its message arguments would be built on every pass
                throw new IllegalArgumentException(op + ": dim " + ds[i] + " appears twice in " + Arrays.toString(dims));
            }
        }
        return ds;
    }

    /** Mean of all elements (integer tensors give FLOAT32). */
    public Tensor mean() {
        return floatSelf().sum().div(numel);
    }

    /** Mean over {@code dim}. */
    public Tensor mean(int dim) {
        return mean(dim, false);
    }

    /** Mean over {@code dim}, kept as size 1 when {@code keepDim}. */
    public Tensor mean(int dim, boolean keepDim) {
        int n = shape.length == 0 ? 1 : size(dim);
        return floatSelf().sum(dim, keepDim).div(n);
    }

    /** Mean over several dims. */
    public Tensor mean(int[] dims, boolean keepDim) {
        int n = 1;
        for (int d : normalizeDims("mean", dims)) {
            n *= shape[d];
        }
        return floatSelf().sum(dims, keepDim).div(n);
    }

    /** Variance of all elements, unbiased (divides by n - 1) like PyTorch. */
    public Tensor var() {
        Tensor x = floatSelf();
        Tensor centered = x.sub(x.mean());
        return centered.mul(centered).sum().div(numel - 1);
    }

    /** Unbiased variance over {@code dim}. */
    public Tensor var(int dim) {
        return var(dim, true, false);
    }

    /** Variance over {@code dim}: divides by n - 1 when {@code unbiased}, else by n. */
    public Tensor var(int dim, boolean unbiased, boolean keepDim) {
        Tensor x = floatSelf();
        int n = shape.length == 0 ? 1 : size(dim);
        Tensor centered = x.sub(x.mean(dim, true));
        return centered.mul(centered).sum(dim, keepDim).div(unbiased ? n - 1 : n);
    }

    /** Standard deviation over {@code dim} (square root of {@link #var(int, boolean, boolean)}). */
    public Tensor std(int dim, boolean unbiased, boolean keepDim) {
        return var(dim, unbiased, keepDim).sqrt();
    }

    /** Result of {@link #max(int, boolean)} and {@link #min(int, boolean)}: values and their INT64 indices. */
    public record ValuesIndices(Tensor values, Tensor indices) {}

    /** Largest element, as a 0-d tensor; the gradient goes to the first largest element. */
    public Tensor max() {
        checkArgument(numel > 0, "max: the tensor is empty; specify a dim");
        return reshape(-1).max(0, false).values();
    }

    /** Smallest element, as a 0-d tensor; the gradient goes to the first smallest element. */
    public Tensor min() {
        checkArgument(numel > 0, "min: the tensor is empty; specify a dim");
        return reshape(-1).min(0, false).values();
    }

    /** Max over {@code dim}: values and the index of the first maximum; NaN counts as the largest. */
    public ValuesIndices max(int dim, boolean keepDim) {
        return extreme("max", dim, keepDim, true);
    }

    /** Min over {@code dim}: values and the index of the first minimum; NaN counts as the smallest. */
    public ValuesIndices min(int dim, boolean keepDim) {
        return extreme("min", dim, keepDim, false);
    }

    private ValuesIndices extreme(String op, int dim, boolean keepDim, boolean max) {
        if (shape.length == 0) {
            Shapes.dim(op, dim, 0);
            return new ValuesIndices(mul(1.0), zeros(DType.INT64));
        }
        int d = Shapes.dim(op, dim, shape.length);
        if (shape[d] == 0) {
            throw new IllegalArgumentException(op + ": dim " + dim + " of shape " + Shapes.str(shape) + " is empty");
        }
        Storage[] kv = backend().extreme(asView(), d, max);
        int[] rs = Shapes.copyWithout(shape, d);
        Tensor[] vi = {over(kv[0], rs), over(kv[1], rs)};
        int[] s = shape;
        Tensor indices = vi[1];
        Tensor values = derive(op, vi[0], in(this), NONE,
                dOut -> in(zeros(dOut.dtype(), s).scatterAdd(d, indices.unsqueeze(d), dOut.unsqueeze(d))));
        if (Trace.isTracing()) {
            Trace.amend(values, null, "dim", d);
            Trace.record(max ? "argmax" : "argmin", in(this), vi[1], "dim", d);
        }
        return keepDim ? new ValuesIndices(values.unsqueeze(d), indices.unsqueeze(d)) : new ValuesIndices(values, indices);
    }

    /** Index of the largest element of the flattened tensor (0-d INT64). */
    public Tensor argmax() {
        return reshape(-1).argmax(0, false);
    }

    /** Indices of the largest elements along {@code dim} (INT64). */
    public Tensor argmax(int dim) {
        return argmax(dim, false);
    }

    /** Indices of the largest elements along {@code dim}, kept as size 1 when {@code keepDim}. */
    public Tensor argmax(int dim, boolean keepDim) {
        try (var s = Autograd.noGrad()) {
            return max(dim, keepDim).indices();
        }
    }

    /** Indices of the smallest elements along {@code dim} (INT64). */
    public Tensor argmin(int dim) {
        try (var s = Autograd.noGrad()) {
            return min(dim, false).indices();
        }
    }

    /** log(sum(exp(x))) over {@code dim}, stable for any magnitude (shifted by the max). */
    public Tensor logsumexp(int dim) {
        return logsumexp(dim, false);
    }

    /** log(sum(exp(x))) over {@code dim}, kept as size 1 when {@code keepDim}; an all -inf slice gives -inf. */
    public Tensor logsumexp(int dim, boolean keepDim) {
        Tensor x = floatSelf();
        Tensor shift;
        try (var s = Autograd.noGrad()) {
            Tensor m = x.max(dim, true).values();
            shift = where(m.isFinite(), m, scalar(m.dtype(), 0)); // an infinite max would make inf - inf = NaN
        }
        Tensor r = x.sub(shift).exp().sum(dim, true).log().add(shift);
        return keepDim ? r : r.squeeze(Shapes.dim("logsumexp", dim, shape.length));
    }

    /**
     * softmax over {@code dim}: exp(x - max) / sum(exp(x - max)); any magnitude is safe and
     * shifting all logits by a constant changes nothing. A row of all -inf gives NaN, as in PyTorch.
     */
    public Tensor softmax(int dim) {
        Tensor x = floatSelf();
        if (x.shape.length == 0) {
            return x.reshape(1).softmax(0).reshape();
        }
        int d = Shapes.dim("softmax", dim, shape.length);
        Tensor[] out = new Tensor[1];
        out[0] = derive("softmax", over(x.backend().softmax(x.asView(), d, false), x.shape), in(x), NONE,
                dOut -> in(out[0].mul(dOut.sub(dOut.mul(out[0]).sum(d, true)))));
        saveOutput(out[0]);
        if (Trace.isTracing()) {
            Trace.amend(out[0], null, "dim", d);
        }
        return out[0];
    }

    /** log(softmax(x)) over {@code dim}, computed directly (x - max - log(sum(exp(x - max)))) so it stays finite. */
    public Tensor logSoftmax(int dim) {
        Tensor x = floatSelf();
        if (x.shape.length == 0) {
            return x.reshape(1).logSoftmax(0).reshape();
        }
        int d = Shapes.dim("logSoftmax", dim, shape.length);
        Tensor[] out = new Tensor[1];
        out[0] = derive("logSoftmax", over(x.backend().softmax(x.asView(), d, true), x.shape), in(x), NONE,
                dOut -> in(dOut.sub(out[0].exp().mul(dOut.sum(d, true)))));
        saveOutput(out[0]);
        if (Trace.isTracing()) {
            Trace.amend(out[0], null, "dim", d);
        }
        return out[0];
    }

    /**
     * Sums broadcast dims away so the result has {@code target} shape (which must broadcast to
     * this one's): the reverse of {@link #expand}, like PyTorch's {@code sum_to_size}.
     */
    public Tensor sumTo(int... target) {
        if (Arrays.equals(shape, target)) {
            return this;
        }
        int lead = shape.length - target.length;
        if (lead < 0 || !Arrays.equals(Shapes.broadcast("sumTo", target, shape), shape)) {
            throw new ShapeException("sumTo: shape " + Shapes.str(shape) + " cannot be summed to " + Shapes.str(target));
        }
        int[] dims = new int[shape.length];
        int n = 0;
        for (int d = 0; d < shape.length; d++) {
            if (d < lead || target[d - lead] == 1 && shape[d] != 1) {
                dims[n++] = d;
            }
        }
        return sumOver(Arrays.copyOf(dims, n), false).reshape(target); // one pass (a bias's gradient over [B, T, F])
    }

    // =================================================================== matmul

    /**
     * Matrix product with PyTorch's rules: 1-D · 1-D is a dot product; a 1-D operand gains and
     * then loses a dim; N-D operands are batches of matrices with broadcast batch dims.
     */
    public Tensor matmul(Tensor other) {
        if (shape.length == 0 || other.shape.length == 0) {
            throw new ShapeException("matmul: both operands need at least 1 dim, got " + Shapes.str(shape)
                    + " @ " + Shapes.str(other.shape));
        }
        if (size(-1) != other.size(other.shape.length == 1 ? -1 : -2)) {
            throw new ShapeException("matmul: inner dimensions differ: " + Shapes.str(shape) + " @ "
                    + Shapes.str(other.shape));
        }
        if (shape.length == 1 && other.shape.length == 1) {
            return mul(other).sum();
        }
        if (shape.length == 1) {
            return unsqueeze(0).matmul(other).squeeze(-2);
        }
        if (other.shape.length == 1) {
            return matmul(other.unsqueeze(-1)).squeeze(-1);
        }
        if (shape.length > 2 && other.shape.length == 2) {
            // [..., n, m] @ [m, p] is one product of the rows stacked, as PyTorch folds it: one
            // large gemm, and the matrix's gradient one product over all rows, where a broadcast
            // batch would compute one per batch entry and then sum them
            int[] outShape = shape.clone();
            outShape[outShape.length - 1] = other.shape[1];
            return reshape(-1, shape[shape.length - 1]).matmul(other).reshape(outShape);
        }
        DType dt = resultType(this, other);
        checkArgument(dt.isFloatingPoint(), "matmul: %s operands are not supported; convert with to(FLOAT32)", dt);
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        // dA = dOut · Bᵀ and dB = Aᵀ · dOut, each computed in its operand's own layout: for a
        // transposed view (a linear layer's Wᵀ) the gradient comes out as a transposed view of a
        // contiguous product, so it reaches the weight's gradient contiguous instead of being
        // transposed element by element on the way
        boolean matrices = a.shape.length == 2 && b.shape.length == 2;
        int[] outShape = productShape(a.shape, b.shape);
        Tensor product = over(a.backend().matmul(a.asView(), b.asView(), fits(outShape)), outShape);
        Tensor out = derive("matmul", product, in(a, b), in(a, b), dOut -> in(
                !a.requiresGrad ? null : matmulGradA(a, b, dOut, matrices),
                !b.requiresGrad ? null : matmulGradB(a, b, dOut, matrices)));
        if (matrices && out.gradFn != null) {
            out.gradFn.product = true;
        }
        return out;
    }

    /**
     * {@link #matmul(Tensor)} written into {@code out}, PyTorch's {@code torch.matmul(a, b, out=c)}:
     * the product's memory is reused from call to call instead of allocated (and zeroed) anew. Both
     * operands need at least 2 dims (batch dims broadcast as in {@link #matmul(Tensor)}); {@code out}
     * must have the product's shape and dtype, and must not be a view of either operand's memory (nor
     * a {@code wrapArray} tensor over an operand's array: {@link Storage#sharesMemoryWith}). Like
     * PyTorch's {@code out=} forms, it does not record a gradient: the operands may not require
     * one unless gradients are off ({@link Autograd#noGrad}), and {@code out} is changed in place
     * (its version counter moves, so a graph that saved it notices). The values are those
     * {@link #matmul(Tensor)} gives, bit for bit.
     *
     * @return {@code out}
     * @throws ShapeException when an operand has fewer than 2 dims, the inner dimensions differ, the
     *     batch dims do not broadcast, or {@code out}'s shape is not the product's
     * @throws IllegalArgumentException when {@code out}'s dtype is not the product's, or it shares
     *     memory with an operand, or an operand requires grad with gradients on
     * @throws IllegalStateException when {@code out} requires grad with gradients on
     */
    public Tensor matmul(Tensor other, Tensor out) {
        if (shape.length < 2 || other.shape.length < 2) {
            throw new ShapeException("matmul(out): both operands need at least 2 dims, got " + Shapes.str(shape)
                    + " @ " + Shapes.str(other.shape) + "; use matmul(other) for vectors");
        }
        if (size(-1) != other.size(-2)) {
            throw new ShapeException("matmul(out): inner dimensions differ: " + Shapes.str(shape) + " @ "
                    + Shapes.str(other.shape));
        }
        checkArgument(!(Autograd.isGradEnabled() && (requiresGrad || other.requiresGrad)),
                "matmul(out): an operand requires grad, and a product written into out records no gradient; "
                        + "call it inside Autograd.noGrad(), or use matmul(other)");
        out.checkInPlace("matmul(out)");
        DType dt = resultType(this, other);
        checkArgument(dt.isFloatingPoint(), "matmul: %s operands are not supported; convert with to(FLOAT32)", dt);
        checkArgument(out.dtype() == dt, "matmul(out): out is %s, the product is %s", out.dtype(), dt);
        int[] outShape = productShape(shape, other.shape);
        if (!Arrays.equals(out.shape, outShape)) {
            throw new ShapeException("matmul(out): out has shape " + Shapes.str(out.shape) + ", the product "
                    + Shapes.str(outShape));
        }
        checkArgument(!out.storage.sharesMemoryWith(storage) && !out.storage.sharesMemoryWith(other.storage),
                "matmul(out): out shares memory with an operand; write the product into another tensor");
        if (shape.length > 2 && other.shape.length == 2) {
            // folded as matmul(other) folds it (one product of the rows stacked), so the bits are its bits
            Tensor rows = reshape(-1, shape[shape.length - 1]);
            if (out.isContiguous()) {
                rows.matmul(other, out.reshape(-1, other.shape[1])); // a view of out's memory
                return out;
            }
            return out.copyFrom(rows.matmul(other).reshape(outShape));
        }
        Tensor a = to(dt);
        Tensor b = other.to(dt);
        a.backend().matmulInto(a.asView(), b.asView(), out.asView());
        out.storage.bumpVersion();
        return out;
    }

    /** The shape of [..., n, k] @ [..., k, m] (both rank >= 2): the batch dims broadcast, then [n, m]. */
    private static int[] productShape(int[] a, int[] b) {
        int[] batch = Shapes.broadcast("matmul", Arrays.copyOf(a, a.length - 2), Arrays.copyOf(b, b.length - 2));
        int[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = a[a.length - 2];
        shape[batch.length + 1] = b[b.length - 1];
        return shape;
    }

    /** The gradient of a in a · b for the output gradient dOut, in a's own layout. */
    static Tensor matmulGradA(Tensor a, Tensor b, Tensor dOut, boolean matrices) {
        return matrices && isTransposedMatrix(a) ? b.matmul(dOut.t()).t() : dOut.matmul(b.transpose(-1, -2));
    }

    /**
     * The gradient of b in a · b for the output gradient dOut, aᵀ · dOut, in b's own layout; with
     * a and dOut the row-wise concatenations of several products' a and dOut, the sum of their
     * gradients of b.
     */
    static Tensor matmulGradB(Tensor a, Tensor b, Tensor dOut, boolean matrices) {
        return matrices && isTransposedMatrix(b) ? dOut.t().matmul(a).t() : a.transpose(-1, -2).matmul(dOut);
    }

    /** Matrix product of two matrices [n, m] @ [m, p], without {@link #matmul}'s broadcasting (PyTorch's {@code mm}). */
    public Tensor mm(Tensor other) {
        if (shape.length != 2 || other.shape.length != 2) {
            throw new ShapeException("mm: expects two matrices, got " + Shapes.str(shape) + " @ " + Shapes.str(other.shape));
        }
        return matmul(other);
    }

    /**
     * {@link #mm(Tensor)} written into {@code out}, PyTorch's {@code torch.mm(a, b, out=c)}: see
     * {@link #matmul(Tensor, Tensor)} for what {@code out} must be.
     *
     * @return {@code out}
     */
    public Tensor mm(Tensor other, Tensor out) {
        if (shape.length != 2 || other.shape.length != 2) {
            throw new ShapeException("mm: expects two matrices, got " + Shapes.str(shape) + " @ " + Shapes.str(other.shape));
        }
        return matmul(other, out);
    }

    /**
     * Batched matrix product [B, n, m] @ [B, m, p] -> [B, n, p], the batch sizes equal (no
     * broadcasting, as PyTorch's {@code bmm}).
     */
    public Tensor bmm(Tensor other) {
        if (shape.length != 3 || other.shape.length != 3 || shape[0] != other.shape[0]) {
            throw new ShapeException("bmm: expects [B, n, m] @ [B, m, p] with the same B, got " + Shapes.str(shape)
                    + " @ " + Shapes.str(other.shape));
        }
        return matmul(other);
    }

    /** Inner product of two vectors of the same length, as a 0-d tensor (PyTorch's {@code dot}). */
    public Tensor dot(Tensor other) {
        if (shape.length != 1 || other.shape.length != 1 || shape[0] != other.shape[0]) {
            throw new ShapeException("dot: expects two vectors of the same length, got " + Shapes.str(shape) + " and "
                    + Shapes.str(other.shape));
        }
        return matmul(other);
    }

    /** A 2-D view laid out column by column (the transpose of a contiguous matrix), at least 2×2. */
    private static boolean isTransposedMatrix(Tensor t) {
        return t.shape[0] > 1 && t.shape[1] > 1 && t.strides[0] == 1
                && t.strides[1] >= t.shape[0];
    }

    // =================================================================== shape

    private Tensor view(int newOffset, int[] newShape, int[] newStrides) {
        return new Tensor(storage, newOffset, newShape, newStrides);
    }

    /**
     * The same elements with a new shape (one size may be -1 to infer it): a view when the
     * tensor is contiguous, else a copy.
     */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape(newShape);
        Tensor x = contiguous();
        int[] old = shape;
        return derive("reshape", x.view(x.offset, s, Shapes.contiguousStrides(s)), in(x), NONE,
                dOut -> in(dOut.reshape(old)));
    }

    private int[] inferShape(int[] newShape) {
        if (newShape.length > MAX_RANK) {
            throw new ShapeException("reshape: " + newShape.length + " dims; the limit is " + MAX_RANK);
        }
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) { // not checkArgument: its message arguments would be built on every pass
                    throw new IllegalArgumentException("reshape: only one dimension can be -1, got "
                            + Arrays.toString(newShape));
                }
                infer = i;
            } else {
                if (s[i] < 0) {
                    throw new IllegalArgumentException("reshape: invalid size " + s[i] + " in " + Arrays.toString(newShape));
                }
                known = Math.min(known * s[i], Long.MAX_VALUE / Integer.MAX_VALUE); // saturates: past that it cannot fit
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new ShapeException("reshape: shape " + Arrays.toString(newShape) + " is invalid for input of "
                        + "shape " + Shapes.str(shape) + " (" + numel + " elements)");
            }
            s[infer] = (int) (numel / known);
        }
        if (Shapes.numel(s) != numel) {
            throw new ShapeException("reshape: shape " + Arrays.toString(newShape) + " is invalid for input of shape "
                    + Shapes.str(shape) + " (" + numel + " elements)");
        }
        return s;
    }

    /**
     * {@link #reshape} that never copies: the same storage with a new shape, for a contiguous
     * tensor (PyTorch's {@code view}; one size may be -1).
     *
     * @throws IllegalStateException if this tensor is not contiguous (use reshape, or contiguous() first)
     */
    public Tensor view(int... newShape) {
        if (!isContiguous()) {
            throw new IllegalStateException("view: the tensor of shape " + Shapes.str(shape) + " and strides "
                    + Arrays.toString(strides) + " is not contiguous; use reshape (which copies) or contiguous().view");
        }
        return reshape(newShape);
    }

    /** {@link #reshape(int...)} to {@code newShape}. */
    public Tensor reshape(Shape newShape) {
        return reshape(newShape.dims());
    }

    /** {@link #view(int...)} as {@code newShape}. */
    public Tensor view(Shape newShape) {
        return view(newShape.dims());
    }

    /** {@link #expand(int...)} to {@code sizes}. */
    public Tensor expand(Shape sizes) {
        return expand(sizes.dims());
    }

    /** Flattened to 1-D. */
    public Tensor flatten() {
        return reshape(-1);
    }

    /** Dims startDim..endDim (inclusive) merged into one. */
    public Tensor flatten(int startDim, int endDim) {
        if (shape.length == 0) {
            return reshape(1);
        }
        int a = Shapes.dim("flatten", startDim, shape.length);
        int b = Shapes.dim("flatten", endDim, shape.length);
        checkArgument(a <= b, "flatten: startDim %s comes after endDim %s", startDim, endDim);
        int[] s = new int[shape.length - (b - a)];
        System.arraycopy(shape, 0, s, 0, a);
        s[a] = Shapes.prod(shape, a, b + 1);
        System.arraycopy(shape, b + 1, s, a + 1, shape.length - b - 1);
        return reshape(s);
    }

    /** View with dims {@code dim0} and {@code dim1} swapped (no copy). */
    public Tensor transpose(int dim0, int dim1) {
        int a = Shapes.dim("transpose", dim0, shape.length);
        int b = Shapes.dim("transpose", dim1, shape.length);
        if (shape.length == 0) {
            return mul(1.0);
        }
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        Tensor r = derive("transpose", view(offset, s, st), in(this), NONE, dOut -> in(dOut.transpose(a, b)));
        if (Trace.isTracing()) {
            Trace.amend(r, null, "dim0", a, "dim1", b);
        }
        return r;
    }

    /** Transpose of a matrix (a 0-d or 1-D tensor is returned as a view of itself). */
    public Tensor t() {
        if (shape.length > 2) {
            throw new IllegalArgumentException("t: expects a tensor with at most 2 dims, got " + Shapes.str(shape));
        }
        return shape.length < 2 ? reshape(shape) : transpose(0, 1);
    }

    /** View with the dims reordered: result dim i is this tensor's dim {@code dims[i]}. */
    public Tensor permute(int... dims) {
        checkArgument(dims.length == shape.length, "permute: %s dims given for a tensor of rank %s",
                dims.length, shape.length);
        int[] s = new int[dims.length];
        int[] st = new int[dims.length];
        int[] inverse = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.dim("permute", dims[i], shape.length);
            if (seen[d]) {
                throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Arrays.toString(dims));
            }
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
            inverse[d] = i;
        }
        Tensor r = derive("permute", view(offset, s, st), in(this), NONE, dOut -> in(dOut.permute(inverse)));
        if (Trace.isTracing()) {
            int[] order = new int[dims.length]; // dims, normalised
            for (int d = 0; d < dims.length; d++) {
                order[inverse[d]] = d;
            }
            Trace.amend(r, null, "dims", order);
        }
        return r;
    }

    /** All size-1 dims removed. */
    public Tensor squeeze() {
        return reshape(Arrays.stream(shape).filter(x -> x != 1).toArray());
    }

    /** Dim {@code dim} removed if its size is 1 (else the shape is unchanged). */
    public Tensor squeeze(int dim) {
        if (shape.length == 0) {
            return reshape();
        }
        int d = Shapes.dim("squeeze", dim, shape.length);
        return shape[d] != 1 ? reshape(shape) : reshape(Shapes.copyWithout(shape, d));
    }

    /** A size-1 dim inserted at {@code dim} (in [-rank-1, rank]). */
    public Tensor unsqueeze(int dim) {
        int d = Shapes.dim("unsqueeze", dim, shape.length + 1);
        int[] s = Shapes.copyWith(shape, d, 1);
        int[] st = Shapes.copyWith(strides, d, d < shape.length ? strides[d] * shape[d] : 1);
        int[] old = shape;
        Tensor r = derive("unsqueeze", view(offset, s, st), in(this), NONE, dOut -> in(dOut.reshape(old)));
        if (Trace.isTracing()) {
            Trace.amend(r, null, "dim", d);
        }
        return r;
    }

    /**
     * View broadcast to {@code sizes} without copying (size-1 dims repeat; new leading dims may be
     * added; -1 keeps a size). The gradient sums over the repeated dims.
     */
    public Tensor expand(int... sizes) {
        if (Arrays.equals(sizes, shape)) {
            return this;
        }
        if (sizes.length < shape.length) {
            throw new IllegalArgumentException("expand: target " + Arrays.toString(sizes) + " has fewer dims than "
                    + Shapes.str(shape));
        }
        int lead = sizes.length - shape.length;
        int[] s = new int[sizes.length];
        int[] st = new int[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            int own = i < lead ? 1 : shape[i - lead];
            int want = sizes[i] == -1 && i >= lead ? own : sizes[i];
            if (own == want) {
                s[i] = own;
                st[i] = i < lead ? 0 : strides[i - lead];
            } else if (own == 1 && want >= 0) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new ShapeException("expand: cannot expand " + Shapes.str(shape) + " to "
                        + Arrays.toString(sizes) + ": dim " + i + " is " + own + " vs " + want);
            }
        }
        int[] old = shape;
        return derive("expand", view(offset, s, st), in(this), NONE, dOut -> in(dOut.sumTo(old)));
    }

    /** View of {@code length} elements of {@code dim} starting at {@code start}. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, shape.length);
        if (start < 0 || length < 0 || (long) start + length > shape[d]) {
            throw new IndexOutOfBoundsException("narrow: [" + start + ", " + ((long) start + length)
                    + ") is outside dim " + dim + " of size " + shape[d] + " (shape " + Shapes.str(shape) + ")");
        }
        return slice(d, start, start + length, 1);
    }

    /** View of elements start, start + step, ... below end along {@code dim} (Python's {@code x[start:end:step]}). */
    public Tensor slice(int dim, int start, int end, int step) {
        int d = Shapes.dim("slice", dim, shape.length);
        checkArgument(step > 0, "slice: step must be positive, got %s", step);
        int n = shape[d];
        int lo = Math.max(0, Math.min(n, start < 0 ? start + n : start));
        int hi = Math.max(lo, Math.min(n, end < 0 ? end + n : end));
        int len = (hi - lo + step - 1) / step;
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[d] = len;
        st[d] = strides[d] * step;
        int[] cs = Shapes.contiguousStrides(shape);
        int windowOffset = lo * cs[d];
        int[] windowStrides = cs.clone();
        windowStrides[d] = cs[d] * step;
        int[] base = shape;
        Tensor r = derive("slice", view(offset + lo * strides[d], s, st), in(this), NONE,
                dOut -> in(embedWindow(dOut, base, windowOffset, windowStrides)));
        markWindow(r, base, windowOffset, windowStrides);
        if (Trace.isTracing()) {
            Trace.amend(r, null, "dim", d, "start", lo, "end", hi, "step", step);
        }
        return r;
    }

    /** View of index {@code index} of {@code dim}, which is removed (negative indices count from the end). */
    public Tensor select(int dim, int index) {
        int d = Shapes.dim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + dim
                    + " of size " + shape[d] + " (shape " + Shapes.str(shape) + ")");
        }
        int[] cs = Shapes.contiguousStrides(shape);
        int[] base = shape;
        Tensor r = derive("select", view(offset + i * strides[d], Shapes.copyWithout(shape, d),
                        Shapes.copyWithout(strides, d)), in(this), NONE,
                dOut -> in(embedWindow(dOut, base, i * cs[d], Shapes.copyWithout(cs, d))));
        markWindow(r, base, i * cs[d], Shapes.copyWithout(cs, d));
        if (Trace.isTracing()) {
            Trace.amend(r, null, "dim", d, "index", i);
        }
        return r;
    }

    /** Zeros of {@code base} shape with {@code g} written into a non-overlapping window of their contiguous layout. */
    private static Tensor embedWindow(Tensor g, int[] base, int windowOffset, int[] windowStrides) {
        Tensor out = empty(g.backend(), g.dtype(), base);
        g.backend().copy(g.asView(), out.view(windowOffset, g.shape, windowStrides).asView());
        int[] s = g.shape;
        return derive("embedWindow", out, in(g), NONE,
                dOut -> in(dOut.contiguous().windowView(windowOffset, s, windowStrides)));
    }

    /**
     * This contiguous tensor's storage viewed with {@code like}'s shape and, for {@code like} a
     * dense permuted layout ({@link Autograd#isDense}), the same strides; no graph recorded.
     */
    Tensor permuteLike(Tensor like) {
        return view(offset, like.shape, like.strides.clone());
    }

    /** The view of {@code window} (with shape {@code s}) in this contiguous tensor, no graph recorded. */
    Tensor windowOf(Node.Window window, int[] s) {
        return view(offset + window.offset(), s, window.strides());
    }

    /** A window (offset, shape, strides relative to the contiguous layout) of this contiguous tensor. */
    private Tensor windowView(int windowOffset, int[] s, int[] st) {
        int[] base = shape;
        Tensor r = derive("window", view(offset + windowOffset, s, st), in(this), NONE,
                dOut -> in(embedWindow(dOut, base, windowOffset, st)));
        markWindow(r, base, windowOffset, st);
        return r;
    }

    /** Tells backward that r's input gets r's gradient in a window and zeros elsewhere (see {@link Node#window}). */
    private static void markWindow(Tensor r, int[] base, int windowOffset, int[] windowStrides) {
        if (r.gradFn != null) {
            r.gradFn.window = new Node.Window(base, windowOffset, windowStrides);
        }
    }

    /**
     * Views of consecutive pieces of {@code size} along {@code dim}, the last smaller when
     * {@code size} does not divide the dim (PyTorch's {@code split(split_size, dim)}); each is
     * differentiable.
     */
    public List<Tensor> split(int size, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        checkArgument(size > 0, "split: size must be positive, got %s", size);
        if (shape[d] == 0) {
            return List.of(narrow(d, 0, 0));
        }
        List<Tensor> parts = new ArrayList<>();
        for (int at = 0; at < shape[d]; at += size) {
            parts.add(narrow(d, at, Math.min(size, shape[d] - at)));
        }
        return parts;
    }

    /** Views of consecutive pieces of the given sizes along {@code dim}, which must add up to its size. */
    public List<Tensor> split(int[] sizes, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        long total = 0;
        for (int z : sizes) {
            checkArgument(z >= 0, "split: sizes must be non-negative, got %s", Arrays.toString(sizes));
            total += z;
        }
        if (total != shape[d]) {
            throw new ShapeException("split: sizes " + Arrays.toString(sizes) + " add up to " + total + ", not dim "
                    + d + "'s " + shape[d] + " (shape " + Shapes.str(shape) + ")");
        }
        List<Tensor> parts = new ArrayList<>(sizes.length);
        int at = 0;
        for (int z : sizes) {
            parts.add(narrow(d, at, z));
            at += z;
        }
        return parts;
    }

    /**
     * At most {@code chunks} views along {@code dim} of ⌈size / chunks⌉ each, the last smaller
     * (PyTorch's {@code chunk}: fewer pieces when the size does not allow that many).
     */
    public List<Tensor> chunk(int chunks, int dim) {
        int d = Shapes.dim("chunk", dim, shape.length);
        checkArgument(chunks > 0, "chunk: chunks must be positive, got %s", chunks);
        return split(Math.max(1, (shape[d] + chunks - 1) / chunks), d);
    }

    /** Tensors joined along an existing dim {@code dim}; all other sizes must match. */
    public static Tensor cat(List<Tensor> tensors, int dim) {
        checkArgument(!tensors.isEmpty(), "cat: no tensors given");
        Tensor first = tensors.get(0);
        int d = Shapes.dim("cat", dim, first.shape.length);
        DType dt = first.dtype();
        int total = 0;
        for (Tensor t : tensors) {
            dt = DType.promote(dt, t.dtype());
            boolean ok = t.shape.length == first.shape.length;
            for (int i = 0; ok && i < t.shape.length; i++) {
                ok = i == d || t.shape[i] == first.shape[i];
            }
            if (!ok) {
                StringBuilder all = new StringBuilder();
                for (Tensor u : tensors) {
                    all.append(all.length() == 0 ? "" : ", ").append(Shapes.str(u.shape));
                }
                throw new ShapeException("cat: shapes must match except in dim " + d + ", got " + all);
            }
            total = Math.addExact(total, t.shape[d]);
        }
        int[] s = first.shape.clone();
        s[d] = total;
        Tensor out = empty(first.backend(), dt, s);
        Tensor[] inputs = new Tensor[tensors.size()];
        int[] starts = new int[tensors.size()];
        int at = 0;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = tensors.get(i).to(dt);
            inputs[i] = t;
            starts[i] = at;
            out.backend().copy(t.asView(), out.narrowNoGrad(d, at, t.shape[d]).asView());
            at += t.shape[d];
        }
        Tensor r = derive("cat", out, inputs, NONE, dOut -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = inputs[i].requiresGrad ? dOut.narrow(d, starts[i], inputs[i].shape[d]) : null;
            }
            return grads;
        });
        if (Trace.isTracing()) {
            Trace.amend(r, null, "dim", d);
        }
        return r;
    }

    /** Tensors of equal shape stacked along a new dim {@code dim}. */
    public static Tensor stack(List<Tensor> tensors, int dim) {
        checkArgument(!tensors.isEmpty(), "stack: no tensors given");
        int d = Shapes.dim("stack", dim, tensors.get(0).shape.length + 1);
        List<Tensor> parts = new ArrayList<>(tensors.size());
        for (Tensor t : tensors) {
            if (!Arrays.equals(t.shape, tensors.get(0).shape)) {
                throw new ShapeException("stack: all tensors need the same shape, got " + Shapes.str(tensors.get(0).shape)
                        + " and " + Shapes.str(t.shape));
            }
            parts.add(t.unsqueeze(d));
        }
        return cat(parts, d);
    }

    // =================================================================== convolution windows

    /**
     * Sliding-window patches of an image batch as rows: [N, C, H, W] -> [N, Ho·Wo, C·kh·kw]
     * (row l holds the window at output position l, channel-major), with zero padding. A
     * convolution is then one matrix product with the flattened kernels; see also {@link #col2im}.
     */
    public Tensor im2col(Window2d window) {
        return im2col(window, 0);
    }

    /** {@link #im2col(Window2d)} reading {@code padValue} outside the image (-infinity for max pooling). */
    public Tensor im2col(Window2d window, double padValue) {
        if (shape.length != 4) {
            throw new ShapeException("im2col: expects [N, C, H, W], got " + Shapes.str(shape));
        }
        Tensor x = floatSelf();
        int[] s = shape;
        fits(new int[] {s[0], window.outH(s[2]), window.outW(s[3]), s[1], window.kernelH(), window.kernelW()});
        int[] os = {s[0], window.outH(s[2]) * window.outW(s[3]), s[1] * window.kernelH() * window.kernelW()};
        Tensor r = derive("im2col", over(x.backend().im2col(x.asView(), window.toWindow(), padValue), os), in(x), NONE,
                dOut -> in(dOut.col2im(s, window)));
        if (Trace.isTracing()) {
            Trace.amend(r, null, "window", window, "padValue", padValue);
        }
        return r;
    }

    /**
     * 2-D convolution (cross-correlation), as PyTorch's {@code F.conv2d} with one group: this
     * [N, C, H, W], {@code weight} [O, C, kh, kw] and {@code bias} [O] (null for none) give
     * [N, O, Ho, Wo], with the stride, zero padding and dilation of {@code window}, whose kernel
     * must be the weight's kh × kw. Computed as matrix products over chunks of the batch (see
     * {@code Conv}); its gradients (and their gradients) are those of the same sum written with
     * {@link #im2col} and {@link #matmul}.
     *
     * @throws ShapeException if the shapes do not fit together (naming all of them)
     * @throws IllegalArgumentException if the dtypes differ or are not floating point
     */
    public Tensor conv2d(Tensor weight, Tensor bias, Window2d window) {
        checkArgument(weight != null && window != null, "conv2d: weight and window are required");
        if (shape.length != 4 || weight.shape.length != 4 || weight.shape[1] != shape[1]
                || weight.shape[2] != window.kernelH() || weight.shape[3] != window.kernelW()
                || (bias != null && (bias.shape.length != 1 || bias.shape[0] != weight.shape[0]))) {
            throw new ShapeException("conv2d: input " + Shapes.str(shape) + " [N, C, H, W], weight "
                    + Shapes.str(weight.shape) + " [O, C, kh, kw], bias " + (bias == null ? "none" : Shapes.str(bias.shape))
                    + " [O] and kernel " + window.kernelH() + "x" + window.kernelW() + " do not fit together");
        }
        checkArgument(dtype().isFloatingPoint() && weight.dtype() == dtype() && (bias == null || bias.dtype() == dtype()),
                "conv2d: input, weight and bias must have the same floating-point dtype, got %s, %s and %s",
                dtype(), weight.dtype(), bias == null ? "none" : bias.dtype());
        int[] os = fits(new int[] {shape[0], weight.shape[0], window.outH(shape[2]), window.outW(shape[3])});
        Tensor x = this;
        Tensor out = over(backend().conv2d(asView(), weight.asView(), bias == null ? null : bias.asView(),
                window.toWindow()), os);
        Tensor r = derive("conv2d", out, in(x, weight, bias), in(x, weight), g0 -> {
            Tensor dOut = g0.dtype() == x.dtype() ? g0 : g0.to(x.dtype()); // a seed of another dtype
            boolean gb = bias != null && bias.requiresGrad;
            Storage[] g = dOut.backend().conv2dBackward(dOut.asView(), x.asView(), weight.asView(), window.toWindow(),
                    x.requiresGrad, weight.requiresGrad, gb);
            return in(g[0] == null ? null : convInputGrad(over(g[0], x.shape), dOut, weight, window),
                    g[1] == null ? null : convWeightGrad(over(g[1], weight.shape), dOut, x, window),
                    !gb ? null : derive("conv2dBiasGrad", over(g[2], bias.shape), in(dOut), NONE,
                            gg -> in(gg.reshape(1, -1, 1, 1).expand(dOut.shape))));
        });
        if (Trace.isTracing()) {
            Trace.amend(r, null, "window", window);
        }
        return r;
    }

    /**
     * Records {@code gx}, conv2d's input gradient for dOut (the transposed convolution of dOut with
     * the weight), as an op differentiable in dOut (a convolution of its gradient with the weight)
     * and in the weight (the weight gradient of a convolution of its gradient, for dOut).
     */
    private static Tensor convInputGrad(Tensor gx, Tensor dOut, Tensor weight, Window2d window) {
        return derive("conv2dInputGrad", gx, in(dOut, weight), in(dOut, weight), gg -> in(
                gg.conv2d(weight, null, window),
                weight.requiresGrad ? convGrad(dOut, gg, weight, window, false) : null));
    }

    /**
     * Records {@code gw}, conv2d's weight gradient for dOut and input x, as an op differentiable in
     * dOut (x convolved with its gradient) and in x (the input gradient of that convolution).
     */
    private static Tensor convWeightGrad(Tensor gw, Tensor dOut, Tensor x, Window2d window) {
        return derive("conv2dWeightGrad", gw, in(dOut, x), in(dOut, x), gg -> in(
                x.conv2d(gg, null, window),
                x.requiresGrad ? convGrad(dOut, x, gg, window, true) : null));
    }

    /** The input (or weight) gradient of {@code x.conv2d(weight)} for the output gradient dOut, recorded. */
    private static Tensor convGrad(Tensor dOut, Tensor x, Tensor weight, Window2d window, boolean input) {
        DType dt = input ? weight.dtype() : x.dtype(); // the operand whose values are read sets the dtype
        Tensor d = dOut.to(dt);
        Tensor xs = x.to(dt);
        Tensor w = weight.to(dt);
        Storage[] g = d.backend().conv2dBackward(d.asView(), xs.asView(), w.asView(), window.toWindow(), input, !input,
                false);
        return input ? convInputGrad(over(g[0], x.shape), d, w, window) : convWeightGrad(over(g[1], weight.shape), d, xs,
                window);
    }

    /**
     * Max pooling (PyTorch's {@code F.max_pool2d}): the max of each window of [N, C, H, W], per
     * channel, with padding that never wins. The gradient goes to the first max of each window
     * (overlapping windows add up); a NaN in a window is its max.
     *
     * @throws IllegalArgumentException if the padding exceeds half the kernel (as in PyTorch)
     */
    public Tensor maxPool2d(Window2d window) {
        if (shape.length != 4) {
            throw new ShapeException("maxPool2d: expects [N, C, H, W], got " + Shapes.str(shape));
        }
        checkArgument(window.padH() <= window.kernelH() / 2 && window.padW() <= window.kernelW() / 2,
                "maxPool2d: padding must be at most half the kernel, got %s", window);
        Tensor x = floatSelf();
        int[] s = shape;
        int[] os = fits(new int[] {s[0], s[1], window.outH(s[2]), window.outW(s[3])});
        Storage[] vi = x.backend().maxPool2d(x.asView(), window.toWindow());
        Tensor indices = over(vi[1], os);
        Tensor r = derive("maxPool2d", over(vi[0], os), in(x), NONE, dOut -> in(maxPoolBackward(dOut, indices, s)));
        if (Trace.isTracing()) {
            Trace.amend(r, null, "window", window);
        }
        return r;
    }

    /**
     * Max pooling's backward: zeros of the input's shape with each dOut element added at the flat
     * index of its window's max; an op differentiable in dOut (the gradient gathered back from
     * those indices).
     */
    private static Tensor maxPoolBackward(Tensor dOut, Tensor indices, int[] inputShape) {
        Tensor dx = over(dOut.backend().maxPool2dBackward(dOut.asView(), indices.asView(), inputShape), inputShape);
        return derive("maxPool2dBackward", dx, in(dOut), NONE, gg -> {
            Tensor at = indices.reshape(-1);
            Tensor picked = gg.reshape(-1).indexSelect(0, at.clamp(0, Double.POSITIVE_INFINITY)).reshape(indices.shape);
            return in(where(indices.ge(0), picked, scalar(picked.dtype(), 0))); // -1: a window wholly in the padding
        });
    }

    /**
     * The adjoint of {@link #im2col}: patch rows [N, Ho·Wo, C·kh·kw] summed back into an image of
     * {@code imageShape} [N, C, H, W] (overlapping windows add up).
     */
    public Tensor col2im(int[] imageShape, Window2d window) {
        checkArgument(imageShape.length == 4, "col2im: image shape must be [N, C, H, W], got %s",
                Arrays.toString(imageShape));
        int[] s = imageShape.clone();
        int rows = window.outH(s[2]) * window.outW(s[3]);
        int taps = s[1] * window.kernelH() * window.kernelW();
        if (shape.length != 3 || shape[0] != s[0] || shape[1] != rows || shape[2] != taps) {
            throw new ShapeException("col2im: columns " + Shapes.str(shape) + " do not match image " + Shapes.str(s)
                    + " with " + window + " (expected [" + s[0] + ", " + rows + ", " + taps + "])");
        }
        return derive("col2im", over(backend().col2im(asView(), s, window.toWindow()), s), in(this), NONE,
                dOut -> in(dOut.im2col(window)));
    }

    // =================================================================== indexing

    /** The slices {@code index[i]} of {@code dim}, in order (index: 1-D integers in [0, size)). */
    public Tensor indexSelect(int dim, Tensor index) {
        int d = Shapes.dim("indexSelect", dim, shape.length);
        checkIndex("indexSelect", index);
        if (index.dim() > 1) {
            throw new IllegalArgumentException("indexSelect: index must be 1-D, got shape " + Shapes.str(index.shape));
        }
        int[] os = shape.clone();
        os[d] = index.numel();
        fits(os);
        Tensor out = over(backend().indexSelect(asView(), d, index.asView()), os);
        int[] s = shape;
        Tensor r = derive("indexSelect", out, in(this), NONE,
                dOut -> in(zeros(dOut.dtype(), s).indexAdd(d, index, dOut)));
        if (Trace.isTracing()) {
            Trace.amend(r, in(this, index), "dim", d);
        }
        return r;
    }

    /** A copy of this tensor with {@code source}'s slices added at positions {@code index} of {@code dim}. */
    public Tensor indexAdd(int dim, Tensor index, Tensor source) {
        int d = Shapes.dim("indexAdd", dim, shape.length);
        DType dt = DType.promote(dtype(), source.dtype());
        Tensor self = to(dt);
        Tensor src = source.to(dt);
        checkIndex("indexAdd", index);
        if (index.dim() > 1) {
            throw new IllegalArgumentException("indexAdd: index must be 1-D, got shape " + Shapes.str(index.shape));
        }
        int[] expected = shape.clone();
        expected[d] = index.numel();
        if (!Arrays.equals(expected, src.shape)) {
            throw new ShapeException("indexAdd: source shape " + Shapes.str(src.shape) + " must be "
                    + Shapes.str(expected) + " for self " + Shapes.str(shape) + " and " + index.numel() + " indices");
        }
        Tensor out = over(backend().indexAdd(self.asView(), d, index.asView(), src.asView()), shape);
        Tensor r = derive("indexAdd", out, in(self, src), NONE,
                dOut -> in(dOut, src.requiresGrad ? dOut.indexSelect(d, index) : null));
        if (Trace.isTracing()) {
            Trace.amend(r, in(self, index, src), "dim", d);
        }
        return r;
    }

    /**
     * out[i][j] = this[i][index[i][j]] for dim 1 (and likewise for any dim): index has this
     * tensor's rank, INT64 values in [0, size(dim)), and no larger sizes in other dims.
     */
    public Tensor gather(int dim, Tensor index) {
        int d = Shapes.dim("gather", dim, shape.length);
        checkGather("gather", d, index, null);
        Tensor out = over(backend().gather(asView(), d, index.asView()), index.shape);
        int[] s = shape;
        Tensor r = derive("gather", out, in(this), NONE,
                dOut -> in(zeros(dOut.dtype(), s).scatterAdd(d, index, dOut)));
        if (Trace.isTracing()) {
            Trace.amend(r, in(this, index), "dim", d);
        }
        return r;
    }

    /**
     * A copy of this tensor with each {@code src} element added at the position that
     * {@code index} names along {@code dim} (the reverse of {@link #gather}).
     */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) {
        int d = Shapes.dim("scatterAdd", dim, shape.length);
        DType dt = DType.promote(dtype(), src.dtype());
        Tensor self = to(dt);
        Tensor source = src.to(dt);
        checkGather("scatterAdd", d, index, source);
        Tensor out = over(backend().scatterAdd(self.asView(), d, index.asView(), source.asView()), shape);
        Tensor r = derive("scatterAdd", out, in(self, source), NONE,
                dOut -> in(dOut, source.requiresGrad ? dOut.gather(d, index) : null));
        if (Trace.isTracing()) {
            Trace.amend(r, in(self, index, source), "dim", d);
        }
        return r;
    }

    private static void checkIndex(String op, Tensor index) {
        checkArgument(index.dtype() == DType.INT64, "%s: index must be int64, got %s", op, index.dtype());
    }

    /** Checks an index tensor for gather or scatterAdd along dim d of this tensor (and the source, when given). */
    private void checkGather(String op, int d, Tensor index, Tensor src) {
        checkIndex(op, index);
        if (index.shape.length != shape.length) {
            throw new ShapeException(op + ": index rank " + index.shape.length + " must equal input rank "
                    + shape.length + " (input " + Shapes.str(shape) + ", index " + Shapes.str(index.shape) + ")");
        }
        for (int i = 0; i < shape.length; i++) {
            if ((i != d && index.shape[i] > shape[i]) || (src != null && index.shape[i] > src.shape[i])) {
                throw new ShapeException(op + ": index " + Shapes.str(index.shape) + " is larger than input "
                        + Shapes.str(shape) + (src != null ? " or source " + Shapes.str(src.shape) : "") + " in dim " + i);
            }
        }
    }

    /** One-hot encoding of integer class indices in [0, numClasses): shape + [numClasses], INT64 like PyTorch. */
    public Tensor oneHot(int numClasses) {
        return oneHot(numClasses, DType.INT64);
    }

    /** One-hot encoding of integer class indices in [0, numClasses), in the given dtype. */
    public Tensor oneHot(int numClasses, DType dtype) {
        checkArgument(dtype() == DType.INT64, "oneHot: class indices must be int64, got %s", dtype());
        checkArgument(numClasses >= -1, "oneHot: numClasses must be positive (or -1 to infer), got %s", numClasses);
        int k = numClasses != -1 ? numClasses : numel == 0 ? 0 : (int) Math.max(0, max().item() + 1);
        int[] os = fits(Shapes.copyWith(shape, shape.length, k));
        Tensor out = over(backend().oneHot(asView(), k, dtype.scalarType()), os);
        if (Trace.isTracing()) {
            Trace.record("oneHot", in(this), out, "numClasses", numClasses);
        }
        return out;
    }

    // =================================================================== in-place (optimizers, initialisers)

    private void checkInPlace(String op) {
        if (requiresGrad && Autograd.isGradEnabled()) {
            throw new IllegalStateException(op + ": in-place update of a tensor that requires grad ("
                    + (gradFn == null ? "a leaf" : "output of '" + gradFn.op + "'")
                    + ") is only allowed inside Autograd.noGrad()");
        }
    }

    /** Sets every element to {@code value}, in place; returns this. */
    public Tensor fill(double value) {
        checkInPlace("fill");
        backend().fill(asView(), value);
        storage.bumpVersion();
        return this;
    }

    /** Copies {@code src} (broadcast to this shape, converted to this dtype) into this tensor, in place; returns this. */
    public Tensor copyFrom(Tensor src) {
        checkInPlace("copyFrom");
        if (!Arrays.equals(Shapes.broadcast("copyFrom", shape, src.shape), shape)) {
            throw new ShapeException("copyFrom: source " + Shapes.str(src.shape) + " does not broadcast to "
                    + Shapes.str(shape));
        }
        backend().copy(src.asView(), asView());
        storage.bumpVersion();
        return this;
    }

    /** this += alpha * other (other broadcast to this shape, of this dtype), in place; returns this. */
    public Tensor addInPlace(Tensor other, double alpha) {
        checkInPlace("addInPlace");
        addInPlaceRaw(other, alpha);
        return this;
    }

    /** this += other, in place; returns this. */
    public Tensor addInPlace(Tensor other) {
        return addInPlace(other, 1.0);
    }

    /** this *= factor, in place; returns this. */
    public Tensor mulInPlace(double factor) {
        return update(UpdateOp.SCALE, null, null, factor, 0);
    }

    /**
     * this = op(this, a, b; alpha, beta) elementwise, in place, outside the graph: the updates
     * optimizers make (PyTorch's {@code mul_}, {@code add_}, {@code addcmul_}, {@code addcdiv_},
     * {@code sqrt_}, {@code clamp_}, ...), one pass each. a and b (null where the op reads fewer)
     * have this shape and dtype. Returns this.
     *
     * @throws IllegalStateException for a tensor that requires grad, outside {@link Autograd#noGrad()}
     */
    public Tensor update(UpdateOp op, Tensor a, Tensor b, double alpha, double beta) {
        checkInPlace(op.name());
        checkArgument(op.operands() < 1 || a != null, "update %s: needs operand a", op);
        checkArgument(op.operands() < 2 || b != null, "update %s: needs operand b", op);
        checkArgument(op != UpdateOp.CLAMP || !(alpha > beta), "update CLAMP: min %s is above max %s", alpha, beta);
        for (Tensor t : in(a, b)) {
            if (t != null && (!Arrays.equals(t.shape, shape) || t.dtype() != dtype())) {
                throw new ShapeException("update " + op + ": operand " + Shapes.str(t.shape) + " " + t.dtype()
                        + " must have this tensor's shape and dtype " + Shapes.str(shape) + " " + dtype());
            }
        }
        backend().update(op, asView(), a == null ? null : a.asView(), b == null ? null : b.asView(), alpha, beta);
        storage.bumpVersion();
        return this;
    }

    /** Sets the element at row-major position {@code i} of this tensor, in place, outside the graph (gradient checks). */
    void setElement(int i, double value) {
        int at = offset;
        for (int d = shape.length - 1, rest = i; d >= 0; d--) {
            at += (rest % shape[d]) * strides[d];
            rest /= shape[d];
        }
        backend().fill(new View(storage, at, new int[0], new int[0]), value);
        storage.bumpVersion();
    }

    /** Copies src into dst (same shape; dst may be strided), with no bookkeeping: for buffers backward owns. */
    static void copyInto(Tensor src, Tensor dst) {
        dst.backend().copy(src.asView(), dst.asView());
    }

    /** dst += src (same shape and dtype; dst may be strided), with no bookkeeping: for sums backward owns. */
    static void addInto(Tensor src, Tensor dst) {
        dst.backend().addInPlace(dst.asView(), src.asView(), 1);
    }

    void addInPlaceRaw(Tensor other, double alpha) {
        if (!Arrays.equals(Shapes.broadcast("addInPlace", shape, other.shape), shape)) {
            throw new ShapeException("addInPlace: " + Shapes.str(other.shape) + " does not broadcast to " + Shapes.str(shape));
        }
        if (other.dtype() == dtype()) {
            backend().addInPlace(asView(), other.asView(), alpha);
        } else { // in the promoted dtype, then converted back, as this.add(other.mul(alpha)) would be
            Tensor sum;
            try (var s = Autograd.noGrad()) {
                sum = detach().add(alpha == 1 ? other.detach() : other.detach().mul(alpha));
            }
            backend().copy(sum.asView(), asView());
        }
        storage.bumpVersion();
    }

    // =================================================================== comparison helpers and printing

    /**
     * True if the shapes are equal and every pair of elements satisfies
     * {@code |this - other| <= atol + rtol * |other|} (NaN is never close).
     */
    public boolean allClose(Tensor other, double rtol, double atol) {
        if (!Arrays.equals(shape, other.shape)) {
            return false;
        }
        double[] a = toDoubleArray();
        double[] b = other.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i])) && a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@link #allClose(Tensor, double, double)} with PyTorch's defaults rtol 1e-5, atol 1e-8. */
    public boolean allClose(Tensor other) {
        return allClose(other, 1e-5, 1e-8);
    }

    /** Prints values as PyTorch does (elided when large), then shape, dtype and autograd status. */
    @Override
    public String toString() {
        return TensorFormatter.format(this);
    }
}
