package io.jgrad.data;

/** Random access to examples, fetched as whole batches (so conversion to tensors happens once per batch). */
public interface Dataset {
    /** Number of examples. */
    int size();

    /** The examples at {@code indices}, in that order, as one batch. */
    Batch batch(int[] indices);

    /** A view of the examples at {@code indices} (for train/validation splits). */
    default Dataset subset(int[] indices) {
        Dataset base = this;
        int[] own = indices.clone();
        for (int i : own) {
            if (i < 0 || i >= base.size()) {
                throw new IndexOutOfBoundsException("subset: index " + i + " out of range [0, " + base.size() + ")");
            }
        }
        return new Dataset() {
            @Override
            public int size() {
                return own.length;
            }

            @Override
            public Batch batch(int[] idx) {
                int[] mapped = new int[idx.length];
                for (int k = 0; k < idx.length; k++) {
                    mapped[k] = own[idx[k]];
                }
                return base.batch(mapped);
            }
        };
    }

    /**
     * Splits into a shuffled training part and a validation part holding {@code validationFraction}
     * of the examples, with a seeded permutation: [train, validation].
     */
    default Dataset[] split(double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("split: validation fraction must be in [0, 1], got " + validationFraction);
        }
        int[] perm = DataLoader.permutation(size(), io.jgrad.core.Generator.seeded(seed));
        int nVal = (int) Math.round(size() * validationFraction);
        return new Dataset[] {subset(java.util.Arrays.copyOfRange(perm, nVal, perm.length)),
            subset(java.util.Arrays.copyOfRange(perm, 0, nVal))};
    }
}
