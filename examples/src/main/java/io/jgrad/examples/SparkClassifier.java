package io.jgrad.examples;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.data.Batch;
import io.jgrad.data.ImageDataset;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.losses.Regularization;
import io.jgrad.metrics.ConfusionMatrix;
import io.jgrad.optim.Sgd;
import io.jgrad.spark.SparkTrainer;
import io.jgrad.train.EpochMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The lecture's linear classifier (or the two-layer net) on Fashion-MNIST, trained on Apache
 * Spark by {@link SparkTrainer}: the training set goes through Spark as a Parquet file (written
 * once under {@code OUT/data}, or the user's own with {@code --parquet}), {@code --workers}
 * barrier tasks train in step, and the result has the same bits for any worker count that
 * divides {@code --micro-shards}. The final checkpoint is {@code OUT/<model>-<W>w/}; the test
 * set is evaluated on the driver. On a cluster, run it through {@code spark-submit} (see the
 * README): the master then comes from spark-submit unless {@code --master} is given.
 */
public final class SparkClassifier {
    private SparkClassifier() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return run(FashionMnistData.Sources.standard(), argv);
    }

    /** Runs the program looking for Fashion-MNIST in {@code sources} (for tests). */
    static int run(FashionMnistData.Sources sources, String... argv) {
        Cli args = new Cli("SparkClassifier")
                .text("master", "URL", "local[2]", "Spark master: local[N], spark://host:port, yarn, ...; under "
                        + "spark-submit its --master unless this is given")
                .option("workers", int.class, "1", "barrier tasks that train in step (one task slot each)")
                .text("model", "LinearClassifier|TwoLayerNet", "LinearClassifier", "the model to train")
                .text("loss", "softmax|svm", "softmax", "data loss")
                .option("epochs", int.class, "3", "epochs over the training set")
                .option("batch", int.class, "256", "global batch: examples per step over all workers")
                .option("micro-shards", int.class, "4", "micro-shards per batch, a multiple of --workers; the "
                        + "result depends on it and not on --workers")
                .option("lr", double.class, null, "learning rate (default 0.01 for LinearClassifier, 0.05 for "
                        + "TwoLayerNet, a tenth of it for svm)")
                .option("momentum", double.class, "0.9", "SGD momentum")
                .option("reg", double.class, "1e-4", "L2 regularization strength λ in L = 1/N Σ L_i + λ Σ W²")
                .option("seed", long.class, "0", "seed of the weights, the data order and the micro-shards")
                .option("checkpoint-every", int.class, "0", "also checkpoint every N steps (0: each epoch's end)")
                .text("parquet", "PATH", null, "train on this Parquet data (columns features: 784 numbers, "
                        + "normalised as the model expects; label: class index) instead of Fashion-MNIST's training set")
                .text("data", "DIR", null, "the Fashion-MNIST folder, as for the other programs")
                .negatableFlag("download", "download Fashion-MNIST if it is not found (default)")
                .flag("resume", "continue the run in the checkpoint folder (a finished run trains nothing more)")
                .flag("overwrite", "replace the checkpoints of an earlier run in the checkpoint folder")
                .text("out", "DIR", "runs/sparkclassifier", "folder for the data and the checkpoints");
        return args.run(argv, () -> train(args, sources));
    }

    private static int train(Cli args, FashionMnistData.Sources sources) throws IOException {
        String modelName = args.choice("model", "LinearClassifier", "TwoLayerNet");
        String lossName = args.choice("loss", "softmax", "svm");
        int workers = args.integer("workers", 1);
        int epochs = args.integer("epochs", 1);
        int batch = args.integer("batch", 1);
        int shards = args.integer("micro-shards", 1);
        double baseLr = args.given("lr") ? args.number("lr", 0) : modelName.equals("TwoLayerNet") ? 0.05 : 0.01;
        double lr = lossName.equals("svm") && !args.given("lr") ? baseLr / 10 : baseLr;
        double momentum = args.number("momentum", 0);
        double reg = args.number("reg", 0);
        long seed = args.longValue("seed");
        int every = args.integer("checkpoint-every", 0);
        if (shards % workers != 0) {
            throw args.fail("--micro-shards " + shards + " is not a multiple of --workers " + workers);
        }
        if (batch % shards != 0) {
            throw args.fail("--batch " + batch + " is not a multiple of --micro-shards " + shards);
        }
        if (args.flag("resume") && args.flag("overwrite")) {
            throw args.fail("--resume and --overwrite contradict each other; give one");
        }
        Path out = Path.of(args.get("out"));
        Path runDir = out.resolve(modelName.toLowerCase(Locale.ROOT) + "-" + lossName + "-" + workers + "w");
        List<Path> earlier = checkpoints(runDir);
        if (!earlier.isEmpty() && !args.flag("resume")) {
            if (!args.flag("overwrite")) {
                throw new Cli.Failure(Cli.BAD_OPTIONS, runDir + " holds " + earlier.size() + " checkpoint(s) of an "
                        + "earlier run (newest " + earlier.get(earlier.size() - 1).getFileName() + "); give --resume "
                        + "to continue it, --overwrite to replace it, or another --out", false);
            }
            for (Path p : earlier) {
                Files.delete(p);
            }
        }

        FashionMnistData.Loaded f = FashionMnistData.load(args.get("data").isEmpty() ? null : Path.of(args.get("data")),
                args.flag("download"), sources);
        double[] meanStd = f.splits().train().pixelMeanStd();
        ImageDataset train = f.splits().train().withNormalization(meanStd[0], meanStd[1]).withFlatten(true);
        ImageDataset test = f.splits().test().withNormalization(meanStd[0], meanStd[1]).withFlatten(true);
        System.out.printf(Locale.ROOT, "Fashion-MNIST from %s: %d train, %d test images%n", f.from(), train.size(),
                test.size());

        SparkSession.Builder sb = SparkSession.builder().appName("jgrad SparkClassifier");
        String master = args.get("master");
        if (args.given("master") || System.getProperty("spark.master") == null) {
            sb.master(master);
        }
        if (master.startsWith("local")) {
            sb.config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1");
        }
        SparkSession spark = sb.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Path parquet = args.get("parquet").isEmpty() ? writeParquet(spark, train, out.resolve("data"))
                    : Path.of(args.get("parquet"));
            Dataset<Row> data = spark.read().parquet(parquet.toString());
            System.out.println("training " + modelName + " on " + parquet + " with " + workers + " worker(s) on "
                    + spark.sparkContext().master() + ": global batch " + batch + " in " + shards + " micro-shards");
            SparkTrainer.ModelFactory factory = modelName.equals("TwoLayerNet")
                    ? () -> TwoLayerNet.PROGRAM.model(new int[] {1, 28, 28}, Generator.seeded(seed))
                    : () -> LinearClassifier.PROGRAM.model(new int[] {1, 28, 28}, Generator.seeded(seed));
            SparkTrainer.LossFunction loss = lossName.equals("svm") ? (s, y) -> new MulticlassSvmLoss().forward(s, y)
                    : (s, y) -> new CrossEntropyLoss().forward(s, y);
            SparkTrainer trainer = SparkTrainer.builder(factory, loss,
                            m -> new Sgd(m.parameters(), Sgd.Options.lr(lr).withMomentum(momentum)))
                    .regularization(reg == 0 ? null : m -> Regularization.l2(reg, m))
                    .workers(workers).microShards(shards).globalBatch(batch).epochs(epochs).seed(seed).classes(10)
                    .checkpoints(runDir.toString(), every).build();
            long t0 = System.nanoTime();
            SparkTrainer.Result r;
            try {
                r = trainer.fit(data, "features", "label");
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new Cli.Failure(Cli.BAD_OPTIONS, "error: " + e.getMessage(), false);
            } catch (NonFiniteException e) {
                throw new Cli.Failure(Cli.NON_FINITE, "error: " + e.getMessage(), false);
            } catch (Exception e) { // Scala's SparkException (a stage that failed every attempt) is not declared
                if (e instanceof org.apache.spark.SparkException) {
                    throw new Cli.Failure(Cli.IO_PROBLEM, "error: training failed on the cluster: " + Cli.describe(e),
                            false);
                }
                throw e;
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            for (EpochMetrics e : r.history().epochs()) {
                double sps = e.get("samples_per_second"); // NaN for epochs an earlier (resumed) run trained
                System.out.printf(Locale.ROOT, "epoch %d: loss %.4f, train accuracy %.4f%s%n", e.epoch(), e.get("loss"),
                        e.get("accuracy"), Double.isNaN(sps) ? "" : String.format(Locale.ROOT, " (%.0f samples/s)", sps));
            }
            ConfusionMatrix cm = new ConfusionMatrix(10);
            double accuracy = Evaluation.confusion(r.model(), test, cm);
            System.out.printf(Locale.ROOT, "test accuracy %.4f; final checkpoint %s%n", accuracy, r.checkpoint());
            EpochMetrics last = r.history().last();
            System.out.println("RESULT " + Json.object(g -> {
                g.writeStringField("program", "sparkclassifier");
                g.writeStringField("model", modelName);
                g.writeStringField("loss", lossName);
                g.writeStringField("master", spark.sparkContext().master());
                g.writeNumberField("workers", workers);
                g.writeNumberField("micro_shards", shards);
                g.writeNumberField("global_batch", batch);
                g.writeNumberField("epochs", epochs);
                g.writeNumberField("steps", r.history().steps());
                if (last != null) {
                    g.writeNumberField("train_loss", last.get("loss"));
                }
                g.writeNumberField("test_accuracy", accuracy);
                g.writeNumberField("seconds", secs);
                g.writeStringField("checkpoint", String.valueOf(r.checkpoint()));
            }));
            return Cli.DONE;
        } finally {
            spark.stop();
        }
    }

    private static List<Path> checkpoints(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("jgrad-spark-[0-9]+\\.safetensors"))
                    .sorted(Comparator.naturalOrder()).toList();
        }
    }

    /**
     * The normalised training set as Parquet under {@code dir} (features: array of floats, label:
     * int), written once: into a temporary folder first, renamed when complete.
     */
    private static Path writeParquet(SparkSession spark, ImageDataset train, Path dir) throws IOException {
        Path target = dir.resolve("fashion-mnist-train-" + train.fingerprint().replaceAll("[^A-Za-z0-9]", "")
                .substring(0, 12) + ".parquet");
        if (Files.isDirectory(target)) {
            return target;
        }
        Files.createDirectories(dir);
        List<Row> rows = new ArrayList<>(train.size());
        int step = 1000;
        for (int from = 0; from < train.size(); from += step) {
            int n = Math.min(step, train.size() - from);
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = from + i;
            }
            Batch b = train.batch(idx);
            float[] x = b.inputs().toFloatArray();
            long[] y = b.targets().toLongArray();
            int d = x.length / n;
            for (int i = 0; i < n; i++) {
                rows.add(RowFactory.create(java.util.Arrays.copyOfRange(x, i * d, i * d + d), (int) y[i]));
            }
        }
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType, false))
                .add("label", DataTypes.IntegerType);
        Path tmp = dir.resolve(target.getFileName() + ".partial");
        spark.createDataFrame(rows, schema).write().mode("overwrite").parquet(tmp.toString());
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.out.println("wrote " + target + " (" + rows.size() + " rows)");
        return target;
    }
}
