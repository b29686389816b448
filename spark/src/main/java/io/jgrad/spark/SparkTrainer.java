package io.jgrad.spark;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.core.Parameter;
import io.jgrad.core.Tensor;
import io.jgrad.data.MicroShards;
import io.jgrad.io.CheckpointStore;
import io.jgrad.io.Safetensors;
import io.jgrad.layers.Dropout;
import io.jgrad.optim.Optimizer;
import io.jgrad.train.History;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.spark.Partitioner;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;
import scala.reflect.ClassTag$;

/**
 * Synchronous data-parallel training on Apache Spark whose result does not depend on the number
 * of workers: with the same seed and data, 1, 2 or 4 workers write byte-identical checkpoints,
 * equal to one process training with {@link io.jgrad.train.Trainer} and {@code accumulate(shards)}
 * over {@link io.jgrad.data.DataLoader#microSharded} batches.
 *
 * <pre>{@code
 * SparkTrainer trainer = SparkTrainer.builder(
 *                 () -> new Sequential(new Linear(784, 10, Generator.seeded(0))),
 *                 (scores, y) -> new CrossEntropyLoss().forward(scores, y),
 *                 model -> new Sgd(model.parameters(), Sgd.Options.lr(0.1)))
 *         .workers(2).globalBatch(256).microShards(8).epochs(3).seed(42).classes(10)
 *         .checkpoints("/shared/run1", 100)
 *         .build();
 * SparkTrainer.Result r = trainer.fit(spark.read().parquet("train.parquet"), "features", "label");
 * }</pre>
 *
 * <p><b>How it runs.</b> The examples are numbered (in the order the input gives them) and dealt
 * into {@code microShards} fixed shards ({@link MicroShards}); worker {@code r} holds shards
 * {@code r*S/W .. (r+1)*S/W - 1}. One barrier stage runs one task per worker; the tasks exchange
 * their addresses once through Spark ({@code BarrierTaskContext.allGather}) and then talk over
 * direct TCP ({@link RingAllReduce}). Each step every worker computes the gradient of each of
 * its micro-shards (a mean over the micro-shard, weighted by its share of the global batch);
 * the gradients are summed over all micro-shards in shard order, so the sum has the same bits
 * whatever the worker count, and every replica takes the same optimizer step (no parameter
 * broadcast). Every {@code checksumEvery} steps the replicas compare checksums of their weights.
 *
 * <p>Models whose training changes buffers (BatchNorm's running statistics) are refused: each
 * worker sees only its micro-shards, so the buffers would depend on the worker count. Parameters
 * that do not require gradients are left alone; a trained parameter the loss does not reach is
 * refused.
 *
 * <p><b>What the bit-identity needs.</b> The same jgrad and BLAS backend on every executor; a
 * deterministic model factory (the workers compare the initial weights and refuse to start
 * otherwise); randomness in the forward pass only from {@link Dropout} layers with their own
 * generator, which the workers re-seed from (seed, step, shard) before every micro-shard (a
 * Dropout on the process-wide default generator is refused, since tasks share a JVM);
 * BatchNorm statistics are per micro-shard; the last incomplete batch of an epoch is dropped;
 * the input's order must be the same from run to run (rows are numbered in partition order; a
 * file read on another cluster size may be split otherwise, so give such data an id column and
 * use {@link #fit(Dataset, String, String, String)}). The equality with {@code Trainer}'s
 * accumulation holds for models without Dropout ({@code Trainer} does not re-seed it). Against
 * plain single-process training with the whole global batch in one piece the result differs
 * by rounding only (the sum of S micro-shard means, not one mean).
 *
 * <p><b>Faults.</b> A failed task makes Spark rerun the whole barrier stage (the stage ends in a
 * shuffle so that Spark may retry it); every worker then resumes from the newest checkpoint that
 * loads, which rank 0 writes atomically to {@code checkpoints} (a directory every executor can
 * read: a shared or distributed file system mount), and the final weights equal an
 * uninterrupted run's. A peer that dies or hangs does not hang the others: reads time out after
 * {@code exchangeTimeout}, and a failed task closes its connections at once.
 *
 * <p>Bad input and bad clusters are refused before training starts, with a message naming what
 * is wrong: dynamic allocation on, fewer task slots than workers, shards that are not a multiple
 * of the workers, rows whose features have another length than the first row's (naming the row),
 * non-finite features, labels out of range. A loss or gradient that turns non-finite stops every
 * worker at the same step, and {@code fit} throws {@link NonFiniteException} naming it.
 */
