package io.jgrad.core.backend;

/**
 * How ops run: the kernels behind every op of {@code io.jgrad.core}, on {@link View}s of {@link Storage}s
 * this backend owns. {@code io.jgrad.core} decides what an op means (its shapes, dtypes, checks,
 * graph record and backward) and calls one or two of these; a backend only computes. Kernels
 * never see the API's types, so the CPU backend ({@code io.jgrad.core.cpu}), the reference backend beside
 * it, and any later one (native memory, a GPU) are interchangeable.
 *
 * <p>Conventions: the caller has checked every argument (shapes fit, dims in range, operand types
 * equal where they must be), so a kernel checks only what it alone can see, the values of index
 * operands, and throws {@link IndexOutOfBoundsException} naming the bad index. A kernel returns a
 * new storage holding its result contiguously, in the shape the method describes; it may be
 * {@linkplain Storage#isDeferred() deferred}. Operands are never changed, except the destination
 * of {@link #fill}, {@link #copy}, {@link #addInPlace} and {@link #update}, whose in-place
 * bookkeeping (the version counter) is the caller's. Dims are in [0, rank).
 */
public interface Backend {
    /** A short name ({@code "cpu"}, {@code "reference"}). */
    String name();

    /** What runs the kernels, for logs and benchmark reports. */
    String description();

    // ---------------------------------------------------------------- memory

    /** A zero-filled storage of {@code length} elements. */
    Storage allocate(ScalarType type, int length);

    /**
     * A FLOAT32 storage over {@code values} itself, not a copy: writes to either show in the other.
     *
     * @throws UnsupportedOperationException if this backend's memory is not a Java array
     */
    Storage wrap(float[] values);

    /** A FLOAT64 storage over {@code values} itself; see {@link #wrap(float[])}. */
    Storage wrap(double[] values);

    /** An INT64 storage over {@code values} itself; see {@link #wrap(float[])}. */
    Storage wrap(long[] values);

    /**
     * Takes back the memory of {@code s}, which nothing will read or write again (the caller
     * guarantees it: the engine calls this for gradients it made and consumed during a backward
     * pass), so that a later allocation can reuse it. A backend may ignore it; this one does.
     */
    default void release(Storage s) {
    }

    /**
     * Starts, on a thread of this backend's own, whatever its first kernels would otherwise wait
     * for (loading native libraries), and returns at once; calling it again does nothing. jgrad's
     * dataset readers call it before they read, so that the work overlaps the reading; the CPU
     * backend also calls it when it is first used. A backend may ignore it.
     */
    default void prepare() {
    }

    /**
     * Starts {@code body} on a helper thread of this backend, to run while the caller goes on,
     * or returns null where this backend has no such thread (one thread configured, or kernels
     * that cannot run beside the caller's); the caller then runs {@code body} itself. The engine
     * gives it work whose result it needs only later (the weight-gradient products of a layer
     * used at many time steps) and hands it operands nothing writes while it runs. {@code body}
     * must compute exactly what it would on the caller's thread, so results do not depend on
     * whether it was offloaded. The returned future's {@code get()} waits for the result.
     */
    default <T> java.util.concurrent.Future<T> offload(java.util.function.Supplier<T> body) {
        return null;
    }

    /** The elements of {@code v} in row-major order, converted to float, in a new array. */
    float[] toFloatArray(View v);

    /** The elements of {@code v} in row-major order, converted to double, in a new array. */
    double[] toDoubleArray(View v);

    /** The elements of {@code v} in row-major order, converted to long (floats truncated), in a new array. */
    long[] toLongArray(View v);

    /** Sets every element of {@code dst} (any strides) to {@code value}, converted to its type. */
    void fill(View dst, double value);

    /** Copies {@code src} (any strides, broadcast to dst's shape) into {@code dst} (any strides), converting the type. */
    void copy(View src, View dst);

    // ---------------------------------------------------------------- elementwise

