package io.jgrad.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link Tensor#einsum}: Einstein summation as a composite of the op table's differentiable ops
 * (sum, permute, reshape, batched matmul), so gradients of any order come for free. Operands are
 * contracted left to right; each pairwise contraction becomes one batched product
 * [batch, left, summed] x [batch, summed, right].
 */
final class Einsum {
    private Einsum() {}

    static Tensor of(String equation, Tensor... operands) {
        String eq = equation.replace(" ", "");
        int arrow = eq.indexOf("->");
        String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
        String[] terms = lhs.split(",", -1);
        if (terms.length != operands.length) {
            throw bad(equation, terms.length + " operand terms for " + operands.length + " tensors");
        }
        int[] size = new int[128];
        Arrays.fill(size, -1);
        for (int k = 0; k < terms.length; k++) {
            String s = terms[k];
            if (s.length() != operands[k].dim()) {
                throw bad(equation, "term '" + s + "' has " + s.length() + " indices, operand " + k + " has rank "
                        + operands[k].dim() + " (shape " + operands[k].shape() + ")");
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!Character.isLetter(c) || c >= 128) {
                    throw bad(equation, "'" + c + "' is not an index letter");
                }
                if (s.indexOf(c) != i) {
                    throw bad(equation, "index '" + c + "' repeats within term '" + s + "' (diagonals are not supported)");
                }
                int n = operands[k].size(i);
                if (size[c] >= 0 && size[c] != n) {
                    throw bad(equation, "index '" + c + "' has size " + size[c] + " in one place and " + n
                            + " in another (operand " + k + ")");
                }
                size[c] = n;
            }
        }
        String out;
        if (arrow >= 0) {
            out = eq.substring(arrow + 2);
            for (int i = 0; i < out.length(); i++) {
                char c = out.charAt(i);
                if (c >= 128 || size[c] < 0) {
                    throw bad(equation, "output index '" + c + "' appears in no operand");
                }
                if (out.indexOf(c) != i) {
                    throw bad(equation, "output index '" + c + "' repeats");
                }
            }
        } else { // implicit: the indices that appear once, in alphabetical order
            StringBuilder b = new StringBuilder();
            for (char c = 0; c < 128; c++) {
                if (size[c] >= 0 && lhs.indexOf(c) == lhs.lastIndexOf(c)) {
                    b.append(c);
                }
            }
            out = b.toString();
        }

