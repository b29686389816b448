package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.jgrad.data.FashionMnist;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training programs' options and where their data comes from, on any machine: the search
 * path, the download address and folder are a test's own (an empty folder, a loopback server or
 * a closed port), so the real data set, if installed, is never found by accident.
 */
class FashionMnistProgramTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    private FashionMnistProgram program(URI base, Map<String, String> digests) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        return LinearClassifier.PROGRAM.withSources(new FashionMnistData.Sources(List.of(empty), base, digests,
                dir.resolve("downloaded")));
    }

    private static URI closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return URI.create("http://127.0.0.1:" + s.getLocalPort() + "/");
        }
    }

    private static String result(String out) {
        return out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
    }

    private static double accuracy(String out) {
        return Double.parseDouble(result(out).replaceAll(".*\"test_accuracy\":([0-9.]+).*", "$1"));
    }

    @Test
    void aMissingOrMalformedValueIsOneLineAndTheUsageNeverATrace() {
        Map<List<String>, String> cases = Map.of(
                List.of("--epochs"), "Missing required parameter for option '--epochs' (N)",
                List.of("--seed", "abc"), "Invalid value for option '--seed': 'abc' is not a long",
                List.of("--batch-size=1.5"), "Invalid value for option '--batch-size': '1.5' is not an int",
                List.of("--reg", "-1"), "--reg must be a finite number >= 0.0, got -1.0",
                List.of("--lr=NaN"), "--lr must be a finite number >= 0.0, got NaN",
                List.of("--momentum=-0.5"), "--momentum must be a finite number >= 0.0, got -0.5",
                List.of("--schedule", "linear"), "--schedule must be one of cosine, constant, got 'linear'",
                List.of("--dataset", "cifar10"), "--dataset cifar10 needs --data (the extracted folder or cifar-10-binary.tar.gz)",
                List.of("--epoch", "3"), "Unknown options: '--epoch', '3' (did you mean --epochs?)");
        cases.forEach((argv, line) -> {
            Console.Run r = Console.capture(() -> LinearClassifier.run(argv.toArray(String[]::new)));
            assertThat(r.status()).as("%s", argv).isEqualTo(2);
            assertThat(r.firstErrorLine()).as("%s", argv).isEqualTo(line);
            assertThat(r.err()).as("%s", argv).contains("usage: ./run LinearClassifier [options]").doesNotContain("\tat ");
        });
    }

    @Test
    void theCheckpointConfigKeepsItsFormSoOlderCheckpointsStillResume() {
        Cli cli = LinearClassifier.PROGRAM.cli();
        String[] config = new String[2];
        cli.run(new String[0], () -> {
            config[0] = cli.toJson(FashionMnistProgram.NOT_CONFIG);
            return 0;
        });
        // the string the hand-written parser before picocli stored in every checkpoint's metadata
        assertThat(config[0]).isEqualTo("{\"loss\":\"softmax\",\"reg\":\"1e-4\",\"lr\":\"\",\"schedule\":\"cosine\","
                + "\"momentum\":\"0.9\",\"epochs\":\"10\",\"batch-size\":\"128\",\"seed\":\"0\",\"dataset\":\"fashion-mnist\"}");
        Cli given = LinearClassifier.PROGRAM.cli();
        given.run(new String[] {"--lr=0.05", "--seed", "7", "--resume", "--no-download"}, () -> {
            config[1] = given.toJson("out", "checkpoint-every", "stop-after");
            return 0;
        });
        assertThat(config[1]).isEqualTo("{\"loss\":\"softmax\",\"reg\":\"1e-4\",\"lr\":\"0.05\",\"schedule\":\"cosine\","
                + "\"momentum\":\"0.9\",\"epochs\":\"10\",\"batch-size\":\"128\",\"seed\":\"7\",\"dataset\":\"fashion-mnist\","
                + "\"data\":\"\",\"download\":\"\",\"sanity\":\"\",\"resume\":\"true\",\"overwrite\":\"\",\"predictions\":\"\"}");
    }

    @Test
    void aDataFolderThatDoesNotExistIsNamedAndNothingElseIsRead() throws IOException {
        Path nowhere = dir.resolve("nowhere");
        Console.Run r = Console.capture(() -> LinearClassifier.run("--data", nowhere.toString(), "--out", dir.toString()));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.firstErrorLine()).isEqualTo("--data " + nowhere + ": no such folder; Fashion-MNIST is read from a "
                + "folder holding its four .gz files");
        assertThat(r.out()).doesNotContain("Fashion-MNIST from");
        Path partial = Files.createDirectories(dir.resolve("partial"));
        Files.write(partial.resolve("train-images-idx3-ubyte.gz"), new byte[] {1});
        Files.write(partial.resolve("t10k-images-idx3-ubyte"), new byte[] {1});
        Console.Run p = Console.capture(() -> LinearClassifier.run("--data=" + partial, "--out", dir.toString()));
        assertThat(p.status()).isEqualTo(2);
        assertThat(p.firstErrorLine()).isEqualTo("--data " + partial + ": no train-labels-idx1-ubyte.gz, "
                + "t10k-labels-idx1-ubyte.gz (gzipped or not) in this folder");
    }

    @Test
    void cifarFromAPathThatDoesNotExistSaysWhatItExpected() {
        Path nowhere = dir.resolve("cifar");
        Console.Run r = Console.capture(() -> LinearClassifier.run("--dataset", "cifar10", "--data", nowhere.toString()));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.firstErrorLine()).isEqualTo("--data " + nowhere + ": no such file or folder; --dataset cifar10 "
                + "reads the extracted cifar-10-batches-bin folder, the folder holding it, or cifar-10-binary.tar.gz");
    }

    /** A machine with a JDK and nothing else: no copy anywhere, and the download cannot connect. */
    @Test
    void offlineWithoutACopyItSaysWhyAndTrainsOnTheEmbeddedSubset() throws IOException {
        URI base = closedPort();
        Path out = dir.resolve("out");
        Console.Run r = Console.capture(() -> {
            try {
                return program(base, FashionMnist.SHA256).run("--epochs=1", "--lr=0.01", "--out", out.toString());
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("BLAS: ");
        assertThat(r.err()).contains("download failed: 127.0.0.1: cannot download t10k-images-idx3-ubyte.gz: cannot "
                + "connect to 127.0.0.1:" + base.getPort() + " (").doesNotContain("null");
        assertThat(r.out()).contains("using the subset of Fashion-MNIST embedded in jgrad: 6000 training and 1000 test "
                + "images").contains("apt-get install dataset-fashion-mnist").contains("--download")
                .contains("Fashion-MNIST from the embedded subset: 6000 train, 1000 test images");
        assertThat(result(r.out())).contains("\"lr\":0.01,").contains("\"epochs\":1,"); // typed options
        assertThat(accuracy(r.out())).isGreaterThan(0.70); // chance is 0.10
        assertThat(r.out() + r.err()).doesNotContain("\r");
        assertThat(dir.resolve("downloaded")).isEmptyDirectory();
    }

    @Test
    void noDownloadGoesStraightToTheSubsetWithoutARequest() throws IOException {
        AtomicInteger requests = new AtomicInteger();
        HttpServer server = serve(Map.of(), requests);
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            FashionMnistProgram p = program(base, FashionMnist.SHA256);
            Console.Run r = Console.capture(() -> p.run("--no-download", "--stop-after", "1", "--out", dir.toString()));
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.out()).contains("and --no-download is given").contains("Fashion-MNIST from the embedded subset");
            assertThat(requests.get()).isZero();
        } finally {
            server.stop(0);
        }
    }

    /**
     * Issue 17 item 5: a new run into a folder holding another run's checkpoints overwrote that
     * run's files without a word. It is refused, naming the folder and the run; --overwrite
     * replaces it, --resume continues it, and both at once are contradictory options.
     */
    @Test
    void aNewRunIntoAnEarlierRunsFolderIsRefusedUnlessResumedOrOverwritten() throws IOException {
        FashionMnistProgram p = program(closedPort(), FashionMnist.SHA256);
        Path out = dir.resolve("out");
        Console.Run first = Console.capture(() -> p.run("--no-download", "--stop-after", "4", "--out", out.toString()));
        assertThat(first.status()).as(first.err()).isZero();
        Path earlier = out.resolve("linearclassifier-softmax-step4.safetensors");
        byte[] bytes = Files.readAllBytes(earlier);

        Console.Run again = Console.capture(() -> p.run("--no-download", "--stop-after", "2", "--seed", "5", "--out",
                out.toString()));
        assertThat(again.status()).isEqualTo(Cli.IO_PROBLEM);
        assertThat(again.firstErrorLine()).isEqualTo("error: " + out + ": holds checkpoints of "
                + "'linearclassifier-softmax-step' (1 file, newest linearclassifier-softmax-step4.safetensors after 4 "
                + "steps); resume that run, overwrite it on purpose, or write to another folder (--resume, --overwrite or "
                + "another --out)");
        assertThat(Files.readAllBytes(earlier)).isEqualTo(bytes);

        Console.Run both = Console.capture(() -> p.run("--no-download", "--resume", "--overwrite", "--out",
                out.toString()));
        assertThat(both.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(both.firstErrorLine()).contains("--resume and --overwrite contradict each other");

        Console.Run replaced = Console.capture(() -> p.run("--no-download", "--stop-after", "2", "--seed", "5",
                "--overwrite", "--out", out.toString()));
        assertThat(replaced.status()).as(replaced.err()).isZero();
        assertThat(replaced.err()).contains("warning: overwriting: " + out + " holds checkpoints of "
                + "'linearclassifier-softmax-step'");
        assertThat(earlier).doesNotExist();
        assertThat(out.resolve("linearclassifier-softmax-step2.safetensors")).exists();

        Console.Run resumed = Console.capture(() -> p.run("--no-download", "--stop-after", "3", "--seed", "5",
                "--resume", "--out", out.toString()));
        assertThat(resumed.status()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resumed from").contains("step2");
        assertThat(out.resolve("linearclassifier-softmax-step3.safetensors")).exists();
    }

    /** --sanity runs the lecture's three checks instead of training, after the model's summary. */
    @Test
    void sanityChecksRunInsteadOfTrainingAndPass() throws IOException {
        FashionMnistProgram p = program(closedPort(), FashionMnist.SHA256);
        Path out = dir.resolve("out");
        Console.Run r = Console.capture(() -> p.run("--no-download", "--sanity", "--loss", "svm", "--out", out.toString()));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("(model)  Linear  [1, 10]              7,850")
                .containsPattern("initial loss \\(small weights\\) +9\\.00\\d\\d +9\\.0000 ± 2% +pass")
                .containsPattern("overfit 20 examples +[0-9.]+ -> 0\\.0\\d+ in 300 steps +below 0\\.4500 +pass")
                .containsPattern("gradient check \\(float64, 8 directions per tensor\\) +max relative error [0-9.e-]+ +at "
                        + "most 1e-5 +pass")
                .contains("all sanity checks passed").doesNotContain("RESULT").doesNotContain("epoch 1/");
        assertThat(out).doesNotExist(); // nothing trained, nothing written
    }

    /** The subset's own files stand in for the full set: what is served is checked, and shown in plain lines. */
    @Test
    void aDownloadIsCheckedAndShownInPlainLinesInALog() throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        Map<String, String> digests = new HashMap<>();
        Path copy = Files.createDirectories(dir.resolve("copy"));
        for (String f : FashionMnist.FILES) {
            try (InputStream in = FashionMnistData.class.getResourceAsStream(FashionMnistData.SUBSET + f)) {
                files.put(f, in.readAllBytes());
            }
            digests.put(f, FashionMnist.sha256(Files.write(copy.resolve(f), files.get(f))));
        }
        HttpServer server = serve(files, new AtomicInteger());
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
            FashionMnistProgram p = program(base, digests);
            Console.Run r = Console.capture(() -> p.run("--stop-after", "1", "--out", dir.resolve("out").toString()));
            assertThat(r.status()).as(r.err()).isZero();
            Path into = dir.resolve("downloaded");
            assertThat(r.out()).contains("downloading it from " + base + " into " + into)
                    .contains("  train-images-idx3-ubyte.gz: 2.5 MB\n").contains("  train-images-idx3-ubyte.gz: 25%\n")
                    .contains("  train-images-idx3-ubyte.gz: 100%\n").contains("Fashion-MNIST from " + into + ": 6000 train");
            assertThat(r.out() + r.err()).doesNotContain("\r");
            for (String f : FashionMnist.FILES) {
                assertThat(into.resolve(f)).hasBinaryContent(files.get(f));
            }
        } finally {
            server.stop(0);
        }
    }

    private static HttpServer serve(Map<String, byte[]> files, AtomicInteger requests) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            byte[] body = files.get(ex.getRequestURI().getPath().substring(1));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body);
                }
            }
            ex.close();
        });
        server.start();
        return server;
    }

    /** Output that is not a terminal (a pipe here, as in a log) gets the epoch lines but no progress bar's carriage returns. */
    @Test
    void aLogGetsNoCarriageReturns() throws Exception {
        Path data = Files.createDirectories(dir.resolve("subset"));
        for (String f : FashionMnist.FILES) {
            try (InputStream in = FashionMnistData.class.getResourceAsStream(FashionMnistData.SUBSET + f)) {
                Files.copy(in, data.resolve(f));
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--data", data.toString(), "--epochs", "1", "--out", dir.resolve("out").toString(), "--predictions",
                dir.resolve("out/predictions.csv").toString()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor()).as(out).isZero();
        assertThat(out).containsPattern("epoch 1/1  loss \\d\\.\\d{4}  accuracy \\d\\.\\d{4}  val_loss").doesNotContain("\r");
        // the RESULT line is JSON any parser reads: confusion matrix, macro F1, typed options
        String result = out.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        assertThat(result).contains("\"macro_f1\":").contains("\"confusion_matrix\":[[")
                .contains("\"epochs\":1,").contains("\"lr\":0.01,").contains("\"resume\":false");
        assertThat(out).contains("confusion matrix (test set):").contains("macro avg");
        List<String> csv = Files.readAllLines(dir.resolve("out/predictions.csv"));
        assertThat(csv).hasSize(1001).startsWith("index,label,predicted");
        assertThat(csv.get(1)).matches("0,[0-9],[0-9]");
        assertThat(out).contains("wrote " + dir.resolve("out/predictions.csv"));
    }

    /** A bad -Djgrad.blas is found before any data is read: one line, status 2 (in a JVM of its own: the choice is made once). */
    @Test
    void aBadBlasSettingIsOneLineAndStatus2() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Djgrad.blas=bogus", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "--no-download", "--out", dir.toString()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor()).as(out).isEqualTo(2);
        assertThat(out.lines().filter(l -> !l.startsWith("WARNING"))).singleElement().asString()
                .contains("jgrad.blas").contains("bogus");
    }
}
