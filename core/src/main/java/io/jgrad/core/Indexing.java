package io.jgrad.core;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;

/** Index kernels: indexSelect / indexAdd along one dim, gather / scatterAdd, oneHot. Nothing here records gradients. */
final class Indexing {
    private Indexing() {}

    private static long[] indices(String op, Tensor index, int bound, String what) {
        checkArgument(index.dtype() == DType.INT64, "%s: index must be int64, got %s", op, index.dtype());
        long[] idx = index.toLongArray();
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= bound) {
                throw new IndexOutOfBoundsException(op + ": index " + idx[i] + " at position " + i
                        + " is out of range [0, " + bound + ") for " + what);
            }
        }
        return idx;
    }

    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        checkArgument(index.dim() <= 1, "indexSelect: index must be 1-D, got shape %s", Shapes.str(index.shape));
        long[] idx = indices("indexSelect", index, x.shape[dim], "dim " + dim + " of size " + x.shape[dim]);
        Tensor c = x.contiguousNoGrad();
        int outer = Shapes.prod(c.shape, 0, dim);
        int k = c.shape[dim];
        int inner = Shapes.prod(c.shape, dim + 1, c.shape.length);
        int[] shape = c.shape.clone();
        shape[dim] = idx.length;
        Tensor out = Tensor.empty(x.dtype(), shape);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                copyBlock(c.storage, c.offset + (o * k + (int) idx[j]) * inner, out.storage,
                        (o * idx.length + j) * inner, inner);
            }
        }
        return out;
    }

    static Tensor indexAdd(Tensor self, int dim, Tensor index, Tensor src) {
        checkArgument(index.dim() <= 1, "indexAdd: index must be 1-D, got shape %s", Shapes.str(index.shape));
        long[] idx = indices("indexAdd", index, self.shape[dim], "dim " + dim + " of size " + self.shape[dim]);
        int[] expected = self.shape.clone();
        expected[dim] = idx.length;
        if (!Arrays.equals(expected, src.shape)) {
            throw new ShapeException("indexAdd: source shape " + Shapes.str(src.shape) + " must be "
                    + Shapes.str(expected) + " for self " + Shapes.str(self.shape) + " and " + idx.length + " indices");
        }
        Tensor out = self.contiguousCopyNoGrad();
        Tensor s = src.contiguousNoGrad();
        int outer = Shapes.prod(self.shape, 0, dim);
        int k = self.shape[dim];
        int inner = Shapes.prod(self.shape, dim + 1, self.shape.length);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                addBlock(s.storage, s.offset + (o * idx.length + j) * inner, out.storage,
                        (o * k + (int) idx[j]) * inner, inner);
            }
        }
        return out;
    }

    private static void checkGatherShapes(String op, Tensor x, int dim, Tensor index, Tensor src) {
        if (index.shape.length != x.shape.length) {
            throw new ShapeException(op + ": index rank " + index.shape.length + " must equal input rank "
                    + x.shape.length + " (input " + Shapes.str(x.shape) + ", index " + Shapes.str(index.shape) + ")");
        }
        for (int d = 0; d < x.shape.length; d++) {
            boolean bad = (d != dim && index.shape[d] > x.shape[d]) || (src != null && index.shape[d] > src.shape[d]);
            if (bad) {
                throw new ShapeException(op + ": index " + Shapes.str(index.shape) + " is larger than input "
                        + Shapes.str(x.shape) + (src != null ? " or source " + Shapes.str(src.shape) : "")
                        + " in dim " + d);
            }
        }
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        checkGatherShapes("gather", x, dim, index, null);
        long[] idx = indices("gather", index, x.shape[dim], "dim " + dim + " of size " + x.shape[dim]);
        Tensor out = Tensor.empty(x.dtype(), index.shape);
        forEachIndex(index.shape, dim, x.strides, out.strides, (pos, other, unused) -> {
            int at = x.offset + other + (int) idx[pos] * x.strides[dim];
            copyBlock(x.storage, at, out.storage, pos, 1);
        });
        return out;
    }

    static Tensor scatterAdd(Tensor self, int dim, Tensor index, Tensor src) {
        checkGatherShapes("scatterAdd", self, dim, index, src);
        long[] idx = indices("scatterAdd", index, self.shape[dim], "dim " + dim + " of size " + self.shape[dim]);
        Tensor out = self.contiguousCopyNoGrad();
        forEachIndex(index.shape, dim, out.strides, src.strides, (pos, other, at) -> addBlock(src.storage,
                src.offset + at, out.storage, other + (int) idx[pos] * out.strides[dim], 1));
        return out;
    }

    private interface IndexVisitor {
        /**
         * pos: row-major position in the index tensor; a: offset of its coordinates in a's strides
         * without {@code dim}; b: offset of its coordinates in b's strides, all dims.
         */
        void visit(int pos, int a, int b);
    }

    private static void forEachIndex(int[] shape, int dim, int[] stridesA, int[] stridesB, IndexVisitor v) {
        int n = Shapes.numel(shape);
        int[] idx = new int[shape.length];
        int a = 0;
        int b = 0;
        for (int pos = 0; pos < n; pos++) {
            v.visit(pos, a, b);
            for (int d = shape.length - 1; d >= 0; d--) {
                idx[d]++;
                int sa = d == dim ? 0 : stridesA[d];
                a += sa;
                b += stridesB[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                a -= sa * shape[d];
                b -= stridesB[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    static Tensor oneHot(Tensor labels, int numClasses, DType dtype) {
        checkArgument(labels.dtype() == DType.INT64, "oneHot: class indices must be int64, got %s", labels.dtype());
        long[] idx = labels.toLongArray();
        int k = numClasses;
        if (k == -1) {
            k = (int) Arrays.stream(idx).max().orElse(-1) + 1;
        }
        checkArgument(k >= 0, "oneHot: numClasses must be positive (or -1 to infer), got %s", numClasses);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= k) {
                throw new IndexOutOfBoundsException("oneHot: class index " + idx[i] + " at position " + i
                        + " is out of range [0, " + k + ")");
            }
        }
        Tensor out = Tensor.empty(dtype, Shapes.copyWith(labels.shape, labels.shape.length, k));
        for (int i = 0; i < idx.length; i++) {
            out.storage.set(i * k + (int) idx[i], 1);
        }
        return out;
    }

    private static void copyBlock(Storage s, int so, Storage d, int dof, int n) {
        switch (s.dtype) {
            case FLOAT32 -> System.arraycopy(s.f(), so, d.f(), dof, n);
            case FLOAT64 -> System.arraycopy(s.d, so, d.d, dof, n);
            case INT64 -> System.arraycopy(s.l, so, d.l, dof, n);
        }
    }

    private static void addBlock(Storage s, int so, Storage d, int dof, int n) {
        switch (s.dtype) {
            case FLOAT32 -> {
                float[] dv = d.f();
                float[] sv = s.f();
                for (int i = 0; i < n; i++) {
                    dv[dof + i] += sv[so + i];
                }
            }
            case FLOAT64 -> {
                for (int i = 0; i < n; i++) {
                    d.d[dof + i] += s.d[so + i];
                }
            }
            case INT64 -> {
                for (int i = 0; i < n; i++) {
                    d.l[dof + i] += s.l[so + i];
                }
            }
        }
    }
}
