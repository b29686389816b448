package io.jgrad.examples;

import com.google.common.hash.Hashing;
import io.jgrad.core.Autograd;
import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.data.DataLoader;
import io.jgrad.data.TensorDataset;
import io.jgrad.io.CheckpointStore;
import io.jgrad.layers.Embedding;
import io.jgrad.layers.Linear;
import io.jgrad.layers.Lstm;
import io.jgrad.layers.Recurrent;
import io.jgrad.losses.CrossEntropyLoss;
import io.jgrad.optim.Adam;
import io.jgrad.train.Checkpoints;
import io.jgrad.train.History;
import io.jgrad.train.MetricsLog;
import io.jgrad.train.ProgressPrinter;
import io.jgrad.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A character-level LSTM language model (embedding → LSTM → linear over the characters) trained
 * on the fortune cookies of Debian's {@code fortunes} package, read from where it installs them
 * ({@code /usr/share/games/fortunes}; {@code --corpus} names another file or folder of plain
 * text). Each epoch prints its loss (and the held-out tenth's, in bits per character); the
 * trained model then writes text, one character at a time, sampled at {@code --temperature}.
 * Checkpointed and resumable like the image programs ({@code --resume}, {@code --overwrite}).
 */
public final class CharLm {
    /** Where Debian's fortunes package puts its collection. */
    static final Path FORTUNES = Path.of("/usr/share/games/fortunes");
    private static final String[] NOT_CONFIG = {"out", "resume", "overwrite", "temperature", "sample", "prime",
        "stop-after"};

    private CharLm() {}

    /** The model: characters [B, T] (INT64 ids) to next-character scores [B·T, vocabulary]. */
    static final class Model extends Block {
        final Embedding embedding;
        final Lstm lstm;
        final Linear head;
        private final int vocabulary;

        Model(int vocabulary, int width, int hidden, int layers, Generator rng) {
            this.vocabulary = vocabulary;
            embedding = registerChild("embedding", new Embedding(vocabulary, width, rng));
            lstm = registerChild("lstm", new Lstm(width, hidden, layers, true, true, rng));
            head = registerChild("head", new Linear(hidden, vocabulary, true, rng));
        }

        @Override
        public Tensor forward(Tensor chars) {
            return head.forward(lstm.forward(embedding.forward(chars))).reshape(-1, vocabulary);
        }
    }

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        Cli args = new Cli("CharLm")
                .text("corpus", "FILE|DIR", FORTUNES.toString(), "plain text to learn: a file, or a folder whose "
                        + "files (not .dat or .u8) are read in name order")
                .option("max-chars", int.class, "200000", "use at most this many characters of it (0: all)")
                .option("epochs", int.class, "5", "epochs")
                .option("seq", int.class, "64", "characters per training sequence")
                .option("batch-size", int.class, "32", "sequences per batch")
                .option("hidden", int.class, "128", "LSTM width")
                .option("layers", int.class, "1", "stacked LSTM layers")
                .option("lr", double.class, "0.003", "Adam's learning rate")
                .option("seed", long.class, "0", "seed for initialisation, data order and sampling")
                .option("temperature", double.class, "0.8", "sampling temperature (lower: safer, higher: wilder)")
                .option("sample", int.class, "400", "characters to sample after training")
                .text("prime", "TEXT", "The ", "text the sample starts from (characters the corpus lacks are skipped)")
                .text("out", "DIR", "runs/charlm", "folder for checkpoints and the metrics log")
                .flag("resume", "continue from the newest checkpoint in --out")
                .flag("overwrite", "replace the checkpoints an earlier run left in --out")
                .option("stop-after", int.class, "0", "stop after N steps in total, checkpointing there");
        return args.run(argv, () -> train(args));
    }

    private static int train(Cli args) throws IOException {
        Checkpoints.Start start = TrainingRuns.start(args);
        int seq = args.integer("seq", 2);
        int batch = args.integer("batch-size", 1);
        int epochs = args.integer("epochs", 1);
        double temperature = args.number("temperature", 0);
        if (!(temperature > 0)) {
            throw args.fail("--temperature must be positive, got " + temperature);
        }
        long seed = args.longValue("seed");
        Path out = Path.of(args.get("out"));
        String text = read(Path.of(args.get("corpus")), args.integer("max-chars", 0));
        List<Character> vocabulary = vocabulary(text);
        if (text.length() < 2L * (seq + 1)) {
            throw new Cli.Failure(Cli.BAD_OPTIONS, "--corpus " + args.get("corpus") + ": " + text.length()
                    + " usable characters; need at least " + 2 * (seq + 1) + " for two sequences of --seq " + seq, false);
        }
        int[] ids = encode(text, vocabulary);
        int sequences = (ids.length - 1) / seq;
        int held = Math.max(1, sequences / 10);
        TensorDataset train = windows(ids, seq, 0, sequences - held);
        TensorDataset validation = windows(ids, seq, sequences - held, held);
        System.out.printf(Locale.ROOT, "corpus %s: %,d characters, %d distinct; %d training and %d held-out sequences "
                + "of %d%n", args.get("corpus"), text.length(), vocabulary.size(), train.size(), validation.size(), seq);

        Generator rng = Generator.seeded(seed);
        Model model = new Model(vocabulary.size(), 32, args.integer("hidden", 1), args.integer("layers", 1), rng);
        Adam adam = new Adam(model.parameters(), Adam.Options.lr(args.number("lr", 0)));
        CrossEntropyLoss ce = new CrossEntropyLoss();
        Checkpoints checkpoints = new Checkpoints(new CheckpointStore(out, "charlm-step", 3),
                start)
                .config(args.toJson(NOT_CONFIG))
                .data(Hashing.sha256().hashString(text, StandardCharsets.UTF_8).toString())
                .warnings(w -> System.err.println("warning: " + w));
        Trainer trainer = Trainer.builder(model, (scores, y) -> ce.forward(scores, y.reshape(-1)), adam)
                .epochs(epochs).clipGradNorm(5).validation(validation).stopAfter(args.integer("stop-after", 0))
                .callbacks(checkpoints, new MetricsLog(out.resolve("charlm-metrics.jsonl")), new ProgressPrinter(System.out))
                .build();
        DataLoader loader = new DataLoader(train, batch, DataLoader.Options.shuffled(seed));
        History history = TrainingRuns.fit(trainer, loader);
        if (TrainingRuns.interrupted("charlm", history, epochs, loader, checkpoints)) {
            return Cli.DONE; // interrupted on purpose: no final evaluation
        }
        double valLoss = history.last().get("val_loss");
        double bits = valLoss / Math.log(2);
        System.out.printf(Locale.ROOT, "held-out loss %.4f nats, %.3f bits per character%n", valLoss, bits);
        String sample = sample(model, vocabulary, args.get("prime"), args.integer("sample", 0), temperature,
                Generator.seeded(seed + 1));
        System.out.printf(Locale.ROOT, "sample (temperature %s):%n%s%n", temperature, sample);
        System.out.println("RESULT " + Json.object(g -> {
            g.writeStringField("program", "charlm");
            g.writeNumberField("val_loss", Math.round(valLoss * 1e4) / 1e4);
            g.writeNumberField("bits_per_char", Math.round(bits * 1e3) / 1e3);
            g.writeNumberField("epochs", history.last().epoch());
            g.writeNumberField("vocabulary", vocabulary.size());
            g.writeStringField("sample", sample);
            g.writeStringField("checkpoint", checkpoints.lastFile().toString());
        }));
        return Cli.DONE;
    }

    /**
     * The corpus as printable ASCII and newlines: a fortune file's overstrikes ("_\bx") keep
     * their last character; other characters are dropped. A folder's fortunes are shuffled once
     * (always the same way) before the first {@code maxChars} are taken.
     */
    static String read(Path corpus, int maxChars) throws IOException {
        if (!Files.exists(corpus)) {
            throw new Cli.Failure(Cli.BAD_OPTIONS, "--corpus " + corpus + ": no such file or folder"
                    + (corpus.equals(FORTUNES) ? "; install Debian's fortune collection (apt-get install fortunes) or "
                    + "name a text file with --corpus" : ""), false);
        }
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(corpus)) {
            try (Stream<Path> s = Files.list(corpus)) {
                s.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".dat") && !p.toString().endsWith(".u8"))
                        .sorted().forEach(files::add);
            }
        } else {
            files.add(corpus);
        }
        StringBuilder sb = new StringBuilder();
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            for (int i = 0; i < bytes.length; i++) {
                int c = bytes[i] & 0xFF;
                if (i + 1 < bytes.length && bytes[i + 1] == '\b') {
                    continue; // overstruck: the character after the backspace stays
                }
                if (c == '\n' || c >= 32 && c < 127) {
                    sb.append((char) c);
                }
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
                sb.append('\n');
            }
        }
        String text = sb.toString();
        if (files.size() > 1) {
            // a folder of fortune files: its fortunes (each ends in a line "%") in one fixed shuffled order, so
            // that a part of the corpus is a mix of them rather than the first files' (ascii art, say)
            List<String> fortunes = new ArrayList<>(List.of(text.split("(?<=\n%\n)")));
            Collections.shuffle(fortunes, new java.util.Random(0));
            text = String.join("", fortunes);
        }
        return maxChars > 0 && text.length() > maxChars ? text.substring(0, maxChars) : text;
    }

    static List<Character> vocabulary(String text) {
        TreeSet<Character> set = new TreeSet<>();
        for (int i = 0; i < text.length(); i++) {
            set.add(text.charAt(i));
        }
        return List.copyOf(set);
    }

    private static int[] encode(String text, List<Character> vocabulary) {
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Collections.binarySearch(vocabulary, text.charAt(i));
        }
        return ids;
    }

    /** Sequences {@code first .. first + count} of the corpus: inputs and the next characters as targets. */
    private static TensorDataset windows(int[] ids, int seq, int first, int count) {
        long[] x = new long[count * seq];
        long[] y = new long[count * seq];
        for (int s = 0; s < count; s++) {
            int at = (first + s) * seq;
            for (int t = 0; t < seq; t++) {
                x[s * seq + t] = ids[at + t];
                y[s * seq + t] = ids[at + t + 1];
            }
        }
        return new TensorDataset(Tensor.of(x, count, seq), Tensor.of(y, count, seq));
    }

    /**
     * {@code n} characters after {@code prime}, each drawn from softmax(scores / temperature)
     * given everything before it (the LSTM's state carried from step to step).
     */
    static String sample(Model model, List<Character> vocabulary, String prime, int n, double temperature,
                         Generator rng) {
        StringBuilder out = new StringBuilder();
        List<Character> known = new ArrayList<>();
        for (char c : prime.toCharArray()) {
            if (Collections.binarySearch(vocabulary, c) >= 0) {
                known.add(c);
            }
        }
        if (known.isEmpty()) {
            known.add(vocabulary.get(0));
        }
        model.eval();
        try (var s = Autograd.noGrad()) {
            Tensor h = null;
            Tensor c = null;
            long next = -1;
            for (int i = 0; i < known.size() + n; i++) {
                long id = i < known.size() ? Collections.binarySearch(vocabulary, known.get(i)) : next;
                char ch = vocabulary.get((int) id);
                out.append(ch);
                Tensor x = model.embedding.forward(Tensor.of(new long[] {id}, 1, 1));
                Recurrent.Output o = model.lstm.forward(x, h, c);
                h = o.h();
                c = o.c();
                double[] p = model.head.forward(o.output().reshape(1, -1)).div(temperature).softmax(-1)
                        .to(DType.FLOAT64).toDoubleArray();
                double u = Tensor.rand(rng, 1).item();
                next = p.length - 1;
                double acc = 0;
                for (int k = 0; k < p.length; k++) {
                    acc += p[k];
                    if (u < acc) {
                        next = k;
                        break;
                    }
                }
            }
        }
        model.train();
        return out.toString();
    }
}
