package io.jgrad.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.data.DataLoader;
import io.jgrad.data.MicroShards;
import io.jgrad.data.TensorDataset;
import io.jgrad.io.Safetensors;
import io.jgrad.layers.Dropout;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Regularization;
import io.jgrad.optim.Adam;
import io.jgrad.optim.Sgd;
import io.jgrad.train.History;
import io.jgrad.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training in Spark's local mode (4 slots, a task may fail 4 times so that a failed barrier stage
 * is retried): bit-identity across worker counts and with single-process accumulation, recovery
 * from a failed task, the data-frame adapter, and the refusals.
 */
class SparkTrainerTest {
    static final int FEATURES = 20;
    static final int CLASSES = 4;
    static SparkSession spark;
    static JavaSparkContext jsc;

    @BeforeAll
    static void start() {
        spark = session("local[4,4]");
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    static SparkSession session(String master) {
        return SparkSession.builder().master(master).appName("jgrad-test").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Gaussian blobs: class c centred at a fixed random point, features float32. */
    static List<Example> blobs(int n, long seed) {
        Generator g = Generator.seeded(seed);
        float[][] centres = new float[CLASSES][FEATURES];
        for (float[] c : centres) {
            for (int i = 0; i < FEATURES; i++) {
                c[i] = (float) g.nextGaussian();
            }
        }
        List<Example> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int c = g.nextInt(CLASSES);
            float[] f = new float[FEATURES];
            for (int i = 0; i < FEATURES; i++) {
                f[i] = centres[c][i] + (float) g.nextGaussian();
            }
            out.add(new Example(f, c));
        }
        return out;
    }

    static TensorDataset dataset(List<Example> data) {
        float[] x = new float[data.size() * FEATURES];
        long[] y = new long[data.size()];
        for (int i = 0; i < data.size(); i++) {
            System.arraycopy(data.get(i).features(), 0, x, i * FEATURES, FEATURES);
            y[i] = data.get(i).label();
        }
        return new TensorDataset(Tensor.of(x, data.size(), FEATURES), Tensor.of(y, data.size()));
    }

    static Block linear() {
        return new Sequential(new Linear(FEATURES, CLASSES, true, Generator.seeded(1)));
    }

    static Block mlp() {
        return new Sequential(new Linear(FEATURES, 32, true, Generator.seeded(2)), new Relu(),
                new Linear(32, CLASSES, true, Generator.seeded(3)));
    }

    static Block mlpWithDropout() {
        return new Sequential(new Linear(FEATURES, 32, true, Generator.seeded(2)), new Relu(),
                new Dropout(0.3, Generator.seeded(9)), new Linear(32, CLASSES, true, Generator.seeded(3)));
    }

    static final SparkTrainer.LossFunction XENT = (s, y) -> new CrossEntropyLoss().forward(s, y);
    static final SparkTrainer.OptimizerFactory SGD = m -> new Sgd(m.parameters(), Sgd.Options.lr(0.1).withMomentum(0.9));
    static final SparkTrainer.OptimizerFactory ADAM = m -> new Adam(m.parameters(), Adam.Options.lr(0.01));

    static SparkTrainer.Builder trainer(SparkTrainer.ModelFactory f, SparkTrainer.OptimizerFactory o, int workers) {
        return SparkTrainer.builder(f, XENT, o).workers(workers).microShards(4).globalBatch(64).seed(5).classes(CLASSES)
                .exchangeTimeout(java.time.Duration.ofSeconds(60)).checksumEvery(5);
    }

    static Map<String, Tensor> state(Block m) {
        return m.stateDict();
    }

    static void assertSameBits(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertThat(a.keySet()).isEqualTo(b.keySet());
        for (String k : a.keySet()) {
            assertThat(a.get(k).toFloatArray()).as(k).isEqualTo(b.get(k).toFloatArray());
        }
    }

    /** 1,280 examples: 20 steps of 64 per epoch in 4 micro-shards of 16. */
    static final List<Example> DATA = blobs(1280, 11);

    private void bitIdentical(SparkTrainer.ModelFactory model, SparkTrainer.OptimizerFactory opt,
            SparkTrainer.Regularizer reg, Path tmp) throws Exception {
        JavaRDD<Example> rdd = jsc.parallelize(DATA, 3);
        byte[] first = null;
        SparkTrainer.Result one = null;
        for (int w : new int[] {1, 2, 4}) {
            Path dir = tmp.resolve("w" + w);
            SparkTrainer.Result r = trainer(model, opt, w).regularization(reg).checkpoints(dir.toString(), 0).build()
                    .fit(rdd);
            assertThat(r.history().steps()).isEqualTo(20);
            byte[] bytes = Files.readAllBytes(r.checkpoint());
            if (first == null) {
                first = bytes;
                one = r;
            } else {
                assertThat(bytes).as("final checkpoint with %d workers", w).isEqualTo(first);
                assertSameBits(state(r.model()), state(one.model()));
                assertThat(r.history().values("loss")).isEqualTo(one.history().values("loss"));
            }
        }
        // the checkpoint holds the returned model's weights
        var c = Safetensors.load(one.checkpoint()).tensors();
        for (var e : state(one.model()).entrySet()) {
            assertThat(c.get("model." + e.getKey()).toFloatArray()).isEqualTo(e.getValue().toFloatArray());
        }

        // one process, the training library's accumulation over the same micro-shards: the same bits
        TensorDataset ds = dataset(DATA);
        Block ref = model.create();
        Trainer acc = Trainer.builder(ref, (sc, y) -> reg == null ? XENT.apply(sc, y) : XENT.apply(sc, y).add(reg.apply(ref)),
                opt.create(ref)).accumulate(4).build();
        History h = acc.fit(DataLoader.microSharded(ds, new MicroShards(DATA.size(), 4, 64, 5)));
        assertSameBits(state(ref), state(one.model()));
        assertThat(h.values("loss")).isEqualTo(one.history().values("loss"));
        assertThat(h.values("accuracy")).isEqualTo(one.history().values("accuracy"));

        // plain training with the whole global batch in one piece: rounding apart, the same
        Block plain = model.create();
        Trainer.builder(plain, (sc, y) -> reg == null ? XENT.apply(sc, y) : XENT.apply(sc, y).add(reg.apply(plain)),
                        opt.create(plain)).build()
                .fit(DataLoader.microSharded(ds, new MicroShards(DATA.size(), 4, 64, 5)));
        for (var e : state(plain).entrySet()) {
            float[] p = e.getValue().toFloatArray();
            float[] q = state(one.model()).get(e.getKey()).toFloatArray();
            double scale = 0;
            for (float v : p) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < p.length; i++) {
                assertThat((double) Math.abs(p[i] - q[i])).as(e.getKey()).isLessThanOrEqualTo(1e-5 * scale);
            }
        }
    }