        StringBuilder rest = new StringBuilder(out);
        for (int j = 1; j < operands.length; j++) {
            rest.append(terms[j]);
        }
        String accIdx = keep(terms[0], rest.toString());
        Tensor acc = sumOut(operands[0], terms[0], accIdx);
        for (int k = 1; k < operands.length; k++) {
            // the indices still needed after this step: the output's and those of the operands not yet used
            StringBuilder later = new StringBuilder(out);
            for (int j = k + 1; j < operands.length; j++) {
                later.append(terms[j]);
            }
            String bIdx = keep(terms[k], later + accIdx);
            Tensor b = sumOut(operands[k], terms[k], bIdx);
            StringBuilder batch = new StringBuilder();
            StringBuilder summed = new StringBuilder();
            StringBuilder left = new StringBuilder();
            StringBuilder right = new StringBuilder();
            for (char c : accIdx.toCharArray()) {
                boolean inB = bIdx.indexOf(c) >= 0;
                boolean kept = later.indexOf(String.valueOf(c)) >= 0;
                (inB ? (kept ? batch : summed) : left).append(c);
            }
            for (char c : bIdx.toCharArray()) {
                if (accIdx.indexOf(c) < 0) {
                    right.append(c);
                }
            }
            acc = contract(acc, accIdx, b, bIdx, batch.toString(), left.toString(), summed.toString(),
                    right.toString(), size);
            accIdx = batch.toString() + left + right;
        }
        int[] perm = new int[out.length()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = accIdx.indexOf(out.charAt(i));
        }
        return isIdentity(perm) ? acc : acc.permute(perm);
    }

    /** The indices of {@code idx} that {@code needed} holds, in {@code idx}'s order. */
    private static String keep(String idx, String needed) {
        StringBuilder k = new StringBuilder();
        for (char c : idx.toCharArray()) {
            if (needed.indexOf(c) >= 0) {
                k.append(c);
            }
        }
        return k.toString();
    }

    /** {@code t} (indexed by {@code idx}) summed over the indices not in {@code keep}. */
    private static Tensor sumOut(Tensor t, String idx, String keep) {
        if (keep.length() == idx.length()) {
            return t;
        }
        List<Integer> dims = new ArrayList<>();
        for (int i = 0; i < idx.length(); i++) {
            if (keep.indexOf(idx.charAt(i)) < 0) {
                dims.add(i);
            }
        }
        return t.sum(dims.stream().mapToInt(Integer::intValue).toArray(), false);
    }

    /** [batch, left, summed] x [batch, summed, right] as one batched product, shaped batch + left + right. */
    private static Tensor contract(Tensor a, String aIdx, Tensor b, String bIdx, String batch, String left,
            String summed, String right, int[] size) {
        if (left.isEmpty() && right.isEmpty() || summed.isEmpty()) {
            // no product to form (an elementwise product, perhaps summed): a broadcast mul, no batched matmul of 1x1s
            String out = batch + left + right;
            Tensor ab = spread(a, aIdx, out, summed, size).mul(spread(b, bIdx, out, summed, size));
            if (summed.isEmpty()) {
                return ab;
            }
            int[] dims = new int[summed.length()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = out.length() + i;
            }
            return ab.sum(dims, false);
        }
        Tensor a3 = arrange(a, aIdx, batch, left, summed, size);
        Tensor b3 = arrange(b, bIdx, batch, summed, right, size);
        Tensor prod = a3.matmul(b3);
        int[] shape = new int[batch.length() + left.length() + right.length()];
        int i = 0;
        for (char c : (batch + left + right).toCharArray()) {
            shape[i++] = size[c];
        }
        return prod.reshape(shape);
    }

    /** {@code t} permuted to {@code out + summed} order, with size-1 dims where it lacks an index (for broadcasting). */
    private static Tensor spread(Tensor t, String idx, String out, String summed, int[] size) {
        String order = out + summed;
        StringBuilder present = new StringBuilder();
        for (char c : order.toCharArray()) {
            if (idx.indexOf(c) >= 0) {
                present.append(c);
            }
        }
        int[] perm = new int[present.length()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = idx.indexOf(present.charAt(i));
        }
        Tensor p = isIdentity(perm) ? t : t.permute(perm);
        int[] shape = new int[order.length()];
        for (int i = 0; i < shape.length; i++) {
            char c = order.charAt(i);
            shape[i] = idx.indexOf(c) >= 0 ? size[c] : 1;
        }
        return p.reshape(shape);
    }

    /** {@code t} permuted to the index groups g1, g2, g3 and reshaped to [|g1|, |g2|, |g3|] (products of sizes). */
    private static Tensor arrange(Tensor t, String idx, String g1, String g2, String g3, int[] size) {
        String order = g1 + g2 + g3;
        int[] perm = new int[order.length()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = idx.indexOf(order.charAt(i));
        }
        Tensor p = isIdentity(perm) ? t : t.permute(perm);
        return p.reshape(volume(g1, size), volume(g2, size), volume(g3, size));
    }

    private static int volume(String group, int[] size) {
        int v = 1;
        for (char c : group.toCharArray()) {
            v = Math.multiplyExact(v, size[c]);
        }
        return v;
    }

    private static boolean isIdentity(int[] perm) {
        for (int i = 0; i < perm.length; i++) {
            if (perm[i] != i) {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException bad(String equation, String why) {
        return new IllegalArgumentException("einsum '" + equation + "': " + why);
    }
}