public final class SparkTrainer implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final System.Logger LOG = System.getLogger(SparkTrainer.class.getName());

    /** Builds the model; called once on every worker and on the driver, it must give the same weights every time. */
    @FunctionalInterface
    public interface ModelFactory extends Serializable {
        /** A new model with its initial weights. */
        Block create();
    }

    /** The loss: scores and targets of a micro-shard to a scalar mean over it (plus terms that do not depend on it). */
    @FunctionalInterface
    public interface LossFunction extends Serializable {
        /** The loss of {@code scores} against {@code targets}. */
        Tensor apply(Tensor scores, Tensor targets);
    }

    /**
     * A regularization term R(W) of the model's weights, added to every micro-shard's loss (so
     * that the step minimises L = 1/N Σ L_i + R(W)), e.g. {@code m -> Regularization.l2(1e-4, m)}.
     */
    @FunctionalInterface
    public interface Regularizer extends Serializable {
        /** R(W) of {@code model}, a scalar. */
        Tensor apply(Block model);
    }

    /** Builds the optimizer over a model's parameters; called once on every worker. */
    @FunctionalInterface
    public interface OptimizerFactory extends Serializable {
        /** A new optimizer for {@code model}. */
        Optimizer<?> create(Block model);
    }

    /**
     * What a fit gives: the trained model (built by the factory on the driver, with the final
     * weights), its history (per epoch: {@code loss} and {@code accuracy} on the training batches,
     * {@code lr}, {@code seconds}, {@code samples_per_second}) and the final checkpoint's path
     * (null without a checkpoint directory).
     */
    public record Result(Block model, History history, Path checkpoint) {}

    final ModelFactory modelFactory;
    final LossFunction loss;
    final Regularizer regularizer;
    final OptimizerFactory optimizerFactory;
    final int workers;
    final int globalBatch;
    final int microShards;
    final int epochs;
    final long seed;
    final int classes;
    final int[] exampleShape;
    final String checkpointDir;
    final int checkpointEvery;
    final int checksumEvery;
    final Duration exchangeTimeout;
    final Duration slotWait;
    final long failAtStep;
    final int failRank;

    private SparkTrainer(Builder b) {
        this.modelFactory = b.modelFactory;
        this.loss = b.loss;
        this.regularizer = b.regularizer;
        this.optimizerFactory = b.optimizerFactory;
        this.workers = b.workers;
        this.globalBatch = b.globalBatch;
        this.microShards = b.microShards == 0 ? b.workers : b.microShards;
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.classes = b.classes;
        this.exampleShape = b.exampleShape;
        this.checkpointDir = b.checkpointDir;
        this.checkpointEvery = b.checkpointEvery;
        this.checksumEvery = b.checksumEvery;
        this.exchangeTimeout = b.exchangeTimeout;
        this.slotWait = b.slotWait;
        this.failAtStep = b.failAtStep;
        this.failRank = b.failRank;
        if (microShards % workers != 0) {
            throw new IllegalArgumentException("SparkTrainer: " + microShards + " micro-shards cannot be split evenly "
                    + "over " + workers + " workers (use a multiple of " + workers + ")");
        }
        if (globalBatch % microShards != 0) {
            throw new IllegalArgumentException("SparkTrainer: the global batch " + globalBatch + " is not a multiple "
                    + "of the " + microShards + " micro-shards");
        }
    }

    /** A builder for training the factory's model with {@code loss} and the factory's optimizer. */
    public static Builder builder(ModelFactory model, LossFunction loss, OptimizerFactory optimizer) {
        return new Builder(model, loss, optimizer);
    }

    /** The options of a {@link SparkTrainer}; each setter checks its argument. */
    public static final class Builder {
        private final ModelFactory modelFactory;
        private final LossFunction loss;
        private final OptimizerFactory optimizerFactory;
        private Regularizer regularizer;
        private int workers = 1;
        private int globalBatch = 128;
        private int microShards;
        private int epochs = 1;
        private long seed;
        private int classes;
        private int[] exampleShape;
        private String checkpointDir;
        private int checkpointEvery;
        private int checksumEvery = 100;
        private Duration exchangeTimeout = Duration.ofMinutes(5);
        private Duration slotWait = Duration.ofSeconds(60);
        private long failAtStep;
        private int failRank;

        private Builder(ModelFactory model, LossFunction loss, OptimizerFactory optimizer) {
            this.modelFactory = Objects.requireNonNull(model, "model factory");
            this.loss = Objects.requireNonNull(loss, "loss");
            this.optimizerFactory = Objects.requireNonNull(optimizer, "optimizer factory");
        }

        /** Adds R(W) to the loss of every micro-shard (none by default). */
        public Builder regularization(Regularizer r) {
            this.regularizer = r;
            return this;
        }

        /** Workers (barrier tasks, one task slot each); 1 by default. */
        public Builder workers(int n) {
            require(n >= 1, "workers must be at least 1, got " + n);
            this.workers = n;
            return this;
        }

        /** Examples per optimizer step over all workers; 128 by default. */
        public Builder globalBatch(int n) {
            require(n >= 1, "globalBatch must be at least 1, got " + n);
            this.globalBatch = n;
            return this;
        }

        /**
         * Micro-shards the data and every global batch are split into: a multiple of the workers
         * that divides the global batch; the result depends on it and not on the workers. By
         * default the number of workers, which ties the result to the worker count: set it to
         * compare or change worker counts.
         */
        public Builder microShards(int n) {
            require(n >= 1, "microShards must be at least 1, got " + n);
            this.microShards = n;
            return this;
        }

        /** Epochs in total (a resumed run counts its earlier ones); 1 by default. */
        public Builder epochs(int n) {
            require(n >= 1, "epochs must be at least 1, got " + n);
            this.epochs = n;
            return this;
        }

        /** Seed of the data order and of the dropout masks; 0 by default. */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Number of classes: labels must lie in [0, n) (0, the default: only checked to be >= 0). */
        public Builder classes(int n) {
            require(n >= 0, "classes must be >= 0, got " + n);
            this.classes = n;
            return this;
        }

        /** The shape of one example's input (e.g. 1, 28, 28 for a conv net); by default the flat feature vector. */
        public Builder exampleShape(int... dims) {
            for (int d : dims) {
                require(d >= 1, "exampleShape dims must be positive, got " + java.util.Arrays.toString(dims));
            }
            this.exampleShape = dims.clone();
            return this;
        }

        /**
         * Checkpoints into {@code dir} (a directory every executor can read, rank 0's can write and
         * the driver can read: a shared or distributed file system mount), every {@code everySteps}
         * steps (0: at the end of every epoch only) and at the end; a fit resumes from the newest one
         * that loads. Without it a failed task makes the rerun start from the beginning.
         */
        public Builder checkpoints(String dir, int everySteps) {
            require(everySteps >= 0, "checkpoint interval must be >= 0 steps, got " + everySteps);
            this.checkpointDir = Objects.requireNonNull(dir, "checkpoint dir");
            this.checkpointEvery = everySteps;
            return this;
        }

        /** Compares the replicas' weights every {@code steps} steps (0: never); 100 by default. */
        public Builder checksumEvery(int steps) {
            require(steps >= 0, "checksumEvery must be >= 0, got " + steps);
            this.checksumEvery = steps;
            return this;
        }

        /** How long a worker waits for a peer's data before failing; 5 minutes by default. */
        public Builder exchangeTimeout(Duration d) {
            require(d != null && !d.isNegative() && !d.isZero(), "exchangeTimeout must be positive, got " + d);
            this.exchangeTimeout = d;
            return this;
        }

        /**
         * How long fit waits for enough task slots (executors still registering) before refusing;
         * 60 s by default; not at all in local mode.
         */
        public Builder slotWait(Duration d) {
            require(d != null && !d.isNegative(), "slotWait must be >= 0, got " + d);
            this.slotWait = d;
            return this;
        }

        /** For fault-injection tests: rank {@code rank} fails when it reaches {@code step}, in the stage's first attempt only. */
        Builder failAt(long step, int rank) {
            this.failAtStep = step;
            this.failRank = rank;
            return this;
        }

        /** The trainer; throws {@link IllegalArgumentException} when the shards do not fit the workers or the batch. */
        public SparkTrainer build() {
            return new SparkTrainer(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("SparkTrainer: " + message);
            }
        }
    }

    /** The micro-shard count in use (the workers' count when none was set). */
    public int microShards() {
        return microShards;
    }

    /**
     * Trains on a data frame: {@code featuresCol} an array of numbers or an ML vector
     * ({@code org.apache.spark.ml.linalg.Vector}), {@code labelCol} an integer class index (an
     * integral double is accepted). The rows are used in the frame's order.
     *
     * @throws IllegalArgumentException for a missing column, a wrong column type or a bad row
     */
    public Result fit(Dataset<Row> data, String featuresCol, String labelCol) {
        return fit(examples(data, featuresCol, labelCol));
    }

    /**
     * As {@link #fit(Dataset, String, String)}, with the rows numbered in the order of
     * {@code orderCol} (a unique key) instead of the frame's partition order: a file read on
     * clusters of other sizes may come in other partitions, so give such data an id column to
     * get the same result everywhere.
     */
    public Result fit(Dataset<Row> data, String featuresCol, String labelCol, String orderCol) {
        if (!List.of(data.columns()).contains(orderCol)) {
            throw new IllegalArgumentException("SparkTrainer: no column '" + orderCol + "' in the data (it has "
                    + List.of(data.columns()) + ")");
        }
        return fit(examples(data.orderBy(orderCol), featuresCol, labelCol));
    }

    /** The rows of {@code data} as examples (see {@link #fit(Dataset, String, String)}). */
    public static JavaRDD<Example> examples(Dataset<Row> data, String featuresCol, String labelCol) {
        List<String> columns = List.of(data.columns());
        for (String c : List.of(featuresCol, labelCol)) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException("SparkTrainer: no column '" + c + "' in the data (it has "
                        + columns + ")");
            }
        }
        var schema = data.schema();
        var ft = schema.apply(featuresCol).dataType();
        boolean vector = ft.typeName().toLowerCase(java.util.Locale.ROOT).contains("vector");
        if (!vector && !(ft instanceof org.apache.spark.sql.types.ArrayType a
                && a.elementType() instanceof org.apache.spark.sql.types.NumericType)) {
            throw new IllegalArgumentException("SparkTrainer: column '" + featuresCol + "' is " + ft.simpleString()
                    + "; it must be an array of numbers or an ML vector");
        }
        var lt = schema.apply(labelCol).dataType();
        if (!(lt instanceof org.apache.spark.sql.types.IntegralType) && !(lt instanceof org.apache.spark.sql.types.DoubleType)
                && !(lt instanceof org.apache.spark.sql.types.FloatType)) {
            throw new IllegalArgumentException("SparkTrainer: column '" + labelCol + "' is " + lt.simpleString()
                    + "; it must hold integer class indices");
        }
        return data.select(featuresCol, labelCol).javaRDD().map(new RowToExample(featuresCol, labelCol));
    }

    /** Trains on {@code examples}, in the order they come. */
    public Result fit(JavaRDD<Example> examples) {
        SparkContext sc = examples.context();
        checkCluster(sc);
        // numbered once and kept: the checks and the shuffle to the workers each read it
        JavaPairRDD<Long, Example> indexed = examples.zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            return fit(indexed);
        } finally {
            indexed.unpersist(false);
        }
    }

    private Result fit(JavaPairRDD<Long, Example> indexed) {
        long n = indexed.count();
        if (n == 0) {
            throw new IllegalArgumentException("SparkTrainer: the data has no examples");
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("SparkTrainer: " + n + " examples; at most " + Integer.MAX_VALUE);
        }
        int d = indexed.filter(t -> t._1() == 0).first()._2().features().length;
        int[] shape = exampleShape == null ? new int[] {d} : exampleShape;
        long volume = 1;
        for (int s : shape) {
            volume *= s;
        }
        if (volume != d) {
            throw new IllegalArgumentException("SparkTrainer: exampleShape " + java.util.Arrays.toString(shape)
                    + " holds " + volume + " values, the examples have " + d);
        }
        List<String> bad = indexed.map(new RowCheck(d, classes)).filter(s -> !s.isEmpty()).take(1);
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("SparkTrainer: " + bad.get(0));
        }
        MicroShards shards = new MicroShards((int) n, microShards, globalBatch, seed);
        Block model = modelFactory.create();
        checkModel(model);
        optimizerFactory.create(model); // fails here, on the driver, if it cannot be built
        dryRun(indexed, shards, shape);
        Path dir = checkpointDir == null ? null : Path.of(checkpointDir);
        String config = config();
        String data = Worker.dataFingerprint(shards, shape);
        if (dir != null) {
            checkResumable(dir, config, data, model);
        }
        long token = new SecureRandom().nextLong();
        Worker worker = new Worker(this, shards, shape, config, token);
        RDD<Tuple2<Long, Example>> byWorker = indexed.partitionBy(new ShardPartitioner(workers, microShards)).rdd();
        RDD<Worker.Outcome> out = byWorker.barrier().mapPartitions(worker, false,
                ClassTag$.MODULE$.apply(Worker.Outcome.class));
        // a shuffle after the barrier stage: Spark retries a failed barrier shuffle-map stage, not a result stage
        List<Worker.Outcome> outcomes = out.toJavaRDD().repartition(1).collect();
        for (Worker.Outcome e : outcomes) { // a failure every rank agreed on (no retry would help)
            if (e.error() != null) {
                throw e.nonFinite() ? new NonFiniteException("SparkTrainer: " + e.error())
                        : new IllegalStateException("SparkTrainer: " + e.error());
            }
        }
        if (outcomes.size() != 1) {
            throw new IllegalStateException("SparkTrainer: expected one outcome from rank 0, got " + outcomes.size());
        }
        Worker.Outcome o = outcomes.get(0);
        try {
            Safetensors.Contents c = Safetensors.read(o.state(), "the trained model");
            model.loadStateDict(c.tensors(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        History h;
        try {
            h = new History(History.fromJson(o.historyJson()), o.steps(), null, o.resumedStep());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        h = new History(withTimings(h, o.timings()), h.steps(), null, h.resumedStep());
        return new Result(model, h, o.checkpoint() == null ? null : Path.of(o.checkpoint()));
    }

    private static List<io.jgrad.train.EpochMetrics> withTimings(History h, double[][] timings) {
        List<io.jgrad.train.EpochMetrics> out = new ArrayList<>();
        for (io.jgrad.train.EpochMetrics e : h.epochs()) {
            Map<String, Double> v = new LinkedHashMap<>(e.values());
            for (double[] t : timings) {
                if ((int) t[0] == e.epoch()) {
                    v.put("seconds", t[1]);
                    v.put("samples_per_second", t[2]);
                }
            }
            out.add(new io.jgrad.train.EpochMetrics(e.epoch(), e.step(), v));
        }
        return out;
    }

    /** The options that shape the result, as a checkpoint records them (not the worker count: it does not matter). */
    String config() {
        return "globalBatch=" + globalBatch + ",microShards=" + microShards + ",seed=" + seed + ",exampleShape="
                + (exampleShape == null ? "flat" : java.util.Arrays.toString(exampleShape));
    }

    /**
     * One forward and backward of the first micro-shard on the driver, so that a model or loss that
     * cannot run, a trained parameter that gets no gradient, or running statistics that training
     * changes are refused here with the reason (on the workers they would fail every attempt).
     */
    private void dryRun(JavaPairRDD<Long, Example> indexed, MicroShards shards, int[] shape) {
        int[] pos = shards.positions(0, 0, 0);
        java.util.HashSet<Long> wanted = new java.util.HashSet<>();
        for (int p : pos) {
            wanted.add((long) p * shards.shards());
        }
        Map<Long, Example> rows = new java.util.HashMap<>(indexed.filter(t -> wanted.contains(t._1())).collectAsMap());
        int d = rows.values().iterator().next().features().length;
        float[] xs = new float[pos.length * d];
        long[] ys = new long[pos.length];
        for (int i = 0; i < pos.length; i++) {
            Example e = rows.get((long) pos[i] * shards.shards());
            System.arraycopy(e.features(), 0, xs, i * d, d);
            ys[i] = e.label();
        }
        Block m = modelFactory.create();
        m.train();
        Map<String, double[]> before = new LinkedHashMap<>();
        m.namedBuffers().forEach((k, v) -> before.put(k, v.toDoubleArray()));
        try {
            Tensor l = lossOf(m, m.forward(input(xs, shape, m.parameters().get(0).dtype())), Tensor.of(ys, pos.length));
            if (l.numel() != 1) {
                throw new IllegalArgumentException("the loss gives " + l.shape() + ", not a scalar");
            }
            l.backward();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("SparkTrainer: the model and loss fail on the first micro-shard ("
                    + pos.length + " examples of shape " + java.util.Arrays.toString(shape) + "): " + e.getMessage(), e);
        }
        List<String> unused = new ArrayList<>();
        m.namedParameters().forEach((k, p) -> {
            if (p.requiresGrad() && p.grad() == null) {
                unused.add(k);
            }
        });
        if (!unused.isEmpty()) {
            throw new IllegalArgumentException("SparkTrainer: parameters " + unused + " get no gradient from the loss; "
                    + "freeze them (requiresGrad(false)) or remove them");
        }
        m.namedBuffers().forEach((k, v) -> {
            if (!java.util.Arrays.equals(before.get(k), v.toDoubleArray())) {
                throw new IllegalArgumentException("SparkTrainer: training changes the buffer '" + k + "' (BatchNorm's "
                        + "running statistics): each worker would see only its own micro-shards, so the replicas and "
                        + "the checkpoint would depend on the worker count; not supported yet (LayerNorm has no "
                        + "running statistics)");
            }
        });
    }

    /** A micro-shard's inputs {@code xs} (taken over, not copied) as [b, shape...] in the model's dtype. */
    static Tensor input(float[] xs, int[] shape, DType dtype) {
        int[] xShape = new int[shape.length + 1];
        xShape[0] = xs.length / Math.max(1, Arrays.stream(shape).reduce(1, (a, b) -> a * b));
        System.arraycopy(shape, 0, xShape, 1, shape.length);
        Tensor x = Tensor.wrapArray(xs, xShape);
        return dtype == DType.FLOAT32 ? x : x.to(dtype);
    }

    /** The loss of a micro-shard: the loss function's, plus R(W) when there is a regularizer. */
    Tensor lossOf(Block model, Tensor scores, Tensor targets) {
        Tensor l = loss.apply(scores, targets);
        return regularizer == null ? l : l.add(regularizer.apply(model));
    }

    /** Refuses a configuration barrier stages cannot run under. */
    static void checkConf(SparkConf conf) {
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
            throw new IllegalStateException("SparkTrainer: dynamic allocation is on (spark.dynamicAllocation.enabled"
                    + "=true); barrier stages need a fixed set of executors: turn it off for this application");
        }
    }

    private void checkCluster(SparkContext sc) {
        checkConf(sc.getConf());
        // in local mode the slots are there from the start; a cluster's executors may still be registering
        long deadline = System.nanoTime() + (sc.isLocal() ? 0 : slotWait.toNanos());
        int slots = slots(sc);
        while (slots < workers && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200); // executors may still be registering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slots = slots(sc);
        }
        if (slots < workers) {
            throw new IllegalStateException("SparkTrainer: " + workers + " workers need " + workers + " task slots "
                    + "at once (a barrier stage), the cluster has " + slots + " (master " + sc.master() + "); use "
                    + "fewer workers or more executor cores");
        }
    }

    /** Task slots the cluster offers at once. */
    static int slots(SparkContext sc) {
        try {
            return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
        } catch (RuntimeException | LinkageError e) { // an internal API: fall back to the default parallelism
            int cpus = sc.getConf().getInt("spark.task.cpus", 1);
            return sc.defaultParallelism() / Math.max(1, cpus);
        }
    }

    private void checkModel(Block model) {
        DType dtype = null;
        for (var e : model.namedParameters().entrySet()) {
            DType t = e.getValue().dtype();
            if (t != DType.FLOAT32 && t != DType.FLOAT64) {
                throw new IllegalArgumentException("SparkTrainer: parameter " + e.getKey() + " is " + t
                        + "; parameters must be float32 or float64");
            }
            if (dtype != null && t != dtype) {
                throw new IllegalArgumentException("SparkTrainer: parameter " + e.getKey() + " is " + t + ", others "
                        + dtype + "; convert the model with to(dtype)");
            }
            dtype = t;
        }
        if (dtype == null) {
            throw new IllegalArgumentException("SparkTrainer: the model has no parameters to train");
        }
        model.apply(m -> {
            if (m instanceof Dropout d && d.generator() == Generator.getDefault()) {
                throw new IllegalArgumentException("SparkTrainer: a Dropout draws its masks from the process-wide "
                        + "default generator, which tasks in one executor share; give it its own: new Dropout(p, "
                        + "Generator.seeded(...)) (the workers re-seed it per micro-shard)");
            }
        });
    }

    private static void checkResumable(Path dir, String config, String data, Block fresh) {
        try {
            Files.createDirectories(dir);
            Optional<CheckpointStore.Loaded> l = new CheckpointStore(dir, Worker.STEM, 3).loadLatest();
            if (l.isPresent()) {
                var meta = l.get().contents().metadata();
                String theirs = meta.getOrDefault("config", "");
                if (!theirs.equals(config)) {
                    throw new IllegalArgumentException("SparkTrainer: " + l.get().file() + " was written with other "
                            + "options (" + theirs + "; this run: " + config + "); use another checkpoint directory");
                }
                if (!meta.getOrDefault("data", "").equals(data)) {
                    throw new IllegalArgumentException("SparkTrainer: " + l.get().file() + " was trained on other data ("
                            + meta.get("data") + "; this run: " + data + "); use another checkpoint directory");
                }
                Map<String, Tensor> state = new LinkedHashMap<>();
                l.get().contents().tensors().forEach((k, v) -> {
                    if (k.startsWith("model.")) {
                        state.put(k.substring(6), v);
                    }
                });
                try {
                    fresh.loadStateDict(state, true); // the same layers and shapes as this run's model
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("SparkTrainer: " + l.get().file() + " holds another model: "
                            + e.getMessage(), e);
                }
                LOG.log(System.Logger.Level.INFO, "resuming from {0} (step {1})", l.get().file(), l.get().step());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("SparkTrainer: cannot use the checkpoint directory " + dir, e);
        }
    }

    /** Sends shard {@code i % S} of example {@code i} to worker {@code shard / (S / W)}. */
    static final class ShardPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int workers;
        private final int shards;

        ShardPartitioner(int workers, int shards) {
            this.workers = workers;
            this.shards = shards;
        }

        @Override
        public int numPartitions() {
            return workers;
        }

        @Override
        public int getPartition(Object key) {
            return (int) (((Long) key) % shards) / (shards / workers);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShardPartitioner p && p.workers == workers && p.shards == shards;
        }

        @Override
        public int hashCode() {
            return 31 * workers + shards;
        }
    }

    /** A row's problem ("" when there is none), named by the row's number. */
    static final class RowCheck implements Function<Tuple2<Long, Example>, String> {
        private static final long serialVersionUID = 1L;
        private final int length;
        private final int classes;

        RowCheck(int length, int classes) {
            this.length = length;
            this.classes = classes;
        }

        @Override
        public String call(Tuple2<Long, Example> t) {
            Example e = t._2();
            long row = t._1();
            if (e.features().length != length) {
                return "row " + row + " has " + e.features().length + " features, row 0 has " + length;
            }
            if (e.label() < 0 || (classes > 0 && e.label() >= classes)) {
                return "row " + row + " has label " + e.label() + ", outside [0, " + (classes > 0 ? classes : "∞")
                        + ")";
            }
            float[] f = e.features();
            for (int i = 0; i < f.length; i++) {
                if (!Float.isFinite(f[i])) {
                    return "row " + row + " has feature " + i + " = " + f[i];
                }
            }
            return "";
        }
    }

    /** A data-frame row (features, label) to an {@link Example}. */
    static final class RowToExample implements Function<Row, Example> {
        private static final long serialVersionUID = 1L;
        private final String featuresCol;
        private final String labelCol;

        RowToExample(String featuresCol, String labelCol) {
            this.featuresCol = featuresCol;
            this.labelCol = labelCol;
        }

        @Override
        public Example call(Row r) {
            return new Example(features(r.get(0)), label(r.get(1)));
        }

        private float[] features(Object v) {
            if (v == null) {
                throw new IllegalArgumentException("SparkTrainer: a row has no value in column '" + featuresCol + "'");
            }
            if (v instanceof scala.collection.Seq<?> seq) {
                float[] f = new float[seq.length()];
                for (int i = 0; i < f.length; i++) {
                    Object x = seq.apply(i);
                    if (!(x instanceof Number num)) {
                        throw new IllegalArgumentException("SparkTrainer: column '" + featuresCol + "' holds "
                                + (x == null ? "a null" : x.getClass().getSimpleName()) + " at index " + i
                                + "; it must hold numbers");
                    }
                    f[i] = num.floatValue();
                }
                return f;
            }
            try { // an ML vector (org.apache.spark.ml.linalg.Vector), without depending on spark-mllib
                Object arr = v.getClass().getMethod("toArray").invoke(v);
                if (arr instanceof double[] d) {
                    float[] f = new float[d.length];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) d[i];
                    }
                    return f;
                }
            } catch (ReflectiveOperationException e) {
                // not a vector: the message below
            }
            throw new IllegalArgumentException("SparkTrainer: column '" + featuresCol + "' holds "
                    + v.getClass().getName() + "; it must be an array of numbers or an ML vector");
        }

        private long label(Object v) {
            if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                return ((Number) v).longValue();
            }
            if ((v instanceof Double || v instanceof Float) && ((Number) v).doubleValue() == Math.rint(((Number) v)
                    .doubleValue()) && Math.abs(((Number) v).doubleValue()) < 1e15) {
                return (long) ((Number) v).doubleValue();
            }
            throw new IllegalArgumentException("SparkTrainer: column '" + labelCol + "' holds " + v
                    + (v == null ? "" : " (" + v.getClass().getSimpleName() + ")") + "; it must be an integer class index");
        }
    }
}