    @Test
    void linearClassifierIsBitIdenticalOnOneTwoAndFourWorkers(@TempDir Path tmp) throws Exception {
        bitIdentical(SparkTrainerTest::linear, SGD, null, tmp);
    }

    @Test
    void mlpIsBitIdenticalOnOneTwoAndFourWorkers(@TempDir Path tmp) throws Exception {
        bitIdentical(SparkTrainerTest::mlp, ADAM, m -> Regularization.l2(1e-3, m), tmp);
    }

    @Test
    void dropoutMasksDependOnTheShardNotTheWorker(@TempDir Path tmp) throws Exception {
        JavaRDD<Example> rdd = jsc.parallelize(DATA, 2);
        SparkTrainer.Result a = trainer(SparkTrainerTest::mlpWithDropout, SGD, 1).build().fit(rdd);
        for (int w : new int[] {2, 4}) {
            SparkTrainer.Result b = trainer(SparkTrainerTest::mlpWithDropout, SGD, w).build().fit(rdd);
            assertSameBits(state(a.model()), state(b.model()));
        }
        // the masks are drawn: without dropout the result differs
        SparkTrainer.Result none = trainer(SparkTrainerTest::mlp, SGD, 2).build().fit(rdd);
        assertThat(state(none.model()).get("2.weight").toFloatArray())
                .isNotEqualTo(state(a.model()).get("3.weight").toFloatArray());
        SparkTrainer.Result other = trainer(SparkTrainerTest::mlpWithDropout, SGD, 2).seed(6).build().fit(rdd);
        assertThat(state(other.model()).get("3.weight").toFloatArray())
                .isNotEqualTo(state(a.model()).get("3.weight").toFloatArray());
    }