    /** {@code op(x; p, q)} elementwise, in x's shape and type ({@code op} is unary). */
    Storage unary(ElementwiseOp op, View x, double p, double q);

    /** {@code op(a, b)} elementwise, a and b (of one type) broadcast to {@code shape}; the result has their type. */
    Storage binary(ElementwiseOp op, View a, View b, int[] shape);

    /** {@code cond != 0 ? a : b} elementwise, all three broadcast to {@code shape}; a and b share a type. */
    Storage where(View cond, View a, View b, int[] shape);

    /** {@code dst += alpha · src}, in place; src (of dst's type) broadcasts to dst's shape. */
    void addInPlace(View dst, View src, double alpha);

    /**
     * {@code x = op(x, a, b; alpha, beta)}, in place; a and b (null where {@code op} reads fewer)
     * have x's shape and type.
     */
    void update(UpdateOp op, View x, View a, View b, double alpha, double beta);

    /** Whether no element is NaN or infinite. */
    boolean allFinite(View x);

    // ---------------------------------------------------------------- reductions

    /**
     * The sum over {@code dims} (distinct, ascending), in x's shape without them, and x's type;
     * floats accumulate in double, and the result must not depend on the thread count.
     */
    Storage sum(View x, int[] dims);

    /**
     * Max (or min) over {@code dim}: [0] the values (x's type), [1] the INT64 index of the first
     * extreme element, both in x's shape without {@code dim}. A NaN counts as the extreme.
     */
    Storage[] extreme(View x, int dim, boolean max);

    /** Running sums along {@code dim} (from the end when {@code reverse}), in x's shape and type. */
    Storage cumsum(View x, int dim, boolean reverse);

    /** The INT64 indices that sort each slice along {@code dim}, stably, NaN as the largest; x's shape. */
    Storage argsort(View x, int dim, boolean descending);

    /** softmax, or log-softmax, over {@code dim}, shifted by the max so that exp cannot overflow; x's shape. */
    Storage softmax(View x, int dim, boolean log);

    // ---------------------------------------------------------------- products and windows

    /**
     * The matrix products of a [..., n, k] and b [..., k, m] (both rank >= 2, one float type),
     * their batch dims broadcast to those of {@code shape} [..., n, m].
     */
    Storage matmul(View a, View b, int[] shape);

    /**
     * {@link #matmul}'s products written into {@code out}, a view with the products' shape that
     * shares no storage with a or b (PyTorch's {@code out=}). The default computes them into new
     * storage and copies that into {@code out}; a backend that can write in place overrides it.
     */
    default void matmulInto(View a, View b, View out) {
        copy(View.of(matmul(a, b, out.shape()), out.shape()), out);
    }

    /**
     * The patches of an image batch x [N, C, H, W] as rows, [N, Ho·Wo, C·kh·kw] (row l is the
     * window at output position l, channel-major), reading {@code pad} outside the image.
     */
    Storage im2col(View x, Window w, double pad);

    /** The adjoint of {@link #im2col}: rows [N, Ho·Wo, C·kh·kw] summed into an image of {@code imageShape}. */
    Storage col2im(View cols, int[] imageShape, Window w);

    /**
     * The convolution (cross-correlation) of x [N, C, H, W] with weight [O, C, kh, kw], plus bias
     * [O] (null for none): [N, O, Ho, Wo].
     */
    Storage conv2d(View x, View weight, View bias, Window w);

    /**
     * The gradients of {@link #conv2d} for the output gradient dOut [N, O, Ho, Wo]: [0] the
     * input's (from weight's values; x's shape), [1] the weight's (from x's values; weight's
     * shape), [2] the bias's [O]; each only if asked for, else null.
     */
    Storage[] conv2dBackward(View dOut, View x, View weight, Window w, boolean input, boolean weights, boolean bias);

