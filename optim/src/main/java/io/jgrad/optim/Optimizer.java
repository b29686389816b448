package io.jgrad.optim;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Autograd;
import io.jgrad.core.DType;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Updates parameters from their gradients, in place and outside the graph. Parameters come in
 * groups, each with its own hyperparameters {@code O} (for example no weight decay on biases);
 * the learning rate of each group can be changed by a schedule.
 *
 * <p>Per-parameter state (momentum buffers, moment estimates, step counts) lives in tensors
 * allocated on the first step; later steps allocate nothing. {@link #stateDict()} exports it
 * (with the current learning rates) under names {@code state.<index>.<buffer>} and
 * {@code group.<g>.lr}, so that training resumes bit-exactly after {@link #loadStateDict}.
 *
 * <p>Not thread-safe: call {@code step} and {@code zeroGrad} from one thread, after every
 * backward that contributes to the gradients has returned; the parameters must not be used by
 * another thread during a step (it updates them in place).
 *
 * @param <O> the hyperparameter record of the optimizer
 */
public abstract class Optimizer<O extends Optimizer.Hyperparameters> {
    /** What every optimizer's options have: the initial learning rate of a group. */
    public interface Hyperparameters {
        /** The learning rate a group starts with (schedules change it later). */
        double lr();
    }

    /** Parameters sharing one set of hyperparameters. */
    public record Group<O extends Hyperparameters>(List<Parameter> params, O options) {
        /** Copies the parameter list; checks it is non-empty. */
        public Group {
            checkArgument(params != null && !params.isEmpty(), "Optimizer: a parameter group needs parameters");
            params = List.copyOf(params);
        }
    }

    private final List<Group<O>> groups;
    private final double[] lrs;
    private final List<Parameter> all = new ArrayList<>();
    private final List<Map<String, Tensor>> state = new ArrayList<>();
    private final IdentityHashMap<Parameter, Integer> index = new IdentityHashMap<>();

    /** An optimizer over {@code groups} (non-empty; a parameter may appear in one group only). */
    protected Optimizer(List<Group<O>> groups) {
        checkArgument(!groups.isEmpty(), "%s: no parameter groups", getClass().getSimpleName());
        this.groups = List.copyOf(groups);
        this.lrs = new double[groups.size()];
        for (int g = 0; g < groups.size(); g++) {
            lrs[g] = groups.get(g).options().lr();
            for (Parameter p : groups.get(g).params()) {
                checkArgument(index.put(p, all.size()) == null, "%s: a parameter appears in more than one group",
                        getClass().getSimpleName());
                all.add(p);
                state.add(new LinkedHashMap<>());
            }
        }
    }

    /** One parameter's update, with its group's options and current learning rate; runs under no-grad. */
    protected abstract void update(Parameter p, Tensor grad, O options, double lr, Map<String, Tensor> state);

    /** Updates every parameter that has a gradient; parameters without one are skipped (as in PyTorch). */
    public void step() {
        try (var s = Autograd.noGrad()) {
            for (int g = 0; g < groups.size(); g++) {
                Group<O> group = groups.get(g);
                for (Parameter p : group.params()) {
                    if (p.grad() != null) {
                        update(p, p.grad(), group.options(), lrs[g], state.get(index.get(p)));
                    }
                }
            }
        }
    }

    /** Resets the gradients of every parameter (zeroed in place, see {@link Tensor#zeroGrad()}). */
    public void zeroGrad() {
        for (Parameter p : all) {
            p.zeroGrad();
        }
    }

    /** Number of parameter groups. */
    public int groupCount() {
        return groups.size();
    }

    /** The groups, in order. */
    public List<Group<O>> groups() {
        return groups;
    }

    /** Current learning rate of group {@code g}. */
    public double learningRate(int g) {
        return lrs[g];
    }

    /** Sets the learning rate of group {@code g} (schedules call this). */
    public void setLearningRate(int g, double lr) {
        checkArgument(lr >= 0 && Double.isFinite(lr), "%s: learning rate must be finite and >= 0, got %s",
                getClass().getSimpleName(), lr);
        lrs[g] = lr;
    }

    /** A state tensor of {@code p} (zeros of p's shape on first use). */
    protected static Tensor buffer(Map<String, Tensor> state, String name, Parameter p) {
        Tensor t = state.get(name);
        if (t == null) {
            t = Tensor.zeros(p.dtype(), p.shape().toArray());
            state.put(name, t);
        }
        return t;
    }

    /**
     * Increments and returns the step count kept in {@code state} as a 0-d INT64 tensor (so it is
     * saved with the rest); updated in place through its storage, so counting allocates nothing.
     */
    protected static long nextStep(Map<String, Tensor> state) {
        Tensor step = state.get("step");
        if (step == null) {
            step = Tensor.zeros(DType.INT64);
            state.put("step", step);
        }
        long next = (long) step.item() + 1;
        step.fill(next);
        return next;
    }

    /** The gradient with coupled weight decay, grad + λ·p, in a scratch buffer (grad itself when λ is 0). */
    protected static Tensor withWeightDecay(Map<String, Tensor> state, Parameter p, Tensor grad, double lambda) {
        return lambda == 0 ? grad : scratch(state, p).copyFrom(grad).addInPlace(p, lambda);
    }

    /** A working buffer that is not saved (names starting with '~' are scratch). */
    protected static Tensor scratch(Map<String, Tensor> state, Parameter p) {
        return buffer(state, "~scratch", p);
    }

    /** Per-parameter state and learning rates, as copies: {@code state.<i>.<name>}, {@code group.<g>.lr}. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < all.size(); i++) {
            for (Map.Entry<String, Tensor> e : state.get(i).entrySet()) {
                if (!e.getKey().startsWith("~")) {
                    out.put("state." + i + "." + e.getKey(), e.getValue().clone().detach());
                }
            }
        }
        for (int g = 0; g < lrs.length; g++) {
            out.put("group." + g + ".lr", Tensor.scalar(DType.FLOAT64, lrs[g]));
        }
        return out;
    }

    /**
     * Restores a {@link #stateDict()} of an optimizer over the same parameters. Every entry is
     * checked (names, indices, shapes, dtypes) before anything changes; all problems are
     * reported at once.
     */
    public void loadStateDict(Map<String, Tensor> saved) {
        List<String> problems = new ArrayList<>();
        Map<Integer, Map<String, Tensor>> incoming = new HashMap<>();
        double[] newLrs = lrs.clone();
        TreeSet<String> seenGroups = new TreeSet<>();
        for (Map.Entry<String, Tensor> e : saved.entrySet()) {
            String[] parts = e.getKey().split("\\.", 3);
            Tensor t = e.getValue();
            try {
                if (parts.length == 3 && parts[0].equals("group") && parts[2].equals("lr")) {
                    int g = Integer.parseInt(parts[1]);
                    if (g < 0 || g >= lrs.length || t.numel() != 1) {
                        problems.add("bad entry " + e.getKey());
                    } else {
                        newLrs[g] = t.item();
                        seenGroups.add(parts[1]);
                    }
                } else if (parts.length == 3 && parts[0].equals("state")) {
                    int i = Integer.parseInt(parts[1]);
                    if (i < 0 || i >= all.size()) {
                        problems.add("state for parameter " + i + " but the optimizer has " + all.size());
                    } else if (!parts[2].equals("step") && (!t.shape().equals(all.get(i).shape())
                            || t.dtype() != all.get(i).dtype())) {
                        problems.add(e.getKey() + " has shape " + t.shape() + " " + t.dtype() + ", parameter " + i
                                + " is " + all.get(i).shape() + " " + all.get(i).dtype());
                    } else {
                        incoming.computeIfAbsent(i, k -> new LinkedHashMap<>()).put(parts[2], t.clone().detach());
                    }
                } else {
                    problems.add("unexpected key " + e.getKey());
                }
            } catch (NumberFormatException ex) {
                problems.add("unexpected key " + e.getKey());
            }
        }
        if (seenGroups.size() != lrs.length) {
            problems.add("learning rates for " + seenGroups.size() + " groups, the optimizer has " + lrs.length);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Error(s) in loading " + getClass().getSimpleName() + " state:\n\t"
                    + String.join("\n\t", problems));
        }
        System.arraycopy(newLrs, 0, lrs, 0, lrs.length);
        for (int i = 0; i < all.size(); i++) {
            state.get(i).clear();
            Map<String, Tensor> s = incoming.get(i);
            if (s != null) {
                state.get(i).putAll(s);
            }
        }
    }

    /** One group holding all of {@code params}. */
    protected static <O extends Hyperparameters> List<Group<O>> single(List<Parameter> params, O options) {
        return List.of(new Group<>(params, options));
    }

    static void check(String opt, boolean ok, String what, double value) {
        checkArgument(ok, "%s: %s, got %s", opt, what, value);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + Arrays.toString(lrs);
    }
}
