package io.jgrad.core.cpu;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.Storage;
import io.jgrad.core.backend.View;

/** What the CPU kernels need of views: their arrays, fresh outputs, contiguous copies. */
final class Views {
    private Views() {}

    /** The array storage behind {@code v}. */
    static ArrayStorage st(View v) {
        return st(v.storage());
    }

    /** {@code s} as an array storage, or an exception naming the backend that made it. */
    static ArrayStorage st(Storage s) {
        if (s instanceof ArrayStorage a) {
            return a;
        }
        throw new IllegalArgumentException("the CPU backend cannot read a storage of the " + s.backend().name()
                + " backend; move the tensor first");
    }

    /** A fresh zero-filled contiguous view of {@code shape}. */
    static View empty(ScalarType type, int[] shape) {
        return View.of(ArrayStorage.allocate(type, View.prod(shape, 0, shape.length)), shape);
    }

    /** A fresh contiguous view of {@code shape} with undefined contents, for a kernel that writes every element. */
    static View uninitialized(ScalarType type, int[] shape) {
        return View.of(ArrayStorage.uninitialized(type, View.prod(shape, 0, shape.length)), shape);
    }

    /** {@code v} if contiguous, else a contiguous copy. */
    static View contiguous(View v) {
        return v.isContiguous() ? v : copy(v);
    }

    /** A fresh contiguous copy of {@code v}. */
    static View copy(View v) {
        View out = uninitialized(v.type(), v.shape());
        Elementwise.copy(v, out);
        return out;
    }

    /** The number of elements of {@code shape}. */
    static int numel(int[] shape) {
        return View.prod(shape, 0, shape.length);
    }

    /** {@code a} without element {@code index}. */
    static int[] copyWithout(int[] a, int index) {
        int[] out = new int[a.length - 1];
        System.arraycopy(a, 0, out, 0, index);
        System.arraycopy(a, index + 1, out, index, a.length - index - 1);
        return out;
    }

    /** {@code a} with {@code value} inserted at {@code index}. */
    static int[] copyWith(int[] a, int index, int value) {
        int[] out = new int[a.length + 1];
        System.arraycopy(a, 0, out, 0, index);
        out[index] = value;
        System.arraycopy(a, index, out, index + 1, a.length - index);
        return out;
    }

    /** The elements of {@code v} in row-major order as longs, only to be read: its own array when it has one. */
    static long[] longs(View v) {
        ArrayStorage s = st(v);
        if (v.type() == ScalarType.INT64 && v.offset() == 0 && v.numel() == s.length() && v.isContiguous()) {
            return s.l;
        }
        return toLongArray(v);
    }

    /** The elements of {@code v} in row-major order as longs, in a new array. */
    static long[] toLongArray(View v) {
        View out = empty(ScalarType.INT64, v.shape());
        Elementwise.copy(v, out);
        return st(out).l;
    }

    /** The elements of {@code v} in row-major order as doubles, in a new array. */
    static double[] toDoubleArray(View v) {
        View out = empty(ScalarType.FLOAT64, v.shape());
        Elementwise.copy(v, out);
        return st(out).d;
    }

    /** The elements of {@code v} in row-major order as floats, in a new array. */
    static float[] toFloatArray(View v) {
        View out = empty(ScalarType.FLOAT32, v.shape());
        Elementwise.copy(v, out);
        return st(out).f();
    }

    /** A new contiguous view of {@code shape} and {@code type} holding {@code values} (converted). */
    static View of(double[] values, ScalarType type, int[] shape) {
        View out = empty(type, shape);
        Elementwise.copy(View.of(ArrayStorage.wrap(CpuBackend.INSTANCE, values), shape), out);
        return out;
    }

    /** The transpose of a matrix view. */
    static View t(View m) {
        return new View(m.storage(), m.offset(), new int[] {m.shape()[1], m.shape()[0]},
                new int[] {m.strides()[1], m.strides()[0]});
    }

    /** The view with another shape and strides over the same storage. */
    static View with(View v, int offset, int[] shape, int[] strides) {
        return new View(v.storage(), offset, shape, strides);
    }
}
