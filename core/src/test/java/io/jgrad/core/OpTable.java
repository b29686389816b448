package io.jgrad.core;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The one table that drives the op tests: every differentiable op with the input domains it
 * needs (kept away from kinks) and the shape sets it is checked on (size-1, broadcast, scalar).
 */
final class OpTable {
    /** Where an input's values are drawn from. */
    enum Domain {
        /** |x| in [0.2, 2], either sign: away from 0, where relu/abs/sign kink. */
        ANY,
        /** [0.3, 2]: for log, sqrt, fractional powers. */
        POSITIVE,
        /** Fixed: the tensor given with the sample (indices, masks). */
        FIXED
    }

    /** One input: a shape and a domain, or a fixed tensor. */
    record In(int[] shape, Domain domain, Tensor fixed) {
        static In any(int... shape) {
            return new In(shape, Domain.ANY, null);
        }

        static In pos(int... shape) {
            return new In(shape, Domain.POSITIVE, null);
        }

        static In fixed(Tensor t) {
            return new In(t.shape, Domain.FIXED, t);
        }
    }

    /** An op under test and the input sets it is checked on. */
    record Op(String name, Function<List<Tensor>, Tensor> fn, List<List<In>> samples) {}

    private static final int[][] UNARY_SHAPES = {{3, 4}, {1}, {}, {2, 1, 3}};
    private static final int[][][] BINARY_SHAPES = {{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}},
        {{}, {2, 3}}, {{2, 3}, {}}, {{1}, {1}}};

    private OpTable() {}

    static List<Op> all() {
        List<Op> ops = new ArrayList<>();
        unary(ops, "neg", Domain.ANY, Tensor::neg);
        unary(ops, "exp", Domain.ANY, Tensor::exp);
        unary(ops, "log", Domain.POSITIVE, Tensor::log);
        unary(ops, "log1p", Domain.POSITIVE, Tensor::log1p);
        unary(ops, "sqrt", Domain.POSITIVE, Tensor::sqrt);
        unary(ops, "reciprocal", Domain.ANY, Tensor::reciprocal);
        unary(ops, "abs", Domain.ANY, Tensor::abs);
        unary(ops, "tanh", Domain.ANY, Tensor::tanh);
        unary(ops, "sigmoid", Domain.ANY, Tensor::sigmoid);
        unary(ops, "relu", Domain.ANY, Tensor::relu);
        unary(ops, "sin", Domain.ANY, Tensor::sin);
        unary(ops, "cos", Domain.ANY, Tensor::cos);
        unary(ops, "erf", Domain.ANY, Tensor::erf);
        unary(ops, "square", Domain.ANY, Tensor::square);
        unary(ops, "pow(2.5)", Domain.POSITIVE, x -> x.pow(2.5));
        unary(ops, "pow(-1.5)", Domain.POSITIVE, x -> x.pow(-1.5));
        unary(ops, "pow(3)", Domain.ANY, x -> x.pow(3));
        unary(ops, "pow(0)", Domain.ANY, x -> x.pow(0));
        unary(ops, "clamp(-0.5,0.7)", Domain.ANY, x -> x.clamp(-0.5, 0.7));
        unary(ops, "add(1.5)", Domain.ANY, x -> x.add(1.5));
        unary(ops, "sub(0.5)", Domain.ANY, x -> x.sub(0.5));
        unary(ops, "mul(-2)", Domain.ANY, x -> x.mul(-2));
        unary(ops, "div(3)", Domain.ANY, x -> x.div(3));
        unary(ops, "clone", Domain.ANY, Tensor::clone);
        unary(ops, "sum()", Domain.ANY, Tensor::sum);
        unary(ops, "mean()", Domain.ANY, Tensor::mean);
        unary(ops, "max()", Domain.ANY, Tensor::max);
        unary(ops, "min()", Domain.ANY, Tensor::min);
        unary(ops, "flatten", Domain.ANY, Tensor::flatten);
        unary(ops, "squeeze()", Domain.ANY, Tensor::squeeze);
        unary(ops, "unsqueeze(0)", Domain.ANY, x -> x.unsqueeze(0));

        binary(ops, "add", Domain.ANY, Tensor::add);
        binary(ops, "sub", Domain.ANY, Tensor::sub);
        binary(ops, "mul", Domain.ANY, Tensor::mul);
        binary(ops, "div", Domain.ANY, Tensor::div);
        binary(ops, "maximum", Domain.ANY, Tensor::maximum);
        binary(ops, "minimum", Domain.ANY, Tensor::minimum);
        binary(ops, "atan2", Domain.ANY, Tensor::atan2);
        ops.add(new Op("same tensor twice: x * x", xs -> xs.get(0).mul(xs.get(0)),
                List.of(List.of(In.any(3, 4)), List.of(In.any(1)), List.of(In.any()))));
        ops.add(new Op("same tensor twice: x @ x", xs -> xs.get(0).matmul(xs.get(0)),
                List.of(List.of(In.any(3, 3)), List.of(In.any(1, 1)), List.of(In.any(2, 2, 2)))));
        ops.add(new Op("where", xs -> Tensor.where(xs.get(0), xs.get(1), xs.get(2)), List.of(
                List.of(In.fixed(Tensor.of(new double[] {1, 0, 1, 0})), In.any(3, 4), In.any(3, 1)),
                List.of(In.fixed(Tensor.of(new double[] {1, 0}, 2, 1)), In.any(), In.any(2, 3)))));

        int[][] reduceShapes = {{3, 4}, {2, 3, 4}, {1, 4}};
        reduce(ops, "sum(0)", reduceShapes, x -> x.sum(0));
        reduce(ops, "sum(1, keepDim)", reduceShapes, x -> x.sum(1, true));
        reduce(ops, "sum(-1)", reduceShapes, x -> x.sum(-1));
        reduce(ops, "sum({0, -1}, keepDim)", reduceShapes, x -> x.sum(new int[] {0, -1}, true));
        reduce(ops, "mean(1)", reduceShapes, x -> x.mean(1));
        reduce(ops, "mean({0, 1})", reduceShapes, x -> x.mean(new int[] {0, 1}, false));
        reduce(ops, "var()", new int[][] {{3, 4}, {2, 3, 4}, {1, 2}}, Tensor::var);
        reduce(ops, "var(1)", reduceShapes, x -> x.var(1));
        reduce(ops, "var(0, biased, keepDim)", reduceShapes, x -> x.var(0, false, true));
        reduce(ops, "std(1)", reduceShapes, x -> x.std(1, true, false));
        reduce(ops, "max(1).values", reduceShapes, x -> x.max(1, false).values());
        reduce(ops, "min(0, keepDim).values", reduceShapes, x -> x.min(0, true).values());
        reduce(ops, "logsumexp(1)", reduceShapes, x -> x.logsumexp(1));
        reduce(ops, "logsumexp(0, keepDim)", reduceShapes, x -> x.logsumexp(0, true));
        reduce(ops, "softmax(1)", reduceShapes, x -> x.softmax(1));
        reduce(ops, "softmax(0)", reduceShapes, x -> x.softmax(0));
        reduce(ops, "logSoftmax(-1)", reduceShapes, x -> x.logSoftmax(-1));
        reduce(ops, "logSoftmax(0)", reduceShapes, x -> x.logSoftmax(0));
        reduce(ops, "sumTo([1, 4])", new int[][] {{3, 4}, {2, 3, 4}, {1, 4}, {2, 1, 4}}, x -> x.sumTo(1, 4));

        ops.add(new Op("matmul", xs -> xs.get(0).matmul(xs.get(1)), List.of(
                List.of(In.any(3, 4), In.any(4, 5)),
                List.of(In.any(2, 3, 4), In.any(4, 2)),
                List.of(In.any(2, 1, 3, 4), In.any(3, 4, 2)),
                List.of(In.any(4), In.any(4, 3)),
                List.of(In.any(3, 4), In.any(4)),
                List.of(In.any(4), In.any(4)),
                List.of(In.any(1, 1), In.any(1, 1)))));
        ops.add(new Op("matmul of transposed views", xs -> xs.get(0).t().matmul(xs.get(1).t()),
                List.of(List.of(In.any(4, 3), In.any(5, 4)), List.of(In.any(1, 3), In.any(2, 1)),
                        List.of(In.any(1, 1), In.any(1, 1)))));

        // each shape op on an ordinary shape, one with size-1 dims and, where the op takes it, a scalar
        shape(ops, "reshape(2, -1)", x -> x.reshape(2, -1), new int[] {3, 4}, new int[] {2, 1, 1}, new int[] {2});
        shape(ops, "reshape(1, 1)", x -> x.reshape(1, 1), new int[] {}, new int[] {1}, new int[] {1, 1, 1});
        shape(ops, "transpose(0, 2)", x -> x.transpose(0, 2), new int[] {2, 3, 4}, new int[] {1, 3, 1},
                new int[] {4, 1, 2, 2});
        shape(ops, "transpose then reshape", x -> x.t().reshape(-1), new int[] {3, 4}, new int[] {1, 4},
                new int[] {1, 1});
        shape(ops, "permute(2, 0, 1)", x -> x.permute(2, 0, 1), new int[] {2, 3, 4}, new int[] {1, 1, 3});
        shape(ops, "flatten(1, 2)", x -> x.flatten(1, 2), new int[] {2, 3, 4}, new int[] {1, 1, 1},
                new int[] {2, 1, 3, 2});
        shape(ops, "squeeze(1)", x -> x.squeeze(1), new int[] {3, 1, 2}, new int[] {1, 1, 1}, new int[] {2, 3});
        shape(ops, "expand(2, 3, 4)", x -> x.expand(2, 3, 4), new int[] {3, 1}, new int[] {1}, new int[] {},
                new int[] {1, 3, 1});
        shape(ops, "expand then mul", x -> x.expand(3, 4).mul(x.expand(3, 4)), new int[] {1, 4}, new int[] {1, 1},
                new int[] {});
        shape(ops, "narrow(1, 1, 2)", x -> x.narrow(1, 1, 2), new int[] {3, 4}, new int[] {1, 3}, new int[] {2, 3, 5});
        shape(ops, "slice(1, 0, 4, 2)", x -> x.slice(1, 0, 4, 2), new int[] {3, 4}, new int[] {1, 4},
                new int[] {2, 5, 2});
        shape(ops, "select(1, -1)", x -> x.select(1, -1), new int[] {2, 4, 3}, new int[] {1, 1}, new int[] {3, 2});
        shape(ops, "narrow of transpose", x -> x.t().narrow(0, 1, 2).mul(2), new int[] {3, 4}, new int[] {1, 3});
        shape(ops, "contiguous of transpose", x -> x.t().contiguous(), new int[] {3, 4}, new int[] {1, 4},
                new int[] {1, 1});
        ops.add(new Op("cat(1)", xs -> Tensor.cat(List.of(xs.get(0), xs.get(1), xs.get(2)), 1),
                List.of(List.of(In.any(3, 4), In.any(3, 1), In.any(3, 2)),
                        List.of(In.any(1, 1), In.any(1, 2), In.any(1, 1)),
                        List.of(In.any(2, 1, 3), In.any(2, 2, 3), In.any(2, 1, 3)))));
        ops.add(new Op("cat(0) of vectors", xs -> Tensor.cat(List.of(xs.get(0), xs.get(1)), 0),
                List.of(List.of(In.any(3), In.any(1)), List.of(In.any(1), In.any(1)))));
        ops.add(new Op("stack(0)", xs -> Tensor.stack(List.of(xs.get(0), xs.get(1)), 0),
                List.of(List.of(In.any(3, 4), In.any(3, 4)), List.of(In.any(), In.any()),
                        List.of(In.any(1), In.any(1)))));

        // the pieces of split and chunk, each scaled by its position, joined again: values, order and gradients
        ops.add(new Op("split(2, 1)", xs -> weighted(xs.get(0).split(2, 1), 1),
                List.of(List.of(In.any(3, 5)), List.of(In.any(2, 2)), List.of(In.any(1, 1)))));
        ops.add(new Op("split({1, 3, 0}, 0)", xs -> weighted(xs.get(0).split(new int[] {1, 3, 0}, 0), 0),
                List.of(List.of(In.any(4, 2)), List.of(In.any(4)))));
        ops.add(new Op("chunk(3, -1)", xs -> weighted(xs.get(0).chunk(3, -1), -1),
                List.of(List.of(In.any(2, 7)), List.of(In.any(3, 2)), List.of(In.any(1, 6)))));
        ops.add(new Op("bmm", xs -> xs.get(0).bmm(xs.get(1)),
                List.of(List.of(In.any(2, 3, 4), In.any(2, 4, 5)), List.of(In.any(1, 1, 1), In.any(1, 1, 2)))));
        ops.add(new Op("mm", xs -> xs.get(0).mm(xs.get(1)), List.of(List.of(In.any(3, 2), In.any(2, 4)))));
        ops.add(new Op("dot", xs -> xs.get(0).dot(xs.get(1)), List.of(List.of(In.any(5), In.any(5)))));
        ops.add(new Op("maskedFill", xs -> xs.get(0).maskedFill(xs.get(1), -3.5), List.of(
                List.of(In.any(3, 4), In.fixed(Tensor.of(new double[] {1, 0, 0, 1}))),
                List.of(In.any(2, 3), In.fixed(Tensor.of(new long[] {0, 1}, 2, 1))))));
        shape(ops, "view(-1, 2)", x -> x.view(-1, 2), new int[] {3, 4}, new int[] {2, 1});
        ops.add(new Op("einsum(ij,jk->ik)", xs -> Tensor.einsum("ij,jk->ik", xs.get(0), xs.get(1)),
                List.of(List.of(In.any(3, 2), In.any(2, 4)), List.of(In.any(1, 1), In.any(1, 3)))));
        ops.add(new Op("einsum(bhqd,bhkd->bhqk)", xs -> Tensor.einsum("bhqd,bhkd->bhqk", xs.get(0), xs.get(1)),
                List.of(List.of(In.any(2, 2, 3, 4), In.any(2, 2, 5, 4)))));
        ops.add(new Op("einsum(i,j->ij)", xs -> Tensor.einsum("i,j->ij", xs.get(0), xs.get(1)),
                List.of(List.of(In.any(3), In.any(4)))));
        ops.add(new Op("einsum(ij,jk,kl->il)", xs -> Tensor.einsum("ij,jk,kl->il", xs.get(0), xs.get(1), xs.get(2)),
                List.of(List.of(In.any(2, 3), In.any(3, 4), In.any(4, 2)))));
        ops.add(new Op("einsum(ijk->kj), a sum and a transpose", xs -> Tensor.einsum("ijk->kj", xs.get(0)),
                List.of(List.of(In.any(2, 3, 4)))));
        ops.add(new Op("einsum(bi,bi->b), elementwise then summed", xs -> Tensor.einsum("bi,bi->b", xs.get(0), xs.get(1)),
                List.of(List.of(In.any(3, 4), In.any(3, 4)))));
        ops.add(new Op("einsum(ij,ij) implicit: a full contraction", xs -> Tensor.einsum("ij,ij", xs.get(0), xs.get(1)),
                List.of(List.of(In.any(3, 4), In.any(3, 4)))));
        reduce(ops, "cumsum(1)", new int[][] {{3, 4}, {2, 3, 4}, {1, 4}}, x -> x.cumsum(1));
        reduce(ops, "cumsum(-1)", new int[][] {{3, 4}, {5}, {2, 1, 3}}, x -> x.cumsum(-1));
        shape(ops, "repeat(2, 3)", x -> x.repeat(2, 3), new int[] {3, 4}, new int[] {1, 1}, new int[] {4});
        shape(ops, "repeat(2, 1, 2)", x -> x.repeat(2, 1, 2), new int[] {2, 3}, new int[] {1, 2, 1});
        reduce(ops, "norm()", new int[][] {{3, 4}, {5}, {2, 1, 3}}, Tensor::norm);
        reduce(ops, "norm(3, {1})", new int[][] {{3, 4}, {2, 3, 4}}, x -> x.norm(3, new int[] {1}, false));
        reduce(ops, "norm(1, {0}, keepDim)", new int[][] {{3, 4}, {2, 3}}, x -> x.norm(1, new int[] {0}, true));
        reduce(ops, "norm(inf, {1})", new int[][] {{3, 4}, {2, 3, 4}}, x -> x.norm(Double.POSITIVE_INFINITY,
                new int[] {1}, false));
        reduce(ops, "sort(1).values", new int[][] {{3, 4}, {2, 3, 4}, {1, 4}}, x -> x.sort(1, false).values());
        reduce(ops, "sort(0, descending).values", new int[][] {{3, 4}, {5}}, x -> x.sort(0, true).values());
        reduce(ops, "topk(2, 1).values", new int[][] {{3, 4}, {2, 3, 4}}, x -> x.topk(2, 1, true).values());
        reduce(ops, "topk(1, 0, smallest).values", new int[][] {{3, 4}, {5}}, x -> x.topk(1, 0, false).values());

        Tensor rows = Tensor.of(new long[] {2, 0, 2});
        Tensor cols = Tensor.of(new long[] {0, 3, 1, 1, 2, 0}, 3, 2);
        Tensor zeros = Tensor.of(new long[] {0, 0});
        Tensor twice = Tensor.of(new long[] {3, 1, 3});
        Tensor cols1 = Tensor.of(new long[] {0, 2}, 2, 1);
        ops.add(new Op("indexSelect(0)", xs -> xs.get(0).indexSelect(0, xs.get(1)),
                List.of(List.of(In.any(3, 4), In.fixed(rows)), List.of(In.any(1, 4), In.fixed(zeros)),
                        List.of(In.any(4), In.fixed(twice)))));
        ops.add(new Op("indexAdd(0)", xs -> xs.get(0).indexAdd(0, xs.get(1), xs.get(2)),
                List.of(List.of(In.any(3, 4), In.fixed(rows), In.any(3, 4)),
                        List.of(In.any(1, 2), In.fixed(zeros), In.any(2, 2)),
                        List.of(In.any(4), In.fixed(twice), In.any(3)))));
        ops.add(new Op("gather(1)", xs -> xs.get(0).gather(1, xs.get(1)),
                List.of(List.of(In.any(3, 4), In.fixed(cols)), List.of(In.any(2, 3), In.fixed(cols1)))));
        ops.add(new Op("scatterAdd(1)", xs -> xs.get(0).scatterAdd(1, xs.get(1), xs.get(2)),
                List.of(List.of(In.any(3, 4), In.fixed(cols), In.any(3, 2)),
                        List.of(In.any(2, 3), In.fixed(cols1), In.any(2, 1)))));
        ops.add(new Op("im2col", xs -> xs.get(0).im2col(Window2d.square(3, 2, 1, 1)),
                List.of(List.of(In.any(2, 2, 5, 4)), List.of(In.any(1, 1, 3, 3)), List.of(In.any(1, 1, 1, 1)))));
        ops.add(new Op("im2col dilated", xs -> xs.get(0).im2col(new Window2d(2, 3, 1, 2, 0, 1, 2, 1)),
                List.of(List.of(In.any(1, 2, 5, 6)))));
        ops.add(new Op("col2im", xs -> xs.get(0).col2im(new int[] {1, 2, 4, 4}, Window2d.square(2, 1, 0, 1)),
                List.of(List.of(In.any(1, 9, 8)))));
        ops.add(new Op("maxPool2d", xs -> xs.get(0).maxPool2d(Window2d.square(2, 2, 0, 1)),
                List.of(List.of(In.any(2, 2, 4, 4)), List.of(In.any(1, 1, 2, 2)), List.of(In.any(1, 3, 5, 5)))));
        ops.add(new Op("maxPool2d overlapping, padded", xs -> xs.get(0).maxPool2d(Window2d.square(3, 1, 1, 1)),
                List.of(List.of(In.any(1, 2, 5, 4)))));
        ops.add(new Op("conv2d", xs -> xs.get(0).conv2d(xs.get(1), xs.get(2), Window2d.square(3, 2, 1, 1)),
                List.of(List.of(In.any(2, 2, 5, 4), In.any(3, 2, 3, 3), In.any(3)),
                        List.of(In.any(1, 1, 1, 1), In.any(1, 1, 3, 3), In.any(1)))));
        ops.add(new Op("conv2d dilated, no bias", xs -> xs.get(0).conv2d(xs.get(1), null,
                new Window2d(2, 3, 1, 2, 0, 1, 2, 1)), List.of(List.of(In.any(1, 2, 5, 6), In.any(2, 2, 2, 3)))));
        ops.add(new Op("conv2d 1x1", xs -> xs.get(0).conv2d(xs.get(1), xs.get(2), Window2d.square(1, 1, 0, 1)),
                List.of(List.of(In.any(1, 3, 2, 2), In.any(2, 3, 1, 1), In.any(2)))));
        ops.add(new Op("custom op (cube)", xs -> new Cube().apply(xs.get(0)),
                List.of(List.of(In.any(3, 4)), List.of(In.any()))));
        return ops;
    }

    /** The pieces joined along {@code dim}, piece i multiplied by i + 1 (so a piece out of place changes the result). */
    static Tensor weighted(List<Tensor> parts, int dim) {
        List<Tensor> scaled = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            scaled.add(parts.get(i).mul(i + 1));
        }
        return Tensor.cat(scaled, dim);
    }

    private static void unary(List<Op> ops, String name, Domain d, Function<Tensor, Tensor> f) {
        List<List<In>> samples = new ArrayList<>();
        for (int[] s : UNARY_SHAPES) {
            samples.add(List.of(new In(s, d, null)));
        }
        ops.add(new Op(name, xs -> f.apply(xs.get(0)), samples));
    }

    private static void binary(List<Op> ops, String name, Domain d, java.util.function.BinaryOperator<Tensor> f) {
        List<List<In>> samples = new ArrayList<>();
        for (int[][] s : BINARY_SHAPES) {
            samples.add(List.of(new In(s[0], Domain.ANY, null), new In(s[1], d, null)));
        }
        ops.add(new Op(name, xs -> f.apply(xs.get(0), xs.get(1)), samples));
    }

    private static void reduce(List<Op> ops, String name, int[][] shapes, Function<Tensor, Tensor> f) {
        List<List<In>> samples = new ArrayList<>();
        for (int[] s : shapes) {
            samples.add(List.of(In.any(s)));
        }
        ops.add(new Op(name, xs -> f.apply(xs.get(0)), samples));
    }

    private static void shape(List<Op> ops, String name, Function<Tensor, Tensor> f, int[]... shapes) {
        List<List<In>> samples = new ArrayList<>();
        for (int[] s : shapes) {
            samples.add(List.of(In.any(s)));
        }
        ops.add(new Op(name, xs -> f.apply(xs.get(0)), samples));
    }

    /** Materialises a sample's inputs as FLOAT64 leaves requiring grad (fixed ones as given). */
    static Tensor[] inputs(List<In> sample, long seed) {
        Generator rng = Generator.seeded(seed);
        Tensor[] xs = new Tensor[sample.size()];
        for (int i = 0; i < xs.length; i++) {
            In in = sample.get(i);
            if (in.domain() == Domain.FIXED) {
                xs[i] = in.fixed();
                continue;
            }
            double[] values = new double[Math.toIntExact(Shape.of(in.shape()).numel())];
            for (int k = 0; k < values.length; k++) {
                double mag = 0.2 + 1.8 * rng.nextDouble();
                values[k] = in.domain() == Domain.POSITIVE ? 0.3 + 1.7 * rng.nextDouble()
                        : (rng.nextDouble() < 0.5 ? -mag : mag);
            }
            xs[i] = Tensor.of(values, in.shape()).requiresGrad(true);
        }
        return xs;
    }

    /** x³ as a user-defined op: the README's custom-op example. */
    static final class Cube extends CustomOp {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            ctx.saveForBackward(in[0]);
            return in[0].mul(in[0]).mul(in[0]);
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor dOut) {
            Tensor x = ctx.saved().get(0);
            return new Tensor[] {dOut.mul(x.mul(x)).mul(3)};
        }
    }
}
