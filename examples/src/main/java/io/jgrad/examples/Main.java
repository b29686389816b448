package io.jgrad.examples;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * What {@code ./run} starts: {@code ./run PROGRAM [options]} runs that example program,
 * {@code ./run [options]} the main program ({@link LinearClassifier}) with the options,
 * {@code ./run --help} lists the programs and the main program's options. An unknown program
 * is named with the list of programs, and exits with status 2.
 */
public final class Main {
    /** An example program: its class name, what it does in one line, and its entry point returning the exit status. */
    record Program(String name, String summary, ToIntFunction<String[]> run) {}

    static final List<Program> PROGRAMS = List.of(
            new Program("LinearClassifier", "the main program: the lecture's linear classifier s = W x + b on "
                    + "Fashion-MNIST, softmax or SVM loss", LinearClassifier::run),
            new Program("TwoLayerNet", "a two-layer ReLU network (784 -> 512 -> 10) on Fashion-MNIST, trained like "
                    + "the main program", TwoLayerNet::run),
            new Program("SmallCnn", "a small convolutional network on Fashion-MNIST's [1, 28, 28] images, trained like "
                    + "the main program", SmallCnn::run),
            new Program("ExportOnnx", "a program's model, trained or loaded, as model.onnx with a sample batch and "
                    + "jgrad's outputs", ExportOnnx::run),
            new Program("SparkClassifier", "the linear classifier or two-layer net trained on Spark by "
                    + "data-parallel workers", SparkClassifier::run),
            new Program("RowAttention", "Fashion-MNIST images as sequences of rows, classified by a Transformer "
                    + "encoder layer", RowAttention::run),
            new Program("CharLm", "a character-level LSTM language model on Debian's fortunes, with text sampled "
                    + "from it", CharLm::run),
            new Program("HardCases", "the lecture's three 2-D problems no linear classifier solves: linear vs "
                    + "two-layer, as PNGs", HardCases::run),
            new Program("ErrorDecomposition", "test error vs training examples, hidden width and optimisation steps "
                    + "(Bayes error 0.10)", ErrorDecomposition::run),
            new Program("CustomOpExample", "a new differentiable op (softplus) by its forward and backward, checked "
                    + "with GradCheck", CustomOpExample::run),
            new Program("LectureQuestions", "the lecture's worked SVM and softmax examples and its questions, computed",
                    LectureQuestions::run),
            new Program("Demo", "the README's quick start as a program", Demo::run));

    private Main() {}

    /** Runs the program {@code argv} names (or the main program) and exits with its status. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Dispatches {@code argv} as {@link Main} describes; returns the exit status. */
    static int run(String... argv) {
        if (argv.length == 1 && (argv[0].equals("--help") || argv[0].equals("-h"))) {
            System.out.print(help());
            return Cli.DONE;
        }
        if (argv.length == 0 || argv[0].startsWith("-")) {
            return PROGRAMS.get(0).run().applyAsInt(argv); // options without a program go to the main program
        }
        Optional<Program> p = find(argv[0]);
        if (p.isEmpty()) {
            System.err.println("unknown program '" + argv[0] + "'; the programs are "
                    + PROGRAMS.stream().map(Program::name).collect(Collectors.joining(", ")) + ":");
            System.err.print(list());
            System.err.println("(./run --help says more)");
            return Cli.BAD_OPTIONS;
        }
        return p.get().run().applyAsInt(Arrays.copyOfRange(argv, 1, argv.length));
    }

    /** The program called {@code name}, ignoring case. */
    static Optional<Program> find(String name) {
        return PROGRAMS.stream().filter(p -> p.name().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT)))
                .findFirst();
    }

    /** The one-line summary of a program, for its usage. */
    static String summary(String name) {
        return find(name).map(Program::summary).orElse("");
    }

    private static String list() {
        StringBuilder sb = new StringBuilder();
        for (Program p : PROGRAMS) {
            sb.append(String.format(Locale.ROOT, "  %-20s%s%n", p.name(), p.summary()));
        }
        return sb.toString();
    }

    /** The text of {@code ./run --help}. */
    static String help() {
        return String.format(Locale.ROOT, "usage: ./run [PROGRAM] [options]%n"
                + "Builds what changed and runs one of jgrad's example programs; without PROGRAM, the main program "
                + "(%s) with the options given.%n%nprograms:%n%s%n"
                + "./run PROGRAM --help lists a program's options; ./run --classpath prints the class path (for jshell)."
                + "%n%nThe main program's options:%n", PROGRAMS.get(0).name(), list())
                + LinearClassifier.PROGRAM.cli().usage();
    }
}
