package io.jgrad.core.cpu;

import io.jgrad.core.backend.ElementwiseOp;
import java.lang.constant.ConstantDescs;
import java.lang.invoke.MethodHandles;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The template of {@link ChainKernels}: never loaded by name, only defined again and again as a
 * hidden class whose class data (read once into the static finals below) is one fused chain's
 * steps. HotSpot treats static finals as constants, so C2 folds every {@code if} and
 * {@code switch} on them away and compiles each copy to the straight vector loop of its own
 * expression: the elements pass from op to op in registers, where the step-by-step evaluation
 * ({@link Fused}) stores and reloads them between ops.
 *
 * <p>The chain is: v = operand 0 (an array or one value); then for each step k, v = op_k(v) for a
 * unary op, or op_k applied to v and operand k + 1, with v on the left (side 0) or the right
 * (side 1). Ops are {@link ElementwiseOp} ordinals (one of the fusable ops; anything else is relu's backward); operand kinds 1 = array (indexed like the result),
 * 2 = one value. Each element goes through the plain kernels' float operations; tails shorter
 * than a vector are computed one element at a time, the same way.
 */
final class ChainKernel implements ChainKernels.Kernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = SimdKernels.WIDE_DOUBLES ? DoubleVector.SPECIES_512 : DoubleVector.SPECIES_256;
    // the ops' ordinals, as the class data gives them (constants to C2 once this class is initialized)
    private static final int ADD = ElementwiseOp.ADD.ordinal();
    private static final int SUB = ElementwiseOp.SUB.ordinal();
    private static final int MUL = ElementwiseOp.MUL.ordinal();
    private static final int NEG = ElementwiseOp.NEG.ordinal();
    private static final int RELU = ElementwiseOp.RELU.ordinal();
    private static final int ARRAY = 1;

    private static final int STEPS;
    private static final int KIND0;
    private static final int OP1;
    private static final int OP2;
    private static final int OP3;
    private static final int OP4;
    private static final int KIND1;
    private static final int KIND2;
    private static final int KIND3;
    private static final int KIND4;
    private static final int SIDE1;
    private static final int SIDE2;
    private static final int SIDE3;
    private static final int SIDE4;

    static {
        int[] d;
        try {
            d = MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, int[].class);
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
        // the layout ChainKernels.signature writes
        STEPS = d[0];
        KIND0 = d[1];
        OP1 = d[2];
        KIND1 = d[3];
        SIDE1 = d[4];
        OP2 = d[5];
        KIND2 = d[6];
        SIDE2 = d[7];
        OP3 = d[8];
        KIND3 = d[9];
        SIDE3 = d[10];
        OP4 = d[11];
        KIND4 = d[12];
        SIDE4 = d[13];
    }

    /*
     * One method per step, each testing only its own constants, instead of one helper taking the
     * op as an argument: C2 may compile such a helper on its own (where the op is no constant, so
     * every branch stays) and then refuses to inline the large result into the loop, leaving the
     * vectors boxed; and one method holding all four steps is too big (in bytecode) to inline.
     * Both seen in -XX:+PrintInlining, each 5-15x slower. A step compiles, alone or inlined, to
     * its op only. An operand of a unary step is computed and dropped.
     */

    private static FloatVector step1(FloatVector v, float[] a, float s, int i) {
        FloatVector w = KIND1 == ARRAY ? FloatVector.fromArray(F, a, i) : FloatVector.broadcast(F, s);
        return OP1 == ADD ? (SIDE1 == 0 ? v.add(w) : w.add(v))
                : OP1 == SUB ? (SIDE1 == 0 ? v.sub(w) : w.sub(v))
                : OP1 == MUL ? (SIDE1 == 0 ? v.mul(w) : w.mul(v))
                : OP1 == NEG ? v.neg()
                : OP1 == RELU ? v.blend(0f, v.compare(VectorOperators.LE, 0f))
                : SIDE1 == 0 ? v.blend(0f, w.compare(VectorOperators.LE, 0f)) : w.blend(0f, v.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector step2(FloatVector v, float[] a, float s, int i) {
        FloatVector w = KIND2 == ARRAY ? FloatVector.fromArray(F, a, i) : FloatVector.broadcast(F, s);
        return OP2 == ADD ? (SIDE2 == 0 ? v.add(w) : w.add(v))
                : OP2 == SUB ? (SIDE2 == 0 ? v.sub(w) : w.sub(v))
                : OP2 == MUL ? (SIDE2 == 0 ? v.mul(w) : w.mul(v))
                : OP2 == NEG ? v.neg()
                : OP2 == RELU ? v.blend(0f, v.compare(VectorOperators.LE, 0f))
                : SIDE2 == 0 ? v.blend(0f, w.compare(VectorOperators.LE, 0f)) : w.blend(0f, v.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector step3(FloatVector v, float[] a, float s, int i) {
        FloatVector w = KIND3 == ARRAY ? FloatVector.fromArray(F, a, i) : FloatVector.broadcast(F, s);
        return OP3 == ADD ? (SIDE3 == 0 ? v.add(w) : w.add(v))
                : OP3 == SUB ? (SIDE3 == 0 ? v.sub(w) : w.sub(v))
                : OP3 == MUL ? (SIDE3 == 0 ? v.mul(w) : w.mul(v))
                : OP3 == NEG ? v.neg()
                : OP3 == RELU ? v.blend(0f, v.compare(VectorOperators.LE, 0f))
                : SIDE3 == 0 ? v.blend(0f, w.compare(VectorOperators.LE, 0f)) : w.blend(0f, v.compare(VectorOperators.LE, 0f));
    }

    private static FloatVector step4(FloatVector v, float[] a, float s, int i) {
        FloatVector w = KIND4 == ARRAY ? FloatVector.fromArray(F, a, i) : FloatVector.broadcast(F, s);
        return OP4 == ADD ? (SIDE4 == 0 ? v.add(w) : w.add(v))
                : OP4 == SUB ? (SIDE4 == 0 ? v.sub(w) : w.sub(v))
                : OP4 == MUL ? (SIDE4 == 0 ? v.mul(w) : w.mul(v))
                : OP4 == NEG ? v.neg()
                : OP4 == RELU ? v.blend(0f, v.compare(VectorOperators.LE, 0f))
                : SIDE4 == 0 ? v.blend(0f, w.compare(VectorOperators.LE, 0f)) : w.blend(0f, v.compare(VectorOperators.LE, 0f));
    }

    /** Elements [i, i + 8): operand 0, then each step. */
    private static FloatVector eval(float[][] a, float[] s, int i) {
        FloatVector v = KIND0 == ARRAY ? FloatVector.fromArray(F, a[0], i) : FloatVector.broadcast(F, s[0]);
        v = step1(v, a[1], s[1], i);
        if (STEPS > 1) {
            v = step2(v, a[2], s[2], i);
        }
        if (STEPS > 2) {
            v = step3(v, a[3], s[3], i);
        }
        if (STEPS > 3) {
            v = step4(v, a[4], s[4], i);
        }
        return v;
    }

    /** relu's backward for one element: the gradient g, +0 where the input x <= 0. */
    private static float masked(float g, float x) {
        return Float.intBitsToFloat(Float.floatToRawIntBits(g) & Elementwise.reluMask(x));
    }

    private static float step1(float v, float[] a, float s, int i) {
        float w = KIND1 == ARRAY ? a[i] : s;
        return OP1 == ADD ? (SIDE1 == 0 ? v + w : w + v)
                : OP1 == SUB ? (SIDE1 == 0 ? v - w : w - v)
                : OP1 == MUL ? (SIDE1 == 0 ? v * w : w * v)
                : OP1 == NEG ? -v
                : OP1 == RELU ? Math.max(v, 0f)
                : SIDE1 == 0 ? masked(v, w) : masked(w, v);
    }

    private static float step2(float v, float[] a, float s, int i) {
        float w = KIND2 == ARRAY ? a[i] : s;
        return OP2 == ADD ? (SIDE2 == 0 ? v + w : w + v)
                : OP2 == SUB ? (SIDE2 == 0 ? v - w : w - v)
                : OP2 == MUL ? (SIDE2 == 0 ? v * w : w * v)
                : OP2 == NEG ? -v
                : OP2 == RELU ? Math.max(v, 0f)
                : SIDE2 == 0 ? masked(v, w) : masked(w, v);
    }

    private static float step3(float v, float[] a, float s, int i) {
        float w = KIND3 == ARRAY ? a[i] : s;
        return OP3 == ADD ? (SIDE3 == 0 ? v + w : w + v)
                : OP3 == SUB ? (SIDE3 == 0 ? v - w : w - v)
                : OP3 == MUL ? (SIDE3 == 0 ? v * w : w * v)
                : OP3 == NEG ? -v
                : OP3 == RELU ? Math.max(v, 0f)
                : SIDE3 == 0 ? masked(v, w) : masked(w, v);
    }

    private static float step4(float v, float[] a, float s, int i) {
        float w = KIND4 == ARRAY ? a[i] : s;
        return OP4 == ADD ? (SIDE4 == 0 ? v + w : w + v)
                : OP4 == SUB ? (SIDE4 == 0 ? v - w : w - v)
                : OP4 == MUL ? (SIDE4 == 0 ? v * w : w * v)
                : OP4 == NEG ? -v
                : OP4 == RELU ? Math.max(v, 0f)
                : SIDE4 == 0 ? masked(v, w) : masked(w, v);
    }

    /** Element i alone (the tails), with the plain loops' float operations. */
    private static float eval1(float[][] a, float[] s, int i) {
        float v = KIND0 == ARRAY ? a[0][i] : s[0];
        v = step1(v, a[1], s[1], i);
        if (STEPS > 1) {
            v = step2(v, a[2], s[2], i);
        }
        if (STEPS > 2) {
            v = step3(v, a[3], s[3], i);
        }
        if (STEPS > 3) {
            v = step4(v, a[4], s[4], i);
        }
        return v;
    }

    @Override
    public void store(float[][] a, float[] s, float[] out, int from, int to) {
        int i = from;
        for (int end = from + ((to - from) & ~7); i < end; i += 8) {
            eval(a, s, i).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = eval1(a, s, i);
        }
    }

    /** {@link SimdKernels#accumulate}'s sixteen lanes, of the chain's elements. */
    @Override
    public void sum(float[][] a, float[] s, int from, int to, double[] lanes) {
        int i = from;
        int end = from + ((to - from) & ~15);
        if (SimdKernels.WIDE_DOUBLES) {
            DoubleVector lo = DoubleVector.fromArray(D, lanes, 0);
            DoubleVector hi = DoubleVector.fromArray(D, lanes, 8);
            for (; i < end; i += 16) {
                lo = lo.add(eval(a, s, i).convertShape(VectorOperators.F2D, D, 0));
                hi = hi.add(eval(a, s, i + 8).convertShape(VectorOperators.F2D, D, 0));
            }
            lo.intoArray(lanes, 0);
            hi.intoArray(lanes, 8);
        } else {
            DoubleVector l0 = DoubleVector.fromArray(D, lanes, 0);
            DoubleVector l1 = DoubleVector.fromArray(D, lanes, 4);
            DoubleVector l2 = DoubleVector.fromArray(D, lanes, 8);
            DoubleVector l3 = DoubleVector.fromArray(D, lanes, 12);
            for (; i < end; i += 16) {
                FloatVector v = eval(a, s, i);
                FloatVector w = eval(a, s, i + 8);
                l0 = l0.add(v.convertShape(VectorOperators.F2D, D, 0));
                l1 = l1.add(v.convertShape(VectorOperators.F2D, D, 1));
                l2 = l2.add(w.convertShape(VectorOperators.F2D, D, 0));
                l3 = l3.add(w.convertShape(VectorOperators.F2D, D, 1));
            }
            l0.intoArray(lanes, 0);
            l1.intoArray(lanes, 4);
            l2.intoArray(lanes, 8);
            l3.intoArray(lanes, 12);
        }
        for (; i < to; i++) {
            lanes[0] += eval1(a, s, i);
        }
    }

    @Override
    public void addScaled(float[][] a, float[] s, float alpha, float[] out, int outOffset, int from, int to) {
        int i = from;
        for (int end = from + ((to - from) & ~7); i < end; i += 8) {
            FloatVector.fromArray(F, out, outOffset + i).add(eval(a, s, i).mul(alpha)).intoArray(out, outOffset + i);
        }
        for (; i < to; i++) {
            out[outOffset + i] += alpha * eval1(a, s, i);
        }
    }
}