    @Test
    void aFailedTaskIsRerunFromTheNewestCheckpointWithTheSameResult(@TempDir Path tmp) throws Exception {
        JavaRDD<Example> rdd = jsc.parallelize(DATA, 2);
        SparkTrainer.Result clean = trainer(SparkTrainerTest::mlp, SGD, 2).epochs(2)
                .checkpoints(tmp.resolve("clean").toString(), 5).build().fit(rdd);
        SparkTrainer.Result failed = trainer(SparkTrainerTest::mlp, SGD, 2).epochs(2)
                .checkpoints(tmp.resolve("failed").toString(), 5).failAt(28, 1).build().fit(rdd);
        assertThat(failed.history().resumedStep()).isEqualTo(25);
        assertThat(failed.history().steps()).isEqualTo(40);
        assertThat(Files.readAllBytes(failed.checkpoint())).isEqualTo(Files.readAllBytes(clean.checkpoint()));
        assertThat(failed.history().values("loss")).isEqualTo(clean.history().values("loss"));
    }

    @Test
    void dataFramesWithArrayColumnsTrainLikeTheExamples(@TempDir Path tmp) throws Exception {
        List<Row> rows = new ArrayList<>();
        List<Row> doubles = new ArrayList<>();
        for (Example e : DATA) {
            Float[] f = new Float[FEATURES];
            Double[] d = new Double[FEATURES];
            for (int i = 0; i < FEATURES; i++) {
                f[i] = e.features()[i];
                d[i] = (double) e.features()[i];
            }
            rows.add(RowFactory.create(Arrays.asList(f), (int) e.label()));
            doubles.add(RowFactory.create(Arrays.asList(d), (double) e.label()));
        }
        StructType floats = new StructType().add("pixels", DataTypes.createArrayType(DataTypes.FloatType))
                .add("y", DataTypes.IntegerType);
        StructType dbl = new StructType().add("pixels", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("y", DataTypes.DoubleType);
        Dataset<Row> df = spark.createDataFrame(rows, floats);
        // through a Parquet file, as a user's data would come
        Path parquet = tmp.resolve("train.parquet");
        df.write().parquet(parquet.toString());
        Dataset<Row> read = spark.read().parquet(parquet.toString());
        SparkTrainer t = trainer(SparkTrainerTest::linear, SGD, 2).build();
        SparkTrainer.Result fromRdd = t.fit(jsc.parallelize(DATA, 2));
        SparkTrainer.Result fromFrame = t.fit(df, "pixels", "y");
        SparkTrainer.Result fromDoubles = t.fit(spark.createDataFrame(doubles, dbl), "pixels", "y");
        assertSameBits(state(fromFrame.model()), state(fromRdd.model()));
        assertSameBits(state(fromDoubles.model()), state(fromRdd.model()));
        // ML vectors (what Spark ML's VectorAssembler makes), dense and sparse
        List<Row> vectors = new ArrayList<>();
        for (int k = 0; k < DATA.size(); k++) {
            Example e = DATA.get(k);
            double[] v = new double[FEATURES];
            for (int i = 0; i < FEATURES; i++) {
                v[i] = e.features()[i];
            }
            var dense = org.apache.spark.ml.linalg.Vectors.dense(v);
            vectors.add(RowFactory.create(k % 2 == 0 ? dense : dense.toSparse(), (long) e.label()));
        }
        StructType vt = new StructType().add("v", new org.apache.spark.ml.linalg.VectorUDT()).add("y", DataTypes.LongType);
        SparkTrainer.Result fromVectors = t.fit(spark.createDataFrame(vectors, vt), "v", "y");
        assertSameBits(state(fromVectors.model()), state(fromRdd.model()));
        assertThat(SparkTrainer.examples(read, "pixels", "y").count()).isEqualTo(DATA.size());

        assertThatThrownBy(() -> t.fit(df, "features", "y")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no column 'features'").hasMessageContaining("pixels");
        Dataset<Row> strings = spark.createDataFrame(List.of(RowFactory.create("a", 1)),
                new StructType().add("pixels", DataTypes.StringType).add("y", DataTypes.IntegerType));
        assertThatThrownBy(() -> t.fit(strings, "pixels", "y")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("column 'pixels' is string");
        // an id column makes the numbering independent of how the frame is partitioned
        Dataset<Row> withId = df.withColumn("id", org.apache.spark.sql.functions.monotonically_increasing_id());
        SparkTrainer.Result byId = t.fit(withId.repartition(3), "pixels", "y", "id");
        assertSameBits(state(byId.model()), state(fromRdd.model()));
    }

    @Test
    void badRowsAreNamedBeforeTrainingStarts() {
        SparkTrainer t = trainer(SparkTrainerTest::linear, SGD, 2).build();
        List<Example> shortRow = new ArrayList<>(DATA);
        shortRow.set(700, new Example(new float[FEATURES - 1], 0));
        assertThatThrownBy(() -> t.fit(jsc.parallelize(shortRow, 3))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row 700 has 19 features, row 0 has 20");
        List<Example> badLabel = new ArrayList<>(DATA);
        badLabel.set(5, new Example(DATA.get(5).features(), CLASSES));
        assertThatThrownBy(() -> t.fit(jsc.parallelize(badLabel, 3))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row 5 has label 4, outside [0, 4)");
        List<Example> nan = new ArrayList<>(DATA);
        float[] f = DATA.get(9).features().clone();
        f[3] = Float.NaN;
        nan.set(9, new Example(f, 1));
        assertThatThrownBy(() -> t.fit(jsc.parallelize(nan, 3))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("row 9 has feature 3 = NaN");
        assertThatThrownBy(() -> t.fit(jsc.parallelize(DATA.subList(0, 60), 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no full step of 64");
    }

    @Test
    void impossibleSetUpsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> trainer(SparkTrainerTest::linear, SGD, 3).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 micro-shards cannot be split evenly over 3 workers");
        assertThatThrownBy(() -> trainer(SparkTrainerTest::linear, SGD, 2).globalBatch(66).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("66 is not a multiple of the 4");
        assertThatThrownBy(() -> SparkTrainer.builder(SparkTrainerTest::linear, XENT, SGD).workers(8).microShards(8)
                .slotWait(java.time.Duration.ZERO).build().fit(jsc.parallelize(DATA, 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("8 task slots")
                .hasMessageContaining("the cluster has 4");
        assertThatThrownBy(() -> SparkTrainer.checkConf(new SparkConf().set("spark.dynamicAllocation.enabled", "true")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("dynamic allocation is on");
        assertThatThrownBy(() -> trainer(() -> new Sequential(new Linear(FEATURES, CLASSES, true, Generator.seeded(1)),
                new Dropout(0.5)), SGD, 2).build().fit(jsc.parallelize(DATA, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("default generator");
        // a factory that gives other weights each time: the workers refuse to start, and say so (no retries)
        assertThatThrownBy(() -> trainer(() -> new Sequential(new Linear(FEATURES, CLASSES)), SGD, 2).build()
                .fit(jsc.parallelize(DATA, 2))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("other initial weights");
        // running statistics would depend on the worker count
        assertThatThrownBy(() -> trainer(() -> new Sequential(new Linear(FEATURES, CLASSES, true, Generator.seeded(1)),
                new io.jgrad.layers.BatchNorm1d(CLASSES)), SGD, 2).build().fit(jsc.parallelize(DATA, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("running_mean");
        // a trained parameter the loss never reaches
        assertThatThrownBy(() -> trainer(() -> new Sequential(new Linear(FEATURES, CLASSES, true, Generator.seeded(1)),
                new Unused()), SGD, 2).build().fit(jsc.parallelize(DATA, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[1.idle] get no gradient");
        // a loss that does not fit the model fails on the driver, naming the micro-shard
        assertThatThrownBy(() -> SparkTrainer.builder(() -> new Sequential(new Linear(FEATURES, 3, true,
                Generator.seeded(1))), XENT, SGD).workers(2).microShards(4).globalBatch(64).build()
                .fit(jsc.parallelize(DATA, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fail on the first micro-shard (16 examples");
    }

    /** A module with a parameter its forward does not use. */
    static final class Unused extends Block {
        Unused() {
            registerParameter("idle", new io.jgrad.core.Parameter(Tensor.zeros(io.jgrad.core.DType.FLOAT32, 3)));
        }

        @Override
        public Tensor forward(Tensor x) {
            return x;
        }
    }

    /** A model whose forward fails on its n-th call: every rank fails at the same step. */
    static final class FailsLater extends Block {
        private final Block inner = new Linear(FEATURES, CLASSES, true, Generator.seeded(1));
        private final int at;
        private int calls;

        FailsLater(int at) {
            this.at = at;
            registerChild("inner", inner);
        }

        @Override
        public Tensor forward(Tensor x) {
            if (++calls == at) {
                throw new IllegalStateException("forward number " + at + " fails on purpose");
            }
            return inner.forward(x);
        }
    }

    @Test
    void anErrorOnEveryRankStopsTheFitAtOnceWithItsMessage() {
        // 2 workers of 2 micro-shards: each replica's 9th forward is in step 5
        assertThatThrownBy(() -> trainer(() -> new FailsLater(9), SGD, 2).build().fit(jsc.parallelize(DATA, 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed at epoch 1 step 5")
                .hasMessageContaining("forward number 9 fails on purpose");
    }

    @Test
    void frozenParametersAreLeftAlone() {
        SparkTrainer.Result r = trainer(() -> {
            Block m = new Sequential(new Linear(FEATURES, 32, true, Generator.seeded(2)), new Relu(),
                    new Linear(32, CLASSES, true, Generator.seeded(3)));
            m.namedParameters().get("0.weight").requiresGrad(false);
            return m;
        }, ADAM, 2).build().fit(jsc.parallelize(DATA, 2));
        assertThat(r.model().stateDict().get("0.weight").toFloatArray())
                .isEqualTo(new Linear(FEATURES, 32, true, Generator.seeded(2)).stateDict().get("weight").toFloatArray());
        assertThat(r.model().stateDict().get("2.weight").toFloatArray())
                .isNotEqualTo(new Linear(32, CLASSES, true, Generator.seeded(3)).stateDict().get("weight").toFloatArray());
    }

    @Test
    void aResumeSkipsADamagedNewestCheckpointAndRefusesOtherOptionsOrData(@TempDir Path tmp) throws Exception {
        JavaRDD<Example> rdd = jsc.parallelize(DATA, 2);
        Path dir = tmp.resolve("run");
        trainer(SparkTrainerTest::linear, SGD, 2).checkpoints(dir.toString(), 5).build().fit(rdd); // steps 10, 15, 20 kept
        Path newest = dir.resolve(Worker.STEM + "20.safetensors");
        assertThat(newest).exists();
        byte[] bytes = Files.readAllBytes(newest);
        Files.write(newest, Arrays.copyOf(bytes, bytes.length / 2)); // cut short, as by a full disk
        SparkTrainer.Result resumed = trainer(SparkTrainerTest::linear, SGD, 2).epochs(2)
                .checkpoints(dir.toString(), 5).build().fit(rdd);
        assertThat(resumed.history().resumedStep()).isEqualTo(15);
        SparkTrainer.Result clean = trainer(SparkTrainerTest::linear, SGD, 1).epochs(2)
                .checkpoints(tmp.resolve("clean").toString(), 5).build().fit(rdd);
        assertThat(Files.readAllBytes(resumed.checkpoint())).isEqualTo(Files.readAllBytes(clean.checkpoint()));

        assertThatThrownBy(() -> trainer(SparkTrainerTest::linear, SGD, 2).seed(99).checkpoints(dir.toString(), 5)
                .build().fit(rdd)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("other options");
        assertThatThrownBy(() -> trainer(SparkTrainerTest::linear, SGD, 2).checkpoints(dir.toString(), 5).build()
                .fit(jsc.parallelize(DATA.subList(0, 1024), 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("other data");
        assertThatThrownBy(() -> trainer(SparkTrainerTest::mlp, SGD, 2).checkpoints(dir.toString(), 5).build()
                .fit(rdd)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds another model");
    }

    @Test
    void aLossThatTurnsNonFiniteStopsEveryWorkerAndSaysWhere() {
        SparkTrainer t = SparkTrainer.builder(SparkTrainerTest::linear, XENT,
                m -> new Sgd(m.parameters(), Sgd.Options.lr(1e38))).workers(2).microShards(4).globalBatch(64).build();
        assertThatThrownBy(() -> t.fit(jsc.parallelize(DATA, 2))).isInstanceOf(io.jgrad.core.NonFiniteException.class)
                .hasMessageContaining("not finite at epoch 1 step");
    }
}
