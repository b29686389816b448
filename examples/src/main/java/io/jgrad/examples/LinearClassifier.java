package io.jgrad.examples;

import io.jgrad.core.Generator;
import io.jgrad.core.NonFiniteException;
import io.jgrad.data.DataLoader;
import io.jgrad.data.FashionMnist;
import io.jgrad.data.ImageDataset;
import io.jgrad.layers.Linear;
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
 * The lecture's linear classifier on Fashion-MNIST: scores s = W x + b for 784-pixel images and
 * 10 classes, loss L = 1/N Σ L_i + λ Σ W² with the softmax (cross-entropy) or the multiclass SVM
 * (hinge) data loss, minibatch SGD with momentum. Writes curves, the rows of W as images, and a
 * checkpoint per epoch; the last line is {@code RESULT {json}}.
 */
public final class LinearClassifier {
    private LinearClassifier() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.setProperty("java.awt.headless", "true");
        Args args = new Args("LinearClassifier")
                .option("loss", "softmax", "data loss: softmax or svm")
                .option("reg", "1e-4", "L2 regularization strength λ in L = 1/N Σ L_i + λ Σ W²")
                .option("lr", "", "learning rate (default 0.01 for softmax, 0.001 for svm)")
                .option("schedule", "cosine", "learning-rate schedule over the epochs: cosine or constant")
                .option("momentum", "0.9", "SGD momentum")
                .option("epochs", "10", "epochs")
                .option("batch-size", "128", "minibatch size")
                .option("seed", "0", "seed for initialisation and data order")
                .option("data", "", "folder with the Fashion-MNIST files (else searched: see README)")
                .option("download", "", "download Fashion-MNIST if it is not found")
                .option("out", "runs/linear", "folder for checkpoints and pictures")
                .option("resume", "", "continue from the newest checkpoint in --out");
        System.exit(run(args, argv));
    }

    static int run(Args args, String[] argv) {
        try {
            args.parse(argv);
            String lossName = args.choice("loss", "softmax", "svm");
            double reg = args.number("reg", 0);
            double lr = args.get("lr").isEmpty() ? (lossName.equals("svm") ? 0.001 : 0.01) : args.number("lr", 0);
            boolean cosine = args.choice("schedule", "cosine", "constant").equals("cosine");
            double momentum = args.number("momentum", 0);
            int epochs = args.integer("epochs", 1);
            int batch = args.integer("batch-size", 1);
            long seed = Long.parseLong(args.get("seed"));
            Path out = Path.of(args.get("out"));
            long t0 = System.nanoTime();

            FashionMnist.Splits data = FashionMnist.load(args.get("data").isEmpty() ? null : Path.of(args.get("data")),
                    args.flag("download"));
            double[] meanStd = data.train().pixelMeanStd(); // normalise with the training set's statistics
            ImageDataset train = data.train().withNormalization(meanStd[0], meanStd[1]);
            ImageDataset test = data.test().withNormalization(meanStd[0], meanStd[1]);
            System.out.printf(Locale.ROOT, "Fashion-MNIST from %s: %d train, %d test images; pixel mean %.4f std %.4f%n",
                    data.folder(), train.size(), test.size(), meanStd[0], meanStd[1]);

            Linear model = new Linear(784, 10, true, Generator.seeded(seed));
            Loss dataLoss = lossName.equals("svm") ? new MulticlassSvmLoss() : new CrossEntropyLoss();
            Sgd sgd = new Sgd(model.parameters(), Sgd.Options.lr(lr).withMomentum(momentum));
            Trainer trainer = new Trainer("linear-" + lossName, model, sgd,
                    (scores, y) -> reg == 0 ? dataLoss.forward(scores, y)
                            : dataLoss.forward(scores, y).add(Regularization.l2(reg, model)), out,
                    args.toJson("out", "data", "download", "resume"), args.toJson());
            if (cosine) {
                trainer.withSchedule(new LrSchedule(sgd, LrSchedule.cosine(epochs, 0)));
            }
            int done = args.flag("resume") ? trainer.resume() : 0;
            if (done > 0) {
                System.out.println("resumed from " + trainer.checkpoint(done));
            }
            System.out.println(model);
            trainer.fit(new DataLoader(train, batch, true, seed, false), test, done + 1, epochs);

            double accuracy = trainer.accuracy(test);
            List<Path> files = new ArrayList<>();
            Path curves = trainer.plot();
            if (curves != null) {
                files.add(curves);
            }
            files.add(Templates.render(model.namedParameters().get("weight").detach(), 1, 28, 28, FashionMnist.CLASSES, 4,
                    out.resolve("linear-" + lossName + "-templates.png")));
            files.add(trainer.checkpoint(epochs));
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
