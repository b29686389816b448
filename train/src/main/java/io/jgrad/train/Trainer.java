package io.jgrad.train;

import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.data.Batch;
import io.jgrad.data.DataLoader;
import io.jgrad.data.Dataset;
import io.jgrad.metrics.Metric;
import io.jgrad.optim.GradClip;
import io.jgrad.optim.LrSchedule;
import io.jgrad.optim.Optimizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The training loop: epochs of minibatch steps (forward, loss, backward, optional gradient
 * clipping, optimizer step), a learning-rate schedule stepped after each epoch, figures per
 * epoch on the training batches and on validation data, and {@link Callback}s at every point
 * (progress, logs, curves, checkpoints with bit-exact resume, early stopping: see the classes
 * of this package).
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder(model, (scores, y) -> loss.forward(scores, y)
 *                 .add(Regularization.l2(1e-4, model)), new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
 *         .epochs(10).validation(testSet)
 *         .callbacks(new ProgressPrinter(System.out), new EarlyStopping("val_loss", 2, 0, true))
 *         .build();
 * History h = trainer.fit(new DataLoader(trainSet, 128, DataLoader.Options.shuffled(0)));
 * }</pre>
 *
 * <p>The loss is any function of the scores and targets that returns a scalar mean over the
 * batch; a regularization term R(W) belongs inside it, as in L = 1/N Σ L_i + R(W). A loss or a
 * gradient that turns NaN or infinite stops the run with a {@link NonFiniteException} naming the
 * epoch, the step and the learning rate, before the optimizer applies it.
 *
 * <p>Reproducible: with a seeded model and loader, a run gives the same bits every time and on
 * any thread count, and a run resumed from a checkpoint continues exactly where it stopped
 * (each epoch's data order is a function of the loader's seed and the epoch). Not thread-safe.
 *
 * <p>Each batch is {@linkplain Batch#close() closed} once its step (or its evaluation) is done,
 * so that a dataset that reuses its batches' memory ({@link io.jgrad.data.ImageDataset}) fills it
 * again instead of allocating new arrays. A model that keeps a batch's inputs past its step (a
 * layer that stores its last input) then fails with {@link IllegalStateException} when it reads
 * them: keep a copy ({@code x.clone()}) instead. Likewise a {@link Dataset} must hand out a new
 * {@code Batch} for every request (as {@code ImageDataset} and {@code TensorDataset} do), not one it
 * caches and returns again.
 */
public final class Trainer {
    private static final System.Logger LOG = System.getLogger(Trainer.class.getName());

