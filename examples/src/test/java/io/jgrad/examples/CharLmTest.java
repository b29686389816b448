package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CharLmTest {
    @TempDir
    Path dir;

    /** A small corpus with structure to learn: sentences from a few words, as fortunes separated by "%". */
    private Path corpus() throws IOException {
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far"};
        Random r = new Random(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 12_000) {
            for (int i = 0; i < 6; i++) {
                sb.append(words[r.nextInt(words.length)]).append(i < 5 ? " " : ".\n%\n");
            }
        }
        Path f = dir.resolve("corpus.txt");
        Files.writeString(f, sb);
        return f;
    }

    private List<String> args(Path corpus, String out, String... more) {
        List<String> a = new ArrayList<>(List.of("--corpus", corpus.toString(), "--seq", "32", "--batch-size", "16",
                "--hidden", "48", "--epochs", "3", "--sample", "60", "--prime", "the ", "--out",
                dir.resolve(out).toString()));
        a.addAll(List.of(more));
        return a;
    }

    private static String result(Console.Run r) {
        return r.out().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void itLearnsTheCorpusPrintsTheLossPerEpochAndSamplesText() throws IOException {
        Path c = corpus();
        Console.Run r = Console.capture(() -> CharLm.run(args(c, "out").toArray(new String[0])));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("epoch 1/3  loss \\d\\.\\d{4}  val_loss").contains("epoch 3/3")
                .contains("sample (temperature 0.8):\nthe ");
        double bits = Double.parseDouble(result(r).replaceAll(".*\"bits_per_char\":([0-9.]+).*", "$1"));
        int vocabulary = Integer.parseInt(result(r).replaceAll(".*\"vocabulary\":(\\d+).*", "$1"));
        // uniform guessing costs log2(vocabulary) bits; the corpus has far less entropy than that
        assertThat(bits).isLessThan(0.6 * Math.log(vocabulary) / Math.log(2));
        String sample = result(r).replaceAll(".*\"sample\":\"(.*?)\",\"checkpoint.*", "$1");
        assertThat(sample.replace("\\n", "\n")).hasSize(4 + 60).startsWith("the ");
    }

    @Test
    void anInterruptedRunResumedEndsWhereAStraightRunDoes() throws IOException {
        Path c = corpus();
        Console.Run straight = Console.capture(() -> CharLm.run(args(c, "a")
                .toArray(new String[0])));
        Console.Run first = Console.capture(() -> CharLm.run(args(c, "b", "--stop-after", "30").toArray(new String[0])));
        assertThat(first.out()).contains("resume with --resume");
        Console.Run resumed = Console.capture(() -> CharLm.run(args(c, "b", "--resume").toArray(new String[0])));
        assertThat(resumed.status()).as(resumed.err()).isZero();
        assertThat(result(resumed).replaceAll("\"checkpoint\":\"[^\"]*\"", ""))
                .isEqualTo(result(straight).replaceAll("\"checkpoint\":\"[^\"]*\"", ""));
    }

    @Test
    void badOptionsAndAMissingCorpusAreOneLineAndStatus2() {
        Console.Run t = Console.capture(() -> CharLm.run("--temperature", "0", "--corpus", dir.toString()));
        assertThat(t.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(t.firstErrorLine()).contains("--temperature must be positive");
        Console.Run m = Console.capture(() -> CharLm.run("--corpus", dir.resolve("none.txt").toString()));
        assertThat(m.status()).isEqualTo(Cli.BAD_OPTIONS);
        assertThat(m.firstErrorLine()).contains("none.txt: no such file or folder");
    }

    @Test
    void overstrikesAndOtherBytesLeavePrintableText() throws IOException {
        Path f = dir.resolve("o.txt");
        Files.write(f, new byte[] {'_', '\b', 'x', 'y', (byte) 0xE9, '\t', 'z', '\n'});
        assertThat(CharLm.read(f, 0)).isEqualTo("xyz\n");
    }
}
