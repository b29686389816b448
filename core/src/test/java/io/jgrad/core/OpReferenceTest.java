package io.jgrad.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.jgrad.core.cpu.BlasBackends;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Forward results (and a few gradient conventions) compared with PyTorch's on the same inputs:
 * {@code reference/ops.txt}, written by {@code reference/make_reference.py} with Debian's
 * python3-torch. Cases named {@code grad:...} compare d(sum(out * upstream))/d(first input).
 */
class OpReferenceTest {
    private static final Map<String, Function<List<Tensor>, Tensor>> OPS = new LinkedHashMap<>();

    static {
        OPS.put("neg", x -> x.get(0).neg());
        OPS.put("add_broadcast", x -> x.get(0).add(x.get(1)));
        OPS.put("sub_broadcast", x -> x.get(0).sub(x.get(1)));
        OPS.put("mul_broadcast", x -> x.get(0).mul(x.get(1)));
        OPS.put("div", x -> x.get(0).div(x.get(1)));
        OPS.put("pow_2_5", x -> x.get(0).pow(2.5));
        OPS.put("pow_neg_1_5", x -> x.get(0).pow(-1.5));
        OPS.put("exp", x -> x.get(0).exp());
        OPS.put("log", x -> x.get(0).log());
        OPS.put("log1p", x -> x.get(0).log1p());
        OPS.put("sqrt", x -> x.get(0).sqrt());
        OPS.put("abs", x -> x.get(0).abs());
        OPS.put("tanh", x -> x.get(0).tanh());
        OPS.put("sigmoid", x -> x.get(0).sigmoid());
        OPS.put("relu", x -> x.get(0).relu());
        OPS.put("clamp", x -> x.get(0).clamp(-0.5, 0.7));
        OPS.put("maximum", x -> x.get(0).maximum(x.get(1)));
        OPS.put("minimum", x -> x.get(0).minimum(x.get(1)));
        OPS.put("atan2_broadcast", x -> x.get(0).atan2(x.get(1)));
        OPS.put("grad:atan2", x -> x.get(0).atan2(x.get(1)));
        OPS.put("sin", x -> x.get(0).sin());
        OPS.put("cos", x -> x.get(0).cos());
        OPS.put("sum_all", x -> x.get(0).sum());
        OPS.put("sum_dim0", x -> x.get(0).sum(0));
        OPS.put("sum_dim1_keep", x -> x.get(0).sum(1, true));
        OPS.put("mean_dim_neg1", x -> x.get(0).mean(-1));
        OPS.put("var_all", x -> x.get(0).var());
        OPS.put("var_dim0", x -> x.get(0).var(0));
        OPS.put("var_dim1_biased_keep", x -> x.get(0).var(1, false, true));
        OPS.put("max_dim1_values", x -> x.get(0).max(1, false).values());
        OPS.put("max_dim1_indices", x -> x.get(0).max(1, false).indices());
        OPS.put("min_dim0_values", x -> x.get(0).min(0, false).values());
        OPS.put("argmax_dim0", x -> x.get(0).argmax(0));
        OPS.put("logsumexp_dim1", x -> x.get(0).logsumexp(1));
        OPS.put("logsumexp_big", x -> x.get(0).logsumexp(0));
        OPS.put("softmax_dim1", x -> x.get(0).softmax(1));
        OPS.put("softmax_dim0", x -> x.get(0).softmax(0));
        OPS.put("log_softmax_dim1", x -> x.get(0).logSoftmax(1));
        OPS.put("matmul_2d", x -> x.get(0).matmul(x.get(1)));
        OPS.put("matmul_batched_broadcast", x -> x.get(0).matmul(x.get(1)));
        OPS.put("matmul_matrix_vector", x -> x.get(0).matmul(x.get(1)));
        OPS.put("matmul_vector_matrix", x -> x.get(0).matmul(x.get(1)));
        OPS.put("matmul_vector_vector", x -> x.get(0).matmul(x.get(1)));
        OPS.put("transpose_contiguous", x -> x.get(0).transpose(0, 2).contiguous());
        OPS.put("permute_contiguous", x -> x.get(0).permute(2, 0, 1).contiguous());
        OPS.put("narrow", x -> x.get(0).narrow(1, 1, 2));
        OPS.put("slice_step", x -> x.get(0).slice(1, 0, 4, 2));
        OPS.put("select", x -> x.get(0).select(1, -1));
        OPS.put("index_select", x -> x.get(0).indexSelect(0, x.get(1)));
        OPS.put("gather", x -> x.get(0).gather(1, x.get(1)));
        OPS.put("scatter_add", x -> x.get(0).scatterAdd(1, x.get(1), x.get(2)));
        OPS.put("index_add", x -> x.get(0).indexAdd(0, x.get(1), x.get(2)));
        OPS.put("cat_dim1", x -> Tensor.cat(List.of(x.get(0), x.get(1)), 1));
        OPS.put("stack_dim1", x -> Tensor.stack(List.of(x.get(0), x.get(1)), 1));
        OPS.put("where", x -> Tensor.where(x.get(0), x.get(1), x.get(2)));
        OPS.put("expand_contiguous", x -> x.get(0).expand(2, 3, 4).contiguous());
        OPS.put("one_hot", x -> x.get(0).oneHot(5));
        OPS.put("erf", x -> x.get(0).erf());
        OPS.put("im2col", x -> x.get(0).im2col(Window2d.square(3, 2, 1, 1)));
        OPS.put("im2col_dilated", x -> x.get(0).im2col(new Window2d(2, 3, 1, 1, 0, 0, 2, 1)));
        OPS.put("conv2d", x -> x.get(0).conv2d(x.get(1), x.get(2), Window2d.square(3, 2, 1, 1)));
        OPS.put("conv2d_dilated_nobias", x -> x.get(0).conv2d(x.get(1), null, new Window2d(2, 3, 1, 2, 0, 1, 2, 1)));
        OPS.put("grad:conv2d_input", x -> x.get(0).conv2d(x.get(1), null, Window2d.square(3, 2, 1, 1)));
        OPS.put("grad:conv2d_weight", x -> x.get(1).conv2d(x.get(0), null, Window2d.square(3, 1, 1, 2)));
        OPS.put("grad:relu_at_zero", x -> x.get(0).relu());
        OPS.put("grad:abs_at_zero", x -> x.get(0).abs());
        OPS.put("grad:clamp_at_bounds", x -> x.get(0).clamp(-0.5, 0.5));
        OPS.put("grad:maximum_tie", x -> x.get(0).maximum(x.get(1)));
        OPS.put("grad:logsumexp", x -> x.get(0).logsumexp(1));
        OPS.put("grad:softmax", x -> x.get(0).softmax(1));
        OPS.put("grad:log_softmax", x -> x.get(0).logSoftmax(0));
        OPS.put("grad:max_dim", x -> x.get(0).max(1, false).values());
        OPS.put("grad:var_dim", x -> x.get(0).var(1));
        OPS.put("reciprocal", x -> x.get(0).reciprocal());
        OPS.put("square", x -> x.get(0).square());
        OPS.put("pow_3", x -> x.get(0).pow(3));
        OPS.put("pow_0", x -> x.get(0).pow(0));
        OPS.put("mean_all", x -> x.get(0).mean());
        OPS.put("max_all", x -> x.get(0).max());
        OPS.put("min_all", x -> x.get(0).min());
        OPS.put("std_dim1", x -> x.get(0).std(1, true, false));
        OPS.put("mean_dims01", x -> x.get(0).mean(new int[] {0, 1}, false));
        OPS.put("sum_dims0_neg1_keep", x -> x.get(0).sum(new int[] {0, -1}, true));
        OPS.put("logsumexp_dim0_keep", x -> x.get(0).logsumexp(0, true));
        OPS.put("log_softmax_dim0", x -> x.get(0).logSoftmax(0));
        OPS.put("min_dim0_keep_values", x -> x.get(0).min(0, true).values());
        OPS.put("flatten_1_2", x -> x.get(0).flatten(1, 2));
        OPS.put("transpose_reshape", x -> x.get(0).t().reshape(-1));
        OPS.put("sum_to_1_3", x -> x.get(0).sumTo(1, 3));
        OPS.put("max_pool2d", x -> x.get(0).maxPool2d(Window2d.square(2, 2, 0, 1)));
        OPS.put("max_pool2d_overlapping_padded", x -> x.get(0).maxPool2d(Window2d.square(3, 1, 1, 1)));
        OPS.put("grad:max_pool2d_overlapping_padded", x -> x.get(0).maxPool2d(Window2d.square(3, 1, 1, 1)));
        OPS.put("col2im", x -> x.get(0).col2im(new int[] {1, 2, 4, 4}, Window2d.square(2, 1, 0, 1)));
        OPS.put("conv2d_1x1", x -> x.get(0).conv2d(x.get(1), x.get(2), Window2d.square(1, 1, 0, 1)));
        OPS.put("scalar_add_1_5", x -> x.get(0).add(1.5));
        OPS.put("scalar_sub_0_5", x -> x.get(0).sub(0.5));
        OPS.put("scalar_mul_neg_2", x -> x.get(0).mul(-2));
        OPS.put("scalar_div_3", x -> x.get(0).div(3));
        OPS.put("clone", x -> x.get(0).clone());
        OPS.put("flatten_all", x -> x.get(0).flatten());
        OPS.put("squeeze_all", x -> x.get(0).squeeze());
        OPS.put("squeeze_1_no_op", x -> x.get(0).squeeze(1));
        OPS.put("unsqueeze_0", x -> x.get(0).unsqueeze(0));
        OPS.put("reshape_2_neg1", x -> x.get(0).reshape(2, -1));
        OPS.put("reshape_scalar_1_1", x -> x.get(0).reshape(1, 1));
        OPS.put("expand_then_mul", x -> x.get(0).expand(3, 4).mul(x.get(0).expand(3, 4)));
        OPS.put("narrow_of_transpose", x -> x.get(0).t().narrow(0, 1, 2).mul(2));
        OPS.put("split_2_dim1", x -> OpTable.weighted(x.get(0).split(2, 1), 1));
        OPS.put("split_sizes_dim0", x -> OpTable.weighted(x.get(0).split(new int[] {1, 3, 0}, 0), 0));
        OPS.put("chunk_3_last", x -> OpTable.weighted(x.get(0).chunk(3, -1), -1));
        OPS.put("bmm", x -> x.get(0).bmm(x.get(1)));
        OPS.put("mm", x -> x.get(0).mm(x.get(1)));
        OPS.put("dot", x -> x.get(0).dot(x.get(1)));
        OPS.put("masked_fill", x -> x.get(0).maskedFill(x.get(1), -3.5));
        OPS.put("grad:masked_fill_softmax", x -> x.get(0).maskedFill(x.get(1), Double.NEGATIVE_INFINITY).softmax(-1));
        OPS.put("view_neg1_2", x -> x.get(0).view(-1, 2));
        OPS.put("einsum_matmul", x -> Tensor.einsum("ij,jk->ik", x.get(0), x.get(1)));
        OPS.put("einsum_attention", x -> Tensor.einsum("bhqd,bhkd->bhqk", x.get(0), x.get(1)));
        OPS.put("einsum_outer", x -> Tensor.einsum("i,j->ij", x.get(0), x.get(1)));
        OPS.put("einsum_chain3", x -> Tensor.einsum("ij,jk,kl->il", x.get(0), x.get(1), x.get(2)));
        OPS.put("einsum_sum_transpose", x -> Tensor.einsum("ijk->kj", x.get(0)));
        OPS.put("einsum_implicit_ji", x -> Tensor.einsum("ij,jk", x.get(0), x.get(1)));
        OPS.put("einsum_bilinear", x -> Tensor.einsum("bi,ij,bj->b", x.get(0), x.get(1), x.get(2)));
        OPS.put("grad:einsum_batched", x -> Tensor.einsum("bij,bjk->bik", x.get(0), x.get(1)));
        OPS.put("cumsum_1", x -> x.get(0).cumsum(1));
        OPS.put("cumsum_0_3d", x -> x.get(0).cumsum(0));
        OPS.put("grad:cumsum_1", x -> x.get(0).cumsum(1));
        OPS.put("repeat_2_1_3", x -> x.get(0).repeat(2, 1, 3));
        OPS.put("norm_2", x -> x.get(0).norm());
        OPS.put("norm_3_dim1", x -> x.get(0).norm(3, new int[] {1}, false));
        OPS.put("norm_inf_dim0_keep", x -> x.get(0).norm(Double.POSITIVE_INFINITY, new int[] {0}, true));
        OPS.put("grad:norm_2_dim1", x -> x.get(0).norm(2, new int[] {1}, false));
        OPS.put("sort_1_desc_values", x -> x.get(0).sort(1, true).values());
        OPS.put("sort_0_indices", x -> x.get(0).sort(0, false).indices());
        OPS.put("sort_ties_stable", x -> x.get(0).argsort(0, false));
        OPS.put("grad:sort_values", x -> x.get(0).sort(1, false).values());
        OPS.put("topk_2_dim1_values", x -> x.get(0).topk(2, 1, true).values());
        OPS.put("topk_2_dim1_indices", x -> x.get(0).topk(2, 1, true).indices());
        OPS.put("topk_1_smallest_dim0", x -> x.get(0).topk(1, 0, false).values());
        OPS.put("linspace_m1_2_7", x -> Tensor.linspace(DType.FLOAT64, -1, 2, 7));
        OPS.put("linspace_0_1_1", x -> Tensor.linspace(DType.FLOAT64, 0, 1, 1));
    }

