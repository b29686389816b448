package io.jgrad.core.cpu;

import static io.jgrad.core.cpu.Views.st;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;

/**
 * Index kernels: indexSelect / indexAdd along one dim, gather / scatterAdd, oneHot. The caller
 * has checked shapes and types; the kernels check the index values.
 */
final class Indexing {
    private Indexing() {}

    /** The index values, each checked against dim {@code dim} of size {@code bound} (message built on failure only). */
    private static long[] indices(String op, View index, int dim, int bound) {
        long[] idx = Views.longs(index);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= bound) {
                throw new IndexOutOfBoundsException(op + ": index " + idx[i] + " at position " + i
                        + " is out of range [0, " + bound + ") for dim " + dim + " of size " + bound);
            }
        }
        return idx;
    }

    static View indexSelect(View x, int dim, View index) {
        long[] idx = indices("indexSelect", index, dim, x.shape()[dim]);
        View c = Views.contiguous(x);
        int outer = View.prod(c.shape(), 0, dim);
        int k = c.shape()[dim];
        int inner = View.prod(c.shape(), dim + 1, c.shape().length);
        int[] shape = c.shape().clone();
        shape[dim] = idx.length;
        View out = Views.uninitialized(x.type(), shape);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                copyBlock(st(c), c.offset() + (o * k + (int) idx[j]) * inner, st(out),
                        (o * idx.length + j) * inner, inner);
            }
        }
        return out;
    }

    static View indexAdd(View self, int dim, View index, View src) {
        long[] idx = indices("indexAdd", index, dim, self.shape()[dim]);
        View out = Views.copy(self);
        View s = Views.contiguous(src);
        int outer = View.prod(self.shape(), 0, dim);
        int k = self.shape()[dim];
        int inner = View.prod(self.shape(), dim + 1, self.shape().length);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                addBlock(st(s), s.offset() + (o * idx.length + j) * inner, st(out),
                        (o * k + (int) idx[j]) * inner, inner);
            }
        }
        return out;
    }

    static View gather(View x, int dim, View index) {
        long[] idx = indices("gather", index, dim, x.shape()[dim]);
        View out = Views.uninitialized(x.type(), index.shape());
        forEachIndex(index.shape(), dim, x.strides(), out.strides(), (pos, other, unused) -> {
            int at = x.offset() + other + (int) idx[pos] * x.strides()[dim];
            copyBlock(st(x), at, st(out), pos, 1);
        });
        return out;
    }

    static View scatterAdd(View self, int dim, View index, View src) {
        long[] idx = indices("scatterAdd", index, dim, self.shape()[dim]);
        View out = Views.copy(self);
        forEachIndex(index.shape(), dim, out.strides(), src.strides(), (pos, other, at) -> addBlock(st(src),
                src.offset() + at, st(out), other + (int) idx[pos] * out.strides()[dim], 1));
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
        int n = Views.numel(shape);
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

    static View oneHot(View labels, int k, ScalarType dtype) {
        long[] idx = Views.longs(labels);
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= k) {
                throw new IndexOutOfBoundsException("oneHot: class index " + idx[i] + " at position " + i
                        + " is out of range [0, " + k + ")");
            }
        }
        View out = Views.empty(dtype, Views.copyWith(labels.shape(), labels.shape().length, k));
        for (int i = 0; i < idx.length; i++) {
            st(out).set(i * k + (int) idx[i], 1);
        }
        return out;
    }

    private static void copyBlock(ArrayStorage s, int so, ArrayStorage d, int dof, int n) {
        switch (s.type()) {
            case FLOAT32 -> System.arraycopy(s.f(), so, d.f(), dof, n);
            case FLOAT64 -> System.arraycopy(s.d, so, d.d, dof, n);
            case INT64 -> System.arraycopy(s.l, so, d.l, dof, n);
        }
    }

    private static void addBlock(ArrayStorage s, int so, ArrayStorage d, int dof, int n) {
        switch (s.type()) {
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