    /**
     * Max pooling of x [N, C, H, W]: [0] the max of each window [N, C, Ho, Wo] (padding never
     * wins, the first max in scan order, a NaN wins), [1] the INT64 flat index into x of each
     * one (-1 for a window wholly in the padding).
     */
    Storage[] maxPool2d(View x, Window w);

    /** Max pooling's backward: zeros of {@code inputShape} with dOut[i] added at flat index {@code indices[i]}. */
    Storage maxPool2dBackward(View dOut, View indices, int[] inputShape);

    // ---------------------------------------------------------------- fused recurrent cells

    /**
     * One LSTM step's pointwise part, PyTorch's gate order i, f, g, o, from the pre-activation
     * gates [B, 4H] and the cell state c [B, H] (one float type): [0] h' = o·tanh(c') [B, H],
     * [1] c' = f·c + i·g [B, H], [2] the activations [B, 4H] (sigmoid, sigmoid, tanh, sigmoid of the
     * four blocks) and [3] tanh(c') [B, H]. Each value is what the elementwise ops give one by one
     * (ElementwiseOp's SIGMOID and TANH, then f·c + i·g and o·tanh(c') in the type's arithmetic).
     */
    Storage[] lstmCell(View gates, View c);

    /**
     * The backward of {@link #lstmCell} for one step, from the gradients dh of h' and dc of c', the
     * step's activations [B, 4H], tanh(c') and its input cell state c: [0] the gradient of the
     * pre-activation gates [B, 4H], [1] that of c. In the type's arithmetic, in this order:
     * dc += (dh·o)·(1 − tanh²); then the i, f, g, o blocks ((dc·g)·i)·(1 − i), ((dc·c)·f)·(1 − f),
     * (dc·i)·(1 − g·g), ((dh·tanh)·o)·(1 − o); and c's gradient dc·f.
     */
    Storage[] lstmCellBackward(View dh, View dc, View acts, View tanhC, View c);

    /**
     * A whole LSTM layer's recurrence, each step as {@link #lstmCell} computes it from the
     * pre-activation gates ih[t] + (h·whhᵀ + bhh) (the product one matrix product of the type's;
     * bhh null for none), from ih [T, B, 4H], h0 and c0 [B, H] and whh [4H, H]: [0] h₁…h_T followed
     * by c_T, as [T + 1, B, H]; [1] every step's activations [T, B, 4H]; [2] every step's new cell
     * state [T, B, H]; [3] its tanh [T, B, H].
     */
    Storage[] lstmSequence(View ih, View h0, View c0, View whh, View bhh);

    /**
     * The backward of {@link #lstmSequence}, from dOut [T + 1, B, H] (the gradients of h₁…h_T and of
     * c_T), the forward's results [1]-[3], c0 and whh: [0] every step's pre-activation gates'
     * gradient [T, B, 4H] (which is ih's), [1] h0's [B, H], [2] c0's [B, H]. From the last step
     * back: step t's dh is (dGates_{t+1}·whh) + dOut[t], the product one matrix product of the
     * type's, and each step as {@link #lstmCellBackward}.
     */
    Storage[] lstmSequenceBackward(View dOut, View acts, View cs, View tanhs, View c0, View whh);

    // ---------------------------------------------------------------- indexing

    /** The slices {@code index[i]} (a 1-D INT64 view) of x's dim {@code dim}, in order. */
    Storage indexSelect(View x, int dim, View index);

    /** A copy of self with src's slices added at the positions {@code index} names along {@code dim}. */
    Storage indexAdd(View self, int dim, View index, View src);

    /** {@code out[..i..] = x[..index[..i..]..]} along {@code dim}; index (INT64) has x's rank, the result its shape. */
    Storage gather(View x, int dim, View index);

    /** A copy of self with each src element added at the position index names along {@code dim}. */
    Storage scatterAdd(View self, int dim, View index, View src);

    /** The one-hot rows of INT64 labels in [0, classes): labels' shape plus [classes], of {@code type}. */
    Storage oneHot(View labels, int classes, ScalarType type);
}
