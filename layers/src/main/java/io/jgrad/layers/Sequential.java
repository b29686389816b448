package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.Tensor;
import java.util.Map;

/** Modules applied in order, each to the previous one's output. Positional children are named 0, 1, 2, ... */
public final class Sequential extends Block {
    /** Children named "0", "1", ... in the given order. */
    public Sequential(Block... modules) {
        for (int i = 0; i < modules.length; i++) {
            checkArgument(modules[i] != null, "Sequential: module %s is null", i);
            registerChild(Integer.toString(i), modules[i]);
        }
    }

    /** Children with the given names, in the map's iteration order (use a LinkedHashMap). */
    public Sequential(Map<String, Block> modules) {
        modules.forEach(this::registerChild);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Block m : namedChildren().values()) {
            y = m.forward(y);
        }
        return y;
    }
}