    private final Block model;
    private final BiFunction<Tensor, Tensor, Tensor> loss;
    private final Optimizer<?> optimizer;
    private final int epochs;
    private final LrSchedule schedule;
    private final double clipNorm;
    private final int accumulate;
    private final Dataset validation;
    private final List<Supplier<? extends Metric>> metrics;
    private final List<Callback> callbacks;
    private final long stopAfter;
    private final int evalBatchSize;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.epochs = b.epochs;
        this.schedule = b.schedule;
        this.clipNorm = b.clipNorm;
        this.accumulate = b.accumulate;
        this.validation = b.validation;
        this.metrics = List.copyOf(b.metrics);
        this.callbacks = List.copyOf(b.callbacks);
        this.stopAfter = b.stopAfter;
        this.evalBatchSize = b.evalBatchSize;
    }

    /**
     * A builder for training {@code model} with {@code loss} (scores, targets → scalar) and
     * {@code optimizer} (over the model's parameters).
     */
    public static Builder builder(Block model, BiFunction<Tensor, Tensor, Tensor> loss, Optimizer<?> optimizer) {
        return new Builder(model, loss, optimizer);
    }

    /** The options of a {@link Trainer}; each setter checks its argument and returns this builder. */
    public static final class Builder {
        private final Block model;
        private final BiFunction<Tensor, Tensor, Tensor> loss;
        private final Optimizer<?> optimizer;
        private int epochs = 1;
        private LrSchedule schedule;
        private double clipNorm;
        private int accumulate = 1;
        private Dataset validation;
        private final List<Supplier<? extends Metric>> metrics = new ArrayList<>();
        private final List<Callback> callbacks = new ArrayList<>();
        private long stopAfter;
        private int evalBatchSize = 1000;

        private Builder(Block model, BiFunction<Tensor, Tensor, Tensor> loss, Optimizer<?> optimizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.loss = Objects.requireNonNull(loss, "loss");
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        }

        /** Epochs to train in total (a resumed run counts its earlier ones); 1 by default. */
        public Builder epochs(int n) {
            require(n >= 1, "epochs must be at least 1, got " + n);
            this.epochs = n;
            return this;
        }

        /** A learning-rate schedule, stepped after every epoch (and set to the resumed epoch on resume). */
        public Builder schedule(LrSchedule s) {
            this.schedule = s;
            return this;
        }

        /** Clips the gradients' total 2-norm to {@code maxNorm} before each step (0: no clipping, the default). */
        public Builder clipGradNorm(double maxNorm) {
            require(maxNorm >= 0 && Double.isFinite(maxNorm), "clipGradNorm must be finite and >= 0, got " + maxNorm);
            this.clipNorm = maxNorm;
            return this;
        }

        /**
         * Splits every batch into {@code microBatches} parts (of sizes differing by at most one)
         * whose gradients are accumulated, each weighted by its share of the batch, before one
         * step: the update of the whole batch (up to rounding) with the memory of a part. Needs a
         * loss that is a mean over the batch (plus terms that do not depend on it). 1 by default.
         */
        public Builder accumulate(int microBatches) {
            require(microBatches >= 1, "accumulate needs at least 1 micro-batch, got " + microBatches);
            this.accumulate = microBatches;
            return this;
        }

        /** Data evaluated after every epoch ({@code val_loss}, {@code val_accuracy}, {@code val_<metric>}). */
        public Builder validation(Dataset data) {
            this.validation = data;
            return this;
        }

        /** Extra metrics for the validation data, a fresh one per evaluation ({@code ConfusionMatrix::new} style). */
        @SafeVarargs
        public final Builder metrics(Supplier<? extends Metric>... m) {
            metrics.addAll(Arrays.asList(m));
            return this;
        }

        /** Callbacks, called in this order. */
        public Builder callbacks(Callback... c) {
            for (Callback x : c) {
                callbacks.add(Objects.requireNonNull(x, "callback"));
            }
            return this;
        }

        /** Stops after {@code steps} optimizer steps in total (0: no limit), for interrupting on purpose. */
        public Builder stopAfter(long steps) {
            require(steps >= 0, "stopAfter must be >= 0, got " + steps);
            this.stopAfter = steps;
            return this;
        }

        /** Batch size of evaluation passes (1000 by default); results do not depend on it for plain-mean losses. */
        public Builder evalBatchSize(int n) {
            require(n >= 1, "evalBatchSize must be at least 1, got " + n);
            this.evalBatchSize = n;
            return this;
        }

        /** The trainer with these options. */
        public Trainer build() {
            return new Trainer(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("Trainer: " + message);
            }
        }
    }

    /** The model this trainer trains. */
    public Block model() {
        return model;
    }

    /** Its optimizer. */
    public Optimizer<?> optimizer() {
        return optimizer;
    }

    /**
     * Trains on {@code train} until the configured epochs are done, a callback stops the run, or
     * {@code stopAfter} steps are reached; returns the run's history.
     *
     * @throws NonFiniteException when a loss or a gradient turns NaN or infinite (nothing is applied)
     * @throws IOException        from a callback (a checkpoint, a log, a picture)
     */
    public History fit(DataLoader train) throws IOException {
        int perEpoch = train.batchesPerEpoch();
        if (perEpoch == 0) {
            throw new IllegalArgumentException("Trainer: the loader gives no batch per epoch (too few examples for its "
                    + "batch size with dropLast)");
        }
        TrainState s = new TrainState(model, optimizer, epochs, perEpoch);
        for (Callback c : callbacks) {
            c.onTrainStart(s);
        }
        long total = (long) epochs * perEpoch;
        if (s.step() >= total) {
            LOG.log(System.Logger.Level.DEBUG, "the run is already finished: {0} epochs, {1} steps; nothing to train",
                    epochs, total);
        }
        if (schedule != null) {
            schedule.setEpoch((int) (s.step() / perEpoch));
        }
        for (int epoch = (int) (s.step() / perEpoch) + 1; epoch <= epochs && s.stopReason() == null; epoch++) {
            s.startEpoch(epoch);
            model.train();
            for (Callback c : callbacks) {
                c.onEpochStart(s);
            }
            int first = (int) (s.step() - (long) (epoch - 1) * perEpoch);
            if (first == 0) {
                s.resetEpochProgress(); // else a resume restored the sums of the epoch's first part
            }
            double lr = optimizer.learningRate(0);
            long start = System.nanoTime();
            long examples = 0; // in this session's part of the epoch, for its speed
            for (Batch b : train.epoch(epoch - 1, first)) {
                long[] right = new long[1];
                double lv;
                try (b) { // its memory back to the dataset for a later batch
                    lv = step(b, s, right);
                }
                s.addToEpoch(lv, right[0], b.size());
                examples += b.size();
                s.stepDone(lv);
                for (Callback c : callbacks) {
                    c.onStep(s);
                }
                if (stopAfter > 0 && s.step() >= stopAfter) {
                    s.pause("stopped after " + s.step() + " steps as asked");
                }
                if (s.stopReason() != null && !s.atEpochEnd()) {
                    break;
                }
            }
            if (!s.atEpochEnd()) {
                break; // stopped inside the epoch: no figures for a part of one
            }
            double secs = (System.nanoTime() - start) / 1e9;
            double[] sums = s.epochProgress();
            double seen = sums[2];
            Map<String, Double> v = new LinkedHashMap<>();
            v.put("loss", seen == 0 ? Double.NaN : sums[0] / seen);
            if (seen > 0 && sums[1] >= 0) {
                v.put("accuracy", sums[1] / seen);
            }
            if (validation != null) {
                evaluate(validation).forEach((k, x) -> v.put("val_" + k, x));
            }
            v.put("lr", lr);
            v.put("seconds", secs);
            v.put("samples_per_second", examples / secs);
            s.epochDone(new EpochMetrics(epoch, s.step(), v));
            if (schedule != null) {
                schedule.step();
            }
            for (Callback c : callbacks) {
                c.onEpochEnd(s);
            }
        }
        for (Callback c : callbacks) {
            c.onTrainEnd(s);
        }
        return new History(s.history(), s.step(), s.stopReason(), s.resumedStep());
    }

    /** One optimizer step on {@code b}; returns its loss and counts the argmax hits in {@code right[0]} (-1: not classes). */
    private double step(Batch b, TrainState s, long[] right) {
        optimizer.zeroGrad();
        int n = b.size();
        int parts = Math.min(accumulate, n);
        double total = 0;
        for (int i = 0; i < parts; i++) {
            int lo = (int) ((long) i * n / parts);
            int hi = (int) ((long) (i + 1) * n / parts);
            Tensor x = parts == 1 ? b.inputs() : b.inputs().narrow(0, lo, hi - lo);
            Tensor y = parts == 1 ? b.targets() : b.targets().narrow(0, lo, hi - lo);
            Tensor scores = model.forward(x);
            Tensor l = loss.apply(scores, y);
            double lv = l.item();
            if (!Double.isFinite(lv)) {
                throw nonFinite("loss is " + lv, s);
            }
            double share = (double) (hi - lo) / n;
            (parts == 1 ? l : l.mul(share)).backward();
            total += parts == 1 ? lv : lv * share;
            long h = hits(scores, y);
            right[0] = right[0] < 0 || h < 0 ? -1 : right[0] + h;
        }
        for (var p : model.namedParameters().entrySet()) {
            Parameter w = p.getValue();
            if (w.grad() != null && !w.grad().allFinite()) {
                throw nonFinite("gradient of " + p.getKey() + " is not finite", s);
            }
        }
        if (clipNorm > 0) {
            GradClip.clipGradNorm(model.parameters(), clipNorm);
        }
        optimizer.step();
        return total;
    }

    private static long hits(Tensor scores, Tensor y) {
        if (scores.dim() != 2 || y.dtype() != DType.INT64 || y.dim() != 1) {
            return -1; // not a classification: no accuracy
        }
        try (var g = Autograd.noGrad()) {
            return (long) scores.argmax(1).eq(y).sum().item();
        }
    }

    private NonFiniteException nonFinite(String what, TrainState s) {
        long step = s.step() + 1;
        String where = String.format(Locale.ROOT, "%s at epoch %d step %d", what, s.epoch(), step);
        String checkpoint = s.lastCheckpoint() == null ? "" : "; last good checkpoint: " + s.lastCheckpoint();
        return new NonFiniteException(where + checkpoint + "; nothing was applied; a lower learning rate than "
                + optimizer.learningRate(0) + " (or gradient clipping) may help");
    }

    /**
     * The model's figures on {@code data} in eval mode without recording a graph: {@code loss} (the
     * mean over examples of each batch's mean, weighted by batch size: exact for losses that are
     * plain means; for class-weighted or {@code ignoreIndex} losses it depends slightly on the
     * batch size), {@code accuracy} for class targets, and each configured metric by name.
     * The model's training mode is restored afterwards.
     */
    public Map<String, Double> evaluate(Dataset data) {
        boolean training = model.isTraining();
        model.eval();
        List<Metric> ms = new ArrayList<>();
        for (Supplier<? extends Metric> m : metrics) {
            ms.add(m.get());
        }
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        try (var g = Autograd.noGrad()) {
            for (Batch b : new DataLoader(data, evalBatchSize)) {
                try (b) {
                    Tensor scores = model.forward(b.inputs());
                    lossSum += loss.apply(scores, b.targets()).item() * b.size();
                    long h = hits(scores, b.targets());
                    correct = correct < 0 || h < 0 ? -1 : correct + h;
                    seen += b.size();
                    for (Metric m : ms) {
                        m.update(scores, b.targets());
                    }
                }
            }
        } finally {
            if (training) {
                model.train();
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("loss", seen == 0 ? Double.NaN : lossSum / seen);
        if (seen > 0 && correct >= 0) {
            out.put("accuracy", (double) correct / seen);
        }
        for (Metric m : ms) {
            out.put(m.name(), m.value());
        }
        return out;
    }
}
