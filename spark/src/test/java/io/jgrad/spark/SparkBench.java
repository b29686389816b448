package io.jgrad.spark;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.data.Batch;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Relu;
import io.jgrad.layers.Sequential;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Sgd;
import io.jgrad.train.EpochMetrics;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The spark module's benchmark program (bench/spark.sh): the all-reduce's time per call for W1's
 * and W2's gradients (7,850 and 535,818 floats) between two barrier tasks, in the master given
 * ({@code local[2]}: two threads of one JVM; {@code local-cluster[2,1,1024]}: two executor
 * processes), and with {@code --steps} the training step time of W1 and W2 on Fashion-MNIST with
 * 1 and 2 workers. Prints one {@code ALLREDUCE} or {@code STEPS} line per figure.
 */
public final class SparkBench {
    private SparkBench() {}

    /** {@code [--master M] [--reps N] [--steps] [--epochs N]}. */
    public static void main(String[] argv) throws Exception {
        String master = "local[2]";
        int reps = 200;
        boolean steps = false;
        int epochs = 3;
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--master" -> master = argv[++i];
                case "--reps" -> reps = Integer.parseInt(argv[++i]);
                case "--steps" -> steps = true;
                case "--epochs" -> epochs = Integer.parseInt(argv[++i]);
                default -> throw new IllegalArgumentException("unknown option " + argv[i]);
            }
        }
        SparkSession.Builder b = SparkSession.builder().master(master).appName("jgrad SparkBench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1");
        if (master.startsWith("local-cluster")) {
            Files.createDirectories(Path.of(System.getenv("SPARK_HOME"), "jars"));
            String opens = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(a -> a.startsWith("--add-") || a.startsWith("-Djdk") || a.startsWith("-Dio.netty")).toList());
            b.config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                    .config("spark.executor.extraJavaOptions", opens).config("spark.executor.memory", "1g");
        }
        SparkSession spark = b.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            while (SparkTrainer.slots(spark.sparkContext()) < 2) {
                Thread.sleep(200); // local-cluster: executors registering
            }
            JavaRDD<Integer> two = jsc.parallelize(List.of(0, 1), 2);
            List<String> lines = two.rdd().barrier().mapPartitions(new Exchange(reps), false,
                    ClassTag$.MODULE$.apply(String.class)).toJavaRDD().collect();
            for (String l : lines) {
                System.out.println("ALLREDUCE master=" + master + " " + l);
            }
            if (steps) {
                steps(jsc, master, epochs);
            }
        } finally {
            spark.stop();
        }
    }

    /** Times sumInOrder between the two tasks; rank 0 reports. */
    static final class Exchange extends AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<String>> implements java.io.Serializable {
        private final int reps;

        Exchange(int reps) {
            this.reps = reps;
        }

        @Override
        public scala.collection.Iterator<String> apply(scala.collection.Iterator<Integer> ignored) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            List<String> out = new ArrayList<>();
            try (RingAllReduce ring = Worker.join(ctx, 1L, Duration.ofMinutes(2), new AtomicReference<ServerSocket>())) {
                for (int n : new int[] {7850, 535_818}) {
                    float[][] parts = {new float[n]};
                    Arrays.fill(parts[0], 1f);
                    float[] sum = new float[n];
                    double[][] stats = {new double[3]};
                    double[] statSum = new double[3];
                    int count = n > 100_000 ? Math.max(20, reps / 4) : reps;
                    for (int i = 0; i < count / 2; i++) { // warm-up
                        ring.sumInOrder(parts, stats, sum, statSum);
                    }
                    long[] ns = new long[count];
                    for (int i = 0; i < count; i++) {
                        long t0 = System.nanoTime();
                        ring.sumInOrder(parts, stats, sum, statSum);
                        ns[i] = System.nanoTime() - t0;
                    }
                    Arrays.sort(ns);
                    if (ring.rank() == 0) {
                        out.add(String.format(Locale.ROOT, "floats=%d calls=%d median_ms=%.3f p10_ms=%.3f p90_ms=%.3f "
                                + "pid=%d", n, count, ns[count / 2] / 1e6, ns[count / 10] / 1e6, ns[count * 9 / 10] / 1e6,
                                ProcessHandle.current().pid()));
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return CollectionConverters.asScala(out.iterator());
        }
    }

    static Block w1() {
        return new Sequential(new Linear(784, 10, true, Generator.seeded(0)));
    }

    static Block w2() {
        return new Sequential(new Linear(784, 512, true, Generator.seeded(0)), new Relu(),
                new Linear(512, 256, true, Generator.seeded(1)), new Relu(), new Linear(256, 10, true, Generator.seeded(2)));
    }

    private static void steps(JavaSparkContext jsc, String master, int epochs) throws Exception {
        ImageDataset train = FashionMnist.read(Path.of("/usr/share/datasets/fashion-mnist")).train()
                .withNormalization(0.2860, 0.3530).withFlatten(true);
        List<Example> examples = new ArrayList<>();
        for (int from = 0; from < train.size(); from += 1000) {
            int[] idx = new int[Math.min(1000, train.size() - from)];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = from + i;
            }
            Batch bt = train.batch(idx);
            float[] x = bt.inputs().toFloatArray();
            long[] y = bt.targets().toLongArray();
            for (int i = 0; i < idx.length; i++) {
                examples.add(new Example(Arrays.copyOfRange(x, i * 784, i * 784 + 784), y[i]));
            }
        }
        JavaRDD<Example> rdd = jsc.parallelize(examples, 2).cache();
        rdd.count();
        for (String model : List.of("W1", "W2")) {
            for (int workers : new int[] {1, 2}) {
                String only = System.getProperty("jgrad.bench.only"); // e.g. W2:1, to profile one case
                if (only != null && !only.equals(model + ":" + workers)) {
                    continue;
                }
                SparkTrainer.ModelFactory f = model.equals("W1") ? SparkBench::w1 : SparkBench::w2;
                double lr = model.equals("W1") ? 0.01 : 0.05;
                SparkTrainer t = SparkTrainer.builder(f, (s, y) -> new CrossEntropyLoss().forward(s, y),
                        m -> new Sgd(m.parameters(), Sgd.Options.lr(lr).withMomentum(0.9)))
                        .workers(workers).microShards(2).globalBatch(128).epochs(epochs).classes(10).build();
                SparkTrainer.Result r = t.fit(rdd);
                List<EpochMetrics> e = r.history().epochs();
                double[] sps = e.subList(1, e.size()).stream().mapToDouble(x -> x.get("samples_per_second")).sorted()
                        .toArray();
                double median = sps[sps.length / 2];
                System.out.printf(Locale.ROOT, "STEPS master=%s model=%s workers=%d batch=128 samples_per_s=%.0f "
                        + "ms_per_step=%.3f epoch1_samples_per_s=%.0f final_loss=%.4f%n", master, model, workers, median,
                        128 * 1000 / median, e.get(0).get("samples_per_second"), e.get(e.size() - 1).get("loss"));
            }
        }
    }
}