    record Case(String name, List<Tensor> inputs, Tensor expected) {}

    static List<Case> load() throws IOException {
        return ReferenceFile.load(OpReferenceTest.class, "/reference/ops.txt").stream()
                .map(c -> new Case(c.name(), c.all("in"), c.one("out"))).toList();
    }

    @Test
    void everyReferenceCaseHasAnOpAndViceVersa() throws IOException {
        List<String> names = load().stream().map(Case::name).toList();
        assertThat(names).containsExactlyInAnyOrderElementsOf(OPS.keySet());
    }

    /** Every case on every matrix-product backend (the cases with products reach it; the rest must not care). */
    @TestFactory
    List<DynamicContainer> matchesPyTorch() throws IOException {
        List<Case> cases = load();
        List<DynamicContainer> all = new ArrayList<>();
        for (String backend : BlasBackends.names()) {
            List<DynamicTest> tests = new ArrayList<>();
            for (Case c : cases) {
                tests.add(dynamicTest(c.name(), () -> BlasBackends.run(backend, () -> {
                    Tensor actual = c.name().startsWith("grad:") ? gradient(c) : OPS.get(c.name()).apply(c.inputs());
                    assertThat(actual.shape()).isEqualTo(c.expected().shape());
                    assertThat(actual.dtype()).isEqualTo(c.expected().dtype());
                    assertThat(actual.allClose(c.expected(), 1e-12, 1e-12))
                            .as("%s:%nexpected %s%nactual   %s", c.name(), c.expected(), actual).isTrue();
                })));
            }
            all.add(DynamicContainer.dynamicContainer(backend, tests));
        }
        return all;
    }

    private static Tensor gradient(Case c) {
        List<Tensor> in = new ArrayList<>(c.inputs());
        Tensor upstream = in.remove(in.size() - 1);
        Tensor x = in.get(0).requiresGrad(true);
        Tensor out = OPS.get(c.name()).apply(in);
        return Autograd.grad(out.mul(upstream).sum(), x).get(0);
    }
}
