package io.jgrad.examples;

import io.jgrad.core.Generator;
import io.jgrad.core.Module;
import io.jgrad.core.NonFiniteException;
import io.jgrad.data.DataLoader;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.losses.Loss;
import io.jgrad.losses.MulticlassSvmLoss;
import io.jgrad.losses.Regularization;
import io.jgrad.optim.LrSchedule;
import io.jgrad.optim.Sgd;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the image-classification programs share: options, data (Fashion-MNIST by default, or
 * CIFAR-10 from a folder or its .tar.gz; normalised with the training set's statistics), SGD
 * with momentum and a cosine schedule, the training loop, outputs and exit codes (0 done, 1 I/O
 * problem, 2 bad options, 3 non-finite loss). Each program gives its model for an image shape.
 */
final class FashionMnistProgram {
    /** Extra pictures a program draws from its trained model, for images of {@code shape} [C, H, W]. */
    interface Extras {
        List<Path> write(Module model, Path out, String name, int[] shape, List<String> classes) throws IOException;
    }

    /** The model for images of shape [C, H, W] and 10 classes. */
    interface Model {
        Module build(int[] shape, Generator rng);
    }

    private final String program;
    private final boolean flatten;
    private final Model model;
    private final Extras extras;
    private final String defaultEpochs;
    private final String defaultLr;

    FashionMnistProgram(String program, boolean flatten, Model model, Extras extras,
                        String defaultEpochs, String defaultLr) {
        this.program = program;
        this.flatten = flatten;
        this.model = model;
        this.extras = extras;
        this.defaultEpochs = defaultEpochs;
        this.defaultLr = defaultLr;
    }

    Args args() {
        return new Args(program)
                .option("loss", "softmax", "data loss: softmax or svm")
                .option("reg", "1e-4", "L2 regularization strength λ in L = 1/N Σ L_i + λ Σ W²")
                .option("lr", "", "learning rate (default " + defaultLr + ", a tenth of it for svm)")
                .option("schedule", "cosine", "learning-rate schedule over the epochs: cosine or constant")
                .option("momentum", "0.9", "SGD momentum")
                .option("epochs", defaultEpochs, "epochs")
                .option("batch-size", "128", "minibatch size")
                .option("seed", "0", "seed for initialisation and data order")
                .option("dataset", "fashion-mnist", "fashion-mnist or cifar10 (CIFAR-10 needs --data)")
                .option("data", "", "folder (or CIFAR-10 .tar.gz) with the data; Fashion-MNIST is else searched")
                .option("download", "", "download Fashion-MNIST if it is not found")
                .option("out", "runs/" + program.toLowerCase(Locale.ROOT), "folder for checkpoints and pictures")
                .option("resume", "", "continue from the newest checkpoint in --out")
                .option("checkpoint-every", "0", "also checkpoint every N steps (0: at the end of each epoch only)")
                .option("stop-after", "0", "stop after N steps in total, checkpointing there (to interrupt on purpose)");
    }

    int run(Args args, String[] argv) {
        System.setProperty("java.awt.headless", "true");
        try {
            args.parse(argv);
            String lossName = args.choice("loss", "softmax", "svm");
            double reg = args.number("reg", 0);
            double base = Double.parseDouble(defaultLr);
            double lr = args.get("lr").isEmpty() ? (lossName.equals("svm") ? base / 10 : base) : args.number("lr", 0);
            boolean cosine = args.choice("schedule", "cosine", "constant").equals("cosine");
            double momentum = args.number("momentum", 0);
            int epochs = args.integer("epochs", 1);
            int batch = args.integer("batch-size", 1);
            long seed = Long.parseLong(args.get("seed"));
            Path out = Path.of(args.get("out"));
            long t0 = System.nanoTime();

            boolean cifar = args.choice("dataset", "fashion-mnist", "cifar10").equals("cifar10");
            Path dataPath = args.get("data").isEmpty() ? null : Path.of(args.get("data"));
            ImageDataset rawTrain;
            ImageDataset rawTest;
            int[] shape;
            List<String> classes;
            if (cifar) {
                if (dataPath == null) {
                    throw args.fail("--dataset cifar10 needs --data (the extracted folder or cifar-10-binary.tar.gz)");
                }
                io.jgrad.data.Cifar10.Splits c = io.jgrad.data.Cifar10.load(dataPath);
                rawTrain = c.train();
                rawTest = c.test();
                shape = new int[] {3, 32, 32};
                classes = io.jgrad.data.Cifar10.CLASSES;
            } else {
                FashionMnist.Splits f = FashionMnist.load(dataPath, args.flag("download"));
                rawTrain = f.train();
                rawTest = f.test();
                dataPath = f.folder();
                shape = new int[] {1, 28, 28};
                classes = FashionMnist.CLASSES;
            }
            double[] meanStd = rawTrain.pixelMeanStd(); // normalise with the training set's statistics
            ImageDataset train = rawTrain.withNormalization(meanStd[0], meanStd[1]).withFlatten(flatten);
            ImageDataset test = rawTest.withNormalization(meanStd[0], meanStd[1]).withFlatten(flatten);
            System.out.printf(Locale.ROOT, "%s from %s: %d train, %d test images; pixel mean %.4f std %.4f%n",
                    cifar ? "CIFAR-10" : "Fashion-MNIST", dataPath, train.size(), test.size(), meanStd[0], meanStd[1]);

            Module net = model.build(shape, Generator.seeded(seed));
            Loss dataLoss = lossName.equals("svm") ? new MulticlassSvmLoss() : new CrossEntropyLoss();
            Sgd sgd = new Sgd(net.parameters(), Sgd.Options.lr(lr).withMomentum(momentum));
            String name = program.toLowerCase(Locale.ROOT) + (cifar ? "-cifar10-" : "-") + lossName;
            Trainer trainer = new Trainer(name, net, sgd,
                    (scores, y) -> reg == 0 ? dataLoss.forward(scores, y)
                            : dataLoss.forward(scores, y).add(Regularization.l2(reg, net)), out,
                    args.toJson("out", "data", "download", "resume", "checkpoint-every", "stop-after"), args.toJson());
            if (cosine) {
                trainer.withSchedule(new LrSchedule(sgd, LrSchedule.cosine(epochs, 0)));
            }
            trainer.withData(rawTrain.fingerprint()).withCheckpointEvery(args.integer("checkpoint-every", 0))
                    .withStopAfter(args.integer("stop-after", 0));
            long done = args.flag("resume") ? trainer.resume() : 0;
            System.out.println(net);
            System.out.println(net.parameterCount() + " parameters");
            DataLoader loader = new DataLoader(train, batch, true, seed, false);
            long steps = trainer.fit(loader, test, done, epochs);
            if (steps < (long) epochs * loader.batchesPerEpoch()) {
                System.out.println("RESULT {\"program\":" + Trainer.quote(name) + ",\"stopped_after_steps\":" + steps
                        + ",\"checkpoint\":" + Trainer.quote(trainer.checkpoint(steps).toString()) + "}");
                return 0; // interrupted on purpose: no final evaluation
            }

            double accuracy = trainer.accuracy(test);
            List<Path> files = new ArrayList<>();
            Path curves = trainer.plot();
            if (curves != null) {
                files.add(curves);
            }
            files.addAll(extras.write(net, out, name, shape, classes));
            files.add(trainer.checkpoint(steps));
            System.out.printf(Locale.ROOT, "test accuracy %.4f%n", accuracy);
            System.out.println(trainer.resultLine(accuracy, (System.nanoTime() - t0) / 1e9, files));
            return 0;
        } catch (Args.UsageException e) {
            System.err.println(e.getMessage());
            return 2;
        } catch (NonFiniteException e) {
            System.err.println("stopped: " + e.getMessage());
            return 3;
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
