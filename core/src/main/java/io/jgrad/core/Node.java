package io.jgrad.core;

/**
 * The record an op leaves on its output: its name, its inputs, the tensors its backward reads
 * (with their versions at save time) and the backward itself. Released after backward unless
 * the graph is retained; a released node keeps only its name, for error messages.
 */
final class Node {
    /** Gradients of the inputs (null where an input gets none) given the gradient of the output. */
    @FunctionalInterface
    interface Backward {
        Tensor[] apply(Tensor dOut);
    }

    final String op;
    Tensor[] inputs;
    Tensor[] saved;
    int[] savedVersions;
    Backward backward;
    /**
     * Whether backward is user code (a {@link CustomOp}): it may keep the gradient it is given or
     * return one it holds, so backward never takes over such a gradient's storage.
     */
    boolean userCode;
    /**
     * For a view op (select, slice, narrow): its input's gradient is zero except for this window
     * of the input's contiguous layout, where it is the output's gradient. Backward then adds the
     * output's gradient into that window of the gradient it is summing, instead of building a
     * zero tensor of the input's size for every view (a loop over time steps that selects each
     * step of one tensor would otherwise cost steps × its size). Null for other ops.
     */
    Window window;
    /**
     * For a product of two matrices (inputs a, b): backward may take b's gradient aᵀ·dOut as a
     * term to be summed with the other products into b's gradient in one product over all of
     * them (a weight a loop over time steps multiplies by at every step), instead of one product
     * and one sum per use. False for other ops.
     */
    boolean product;
    /** Where the op was created; recorded only in anomaly mode. */
    final Throwable createdAt;
    /**
     * Backwards that retain the graph and are running through this node now (guarded by this
     * node's monitor): a backward that would free it refuses while any is.
     */
    int pins;
    /** Whether a backward that frees the graph has taken this node (guarded by this node's monitor). */
    boolean claimed;

    /** A window (offset and strides within the contiguous layout of shape {@code base}). */
    record Window(int[] base, int offset, int[] strides) {}

    Node(String op, Tensor[] inputs, Tensor[] saved, Backward backward, Throwable createdAt) {
        this.op = op;
        this.inputs = inputs;
        this.saved = saved;
        this.backward = backward;
        this.createdAt = createdAt;
        this.savedVersions = new int[saved.length];
        for (int i = 0; i < saved.length; i++) {
            savedVersions[i] = saved[i].storage.version();
        }
    }

    synchronized boolean isReleased() {
        return backward == null;
    }

    /**
     * Registers a backward about to run through this node: one that frees the graph takes it for
     * itself, one that retains it pins it. Throws, changing nothing, when that conflicts with a
     * backward already under way on another thread, or the node was freed.
     */
    synchronized void enter(boolean frees) {
        if (isReleased()) {
            throw new IllegalStateException("backward: trying to backward through the graph a second time "
                    + "(the saved values of op '" + op + "' were freed by the first backward); "
                    + "pass retainGraph=true to the first backward to backward twice");
        }
        if (claimed || frees && pins > 0) {
            throw new IllegalStateException("backward: another thread's backward is running through op '" + op
                    + "' and " + (claimed ? "will free" : "retains") + " the graph; backward through a shared graph "
                    + "from several threads at once only with retainGraph=true in all of them");
        }
        if (frees) {
            claimed = true;
        } else {
            pins++;
        }
    }

    /** Undoes {@link #enter}: after a retaining backward, or a freeing one that did not free this node. */
    synchronized void leave(boolean frees) {
        if (frees) {
            claimed = false;
        } else {
            pins--;
        }
    }

    /** Frees what backward needed (synchronized: another thread's {@link #enter} then sees it freed). */
    synchronized void release() {
        inputs = null;
        saved = null;
        savedVersions = null;
        backward = null;
    }

    /** Throws if a saved tensor was changed in place after this op saved it. */
    void checkSavedVersions() {
        for (int i = 0; i < saved.length; i++) {
            Tensor t = saved[i];
            if (t.storage.isReleased()) {
                throw new IllegalStateException("one of the tensors needed for gradient computation ("
                        + Shapes.str(t.shape) + " " + t.dtype() + ", saved by '" + op + "') has given its memory back "
                        + "(a closed Batch, or Tensor.releaseArray()): close a batch after its backward, not before");
            }
            if (t.storage.version() != savedVersions[i]) {
                String what = t.gradFn != null ? "output of '" + t.gradFn.op + "'" : "a leaf tensor";
                throw new IllegalStateException("one of the tensors needed for gradient computation has been "
                        + "modified by an in-place operation: " + Shapes.str(t.shape) + " " + t.dtype() + ", " + what
                        + ", saved by '" + op + "', is at version " + t.storage.version() + "; expected version "
                        + savedVersions[i]);
            }
        }
    }
}
