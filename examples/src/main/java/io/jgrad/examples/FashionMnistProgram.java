package io.jgrad.examples;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.data.DataLoader;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.io.CheckpointStore;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Loss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.losses.Regularization;
import io.jgrad.metrics.ConfusionMatrix;
import io.jgrad.optim.LrSchedule;
import io.jgrad.optim.Sgd;
import io.jgrad.train.Checkpoints;
import io.jgrad.train.Curves;
import io.jgrad.train.History;
import io.jgrad.train.MetricsLog;
import io.jgrad.train.ModelSummary;
import io.jgrad.train.ProgressPrinter;
import io.jgrad.train.SanityChecks;
import io.jgrad.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the image-classification programs share: options, data (Fashion-MNIST by default, found,
 * downloaded or, failing both, the embedded subset: see {@link FashionMnistData}; or CIFAR-10
 * from a folder or its .tar.gz; normalised with the training set's statistics), SGD with
 * momentum and a cosine schedule, the training loop, outputs and exit codes (0 done, 1 I/O
 * problem, 2 bad options, 3 non-finite loss). Each program gives its model for an image shape.
 */
final class FashionMnistProgram {
    /** Extra pictures a program draws from its trained model, for images of {@code shape} [C, H, W]. */
    interface Extras {
        List<Path> write(Block model, Path out, String name, int[] shape, List<String> classes) throws IOException;
    }

    /** The model for images of shape [C, H, W] and 10 classes. */
    interface Model {
        Block build(int[] shape, Generator rng);
    }

    private final String program;
    private final boolean flatten;
    private final Model model;
    private final Extras extras;
    private final String defaultEpochs;
    private final String defaultLr;
    private final FashionMnistData.Sources sources;

    FashionMnistProgram(String program, boolean flatten, Model model, Extras extras,
                        String defaultEpochs, String defaultLr) {
        this(program, flatten, model, extras, defaultEpochs, defaultLr, null);
    }

    private FashionMnistProgram(String program, boolean flatten, Model model, Extras extras,
                                String defaultEpochs, String defaultLr, FashionMnistData.Sources sources) {
        this.program = program;
        this.flatten = flatten;
        this.model = model;
        this.extras = extras;
        this.defaultEpochs = defaultEpochs;
        this.defaultLr = defaultLr;
        this.sources = sources;
    }

    /** The same program looking for Fashion-MNIST in {@code s} instead of the standard places (for tests). */
    FashionMnistProgram withSources(FashionMnistData.Sources s) {
        return new FashionMnistProgram(program, flatten, model, extras, defaultEpochs, defaultLr, s);
    }

    /** The program's model, freshly initialised, for images of {@code shape} [C, H, W]. */
    Block model(int[] shape, Generator rng) {
        return model.build(shape, rng);
    }

    /** Whether the model takes flattened images [B, C·H·W] (else [B, C, H, W]). */
    boolean flattens() {
        return flatten;
    }

    /** The stem of the checkpoints a run with {@code loss} ("softmax" or "svm") on Fashion-MNIST writes. */
    String checkpointStem(String loss) {
        return program.toLowerCase(Locale.ROOT) + "-" + loss + "-step";
    }

    /** The program's options, unparsed. */
    Cli cli() {
        return new Cli(program)
                .text("loss", "softmax|svm", "softmax", "data loss")
                .option("reg", double.class, "1e-4", "L2 regularization strength λ in L = 1/N Σ L_i + λ Σ W²")
                .option("lr", double.class, null, "learning rate (default " + defaultLr + ", a tenth of it for svm)")
                .text("schedule", "cosine|constant", "cosine", "learning-rate schedule over the epochs")
                .option("momentum", double.class, "0.9", "SGD momentum")
                .option("epochs", int.class, defaultEpochs, "epochs")
                .option("batch-size", int.class, "128", "minibatch size")
                .option("seed", long.class, "0", "seed for initialisation and data order")
                .text("dataset", "fashion-mnist|cifar10", "fashion-mnist", "the data set (cifar10 needs --data)")
                .text("data", "DIR", null, "the folder with the data (for cifar10 also its .tar.gz), and no "
                        + "other; without it Fashion-MNIST is looked for in $JGRAD_DATA, ~/.jgrad/data and "
                        + "/usr/share/datasets/fashion-mnist")
                .negatableFlag("download", "if Fashion-MNIST is not found, download it into $JGRAD_DATA or ~/.jgrad/data "
                        + "(default); where that fails, or with --no-download, use the small subset embedded in jgrad")
                .text("out", "DIR", "runs/" + program.toLowerCase(Locale.ROOT), "folder for checkpoints and pictures")
                .flag("sanity", "run the lecture's sanity checks (initial loss, overfitting 20 examples, a gradient check "
                        + "of the whole model) instead of training, and exit")
                .flag("resume", "continue from the newest checkpoint in --out")
                .flag("overwrite", "replace the checkpoints an earlier run left in --out (without it, or --resume, "
                        + "such a folder is refused)")
                .option("checkpoint-every", int.class, "0", "also checkpoint every N steps (0: at the end of each epoch only)")
                .option("stop-after", int.class, "0", "stop after N steps in total, checkpointing there (to interrupt on purpose)")
                .text("predictions", "FILE", null, "also write the test set's predictions there as CSV (index,label,predicted)");
    }

    /**
     * The options that do not shape training, left out of the config a checkpoint records (so a
     * resume may change them); the rest must match on resume.
     */
    static final String[] NOT_CONFIG = {"out", "data", "download", "sanity", "resume", "overwrite",
        "checkpoint-every", "stop-after", "predictions"};

    /** Parses {@code argv}, trains and evaluates; returns the exit status ({@link Cli}'s codes). */
    int run(String... argv) {
        Cli args = cli();
        return args.run(argv, () -> train(args));
    }

    private int train(Cli args) throws IOException {
        Checkpoints.Start start = TrainingRuns.start(args);
        System.setProperty("java.awt.headless", "true");
        String lossName = args.choice("loss", "softmax", "svm");
        double reg = args.number("reg", 0);
        double base = Double.parseDouble(defaultLr);
        double lr = args.given("lr") ? args.number("lr", 0) : lossName.equals("svm") ? base / 10 : base;
        boolean cosine = args.choice("schedule", "cosine", "constant").equals("cosine");
        double momentum = args.number("momentum", 0);
        int epochs = args.integer("epochs", 1);
        int batch = args.integer("batch-size", 1);
        long seed = args.longValue("seed");
        int checkpointEvery = args.integer("checkpoint-every", 0);
        int stopAfter = args.integer("stop-after", 0);
        Path out = Path.of(args.get("out"));
        boolean cifar = args.choice("dataset", "fashion-mnist", "cifar10").equals("cifar10");
        Path dataPath = args.get("data").isEmpty() ? null : Path.of(args.get("data"));
        if (cifar && dataPath == null) {
            throw args.fail("--dataset cifar10 needs --data (the extracted folder or cifar-10-binary.tar.gz)");
        }
        long t0 = System.nanoTime();
        Cli.printBlas();

        ImageDataset rawTrain;
        ImageDataset rawTest;
        int[] shape;
        List<String> classes;
        String from;
        if (cifar) {
            if (!Files.exists(dataPath)) {
                throw new Cli.Failure(Cli.BAD_OPTIONS, "--data " + dataPath + ": no such file or folder; --dataset "
                        + "cifar10 reads the extracted cifar-10-batches-bin folder, the folder holding it, or "
                        + "cifar-10-binary.tar.gz", false);
            }
            io.jgrad.data.Cifar10.Splits c = io.jgrad.data.Cifar10.load(dataPath);
            rawTrain = c.train();
            rawTest = c.test();
            shape = new int[] {3, 32, 32};
            classes = io.jgrad.data.Cifar10.CLASSES;
            from = dataPath.toString();
        } else {
            FashionMnistData.Loaded f = FashionMnistData.load(dataPath, args.flag("download"),
                    sources != null ? sources : FashionMnistData.Sources.standard());
            rawTrain = f.splits().train();
            rawTest = f.splits().test();
            from = f.from();
            shape = new int[] {1, 28, 28};
            classes = FashionMnist.CLASSES;
        }
        double[] meanStd = rawTrain.pixelMeanStd(); // normalise with the training set's statistics
        ImageDataset train = rawTrain.withNormalization(meanStd[0], meanStd[1]).withFlatten(flatten);
        ImageDataset test = rawTest.withNormalization(meanStd[0], meanStd[1]).withFlatten(flatten);
        System.out.printf(Locale.ROOT, "%s from %s: %d train, %d test images; pixel mean %.4f std %.4f%n",
                cifar ? "CIFAR-10" : "Fashion-MNIST", from, train.size(), test.size(), meanStd[0], meanStd[1]);

        Block net = model.build(shape, Generator.seeded(seed));
        Loss dataLoss = lossName.equals("svm") ? new MulticlassSvmLoss() : new CrossEntropyLoss();
        Sgd sgd = new Sgd(net.parameters(), Sgd.Options.lr(lr).withMomentum(momentum));
        String name = program.toLowerCase(Locale.ROOT) + (cifar ? "-cifar10-" : "-") + lossName;
        Checkpoints checkpoints = new Checkpoints(new CheckpointStore(out, cifar ? name + "-step"
                : checkpointStem(lossName), 3),
                start)
                .every(checkpointEvery).config(args.toJson(NOT_CONFIG)).data(rawTrain.fingerprint())
                .warnings(w -> System.err.println("warning: " + w));
        Curves curves = new Curves(out.resolve(name + "-curves.png"), name + ": loss and accuracy per epoch");
        Trainer trainer = Trainer.builder(net, (scores, y) -> reg == 0 ? dataLoss.forward(scores, y)
                        : dataLoss.forward(scores, y).add(Regularization.l2(reg, net)), sgd)
                .epochs(epochs).schedule(cosine ? new LrSchedule(sgd, LrSchedule.cosine(epochs, 0)) : null)
                .validation(test).stopAfter(stopAfter)
                .callbacks(checkpoints, new MetricsLog(out.resolve(name + "-metrics.jsonl")), curves,
                        new ProgressPrinter(System.out))
                .build();
        int[] one = flatten ? new int[] {1, shape[0] * shape[1] * shape[2]} : new int[] {1, shape[0], shape[1], shape[2]};
        System.out.print(ModelSummary.of(net, one));
        if (args.flag("sanity")) {
            return sanity(net, dataLoss, train, classes.size());
        }
        DataLoader loader = new DataLoader(train, batch, DataLoader.Options.shuffled(seed));
        History history = TrainingRuns.fit(trainer, loader);
        if (TrainingRuns.interrupted(name, history, epochs, loader, checkpoints)) {
            return Cli.DONE; // interrupted on purpose: no final evaluation
        }

        ConfusionMatrix cm = new ConfusionMatrix(classes.size());
        double accuracy = Evaluation.confusion(net, test, cm);
        List<Path> files = new ArrayList<>();
        Path curvesFile = curves.write(history.epochs());
        if (curvesFile != null) {
            files.add(curvesFile);
        }
        files.addAll(extras.write(net, out, name, shape, classes));
        files.add(cm.writePng(out.resolve(name + "-confusion.png"), classes, name + ": confusion matrix on the "
                + "test set (rows: actual class)"));
        if (!args.get("predictions").isEmpty()) {
            files.add(Evaluation.writePredictions(net, test, Path.of(args.get("predictions"))));
        }
        files.add(checkpoints.lastFile());
        System.out.println("confusion matrix (test set):");
        System.out.print(cm.toText(classes));
        System.out.print(cm.report(classes));
        System.out.printf(Locale.ROOT, "test accuracy %.4f  macro F1 %.4f%n", accuracy, cm.macroF1());
        for (Path f : files) {
            System.out.println("wrote " + f);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", name);
            g.writeNumberField("test_accuracy", Math.round(accuracy * 1e4) / 1e4);
            g.writeNumberField("macro_f1", Math.round(cm.macroF1() * 1e4) / 1e4);
            g.writeNumberField("seconds", Math.round(seconds * 100) / 100.0);
            g.writeNumberField("samples_per_second_median", Math.round(medianSpeed(history)));
            g.writeNumberField("epochs", history.epochs().isEmpty() ? 0 : history.last().epoch());
            g.writeArrayFieldStart("confusion_matrix");
            for (long[] row : cm.counts()) {
                g.writeArray(row, 0, row.length);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("files");
            for (Path f : files) {
                g.writeString(f.toString());
            }
            g.writeEndArray();
            g.writeFieldName("options");
            args.writeJson(g, Map.of("lr", lr));
        }));
        return Cli.DONE;
    }

    /**
     * The lecture's checks before a run (the initial loss with small weights, overfitting 20
     * training examples, a float64 gradient check of the whole model), as a table; status 0 when
     * all pass, {@link Cli#SANITY_FAILED} otherwise.
     */
    private static int sanity(Block net, Loss dataLoss, ImageDataset train, int classes) {
        int[] first = new int[20];
        for (int i = 0; i < first.length; i++) {
            first[i] = i;
        }
        io.jgrad.data.Batch twenty = train.batch(first);
        // Adam at 1e-3 fits a few examples whatever the model, so a failure points at the model, not the step size
        SanityChecks.Report r = SanityChecks.run(net, dataLoss, classes, twenty,
                ps -> new io.jgrad.optim.Adam(ps, io.jgrad.optim.Adam.Options.lr(1e-3)), 300);
        System.out.println("sanity checks (the data loss without regularization; 20 training examples):");
        System.out.print(r);
        System.out.println(r.passed() ? "all sanity checks passed" : "some sanity checks FAILED: see above");
        return r.passed() ? Cli.DONE : Cli.SANITY_FAILED;
    }

    /** The median speed of the epochs after the first (which includes warm-up), as this run measured them. */
    private static double medianSpeed(History h) {
        double[] v = h.epochs().stream().skip(h.epochs().size() > 1 ? 1 : 0).mapToDouble(e -> e.get("samples_per_second"))
                .filter(x -> !Double.isNaN(x)).sorted().toArray();
        return v.length == 0 ? 0 : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
