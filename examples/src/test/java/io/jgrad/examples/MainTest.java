package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@code ./run} does with its arguments (it starts {@link Main} with all of them). */
class MainTest {
    static Stream<String> programs() {
        return Main.PROGRAMS.stream().map(Main.Program::name);
    }

    @Test
    void helpListsEachProgramOnOneLineAndTheMainProgramsOptions() {
        Console.Run r = Console.capture(() -> Main.run("--help"));
        assertThat(r.status()).isZero();
        for (Main.Program p : Main.PROGRAMS) {
            assertThat(r.out().lines().filter(l -> l.matches("  " + p.name() + " +\\Q" + p.summary() + "\\E")))
                    .as(p.name()).hasSize(1);
        }
        assertThat(r.out()).contains("usage: ./run LinearClassifier [options]").contains("--loss=softmax|svm")
                .contains("--resume").contains("--[no-]download");
    }

    @Test
    void anUnknownProgramIsNamedWithTheListAndExits2() {
        Console.Run r = Console.capture(() -> Main.run("NoSuchProgram"));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.firstErrorLine()).startsWith("unknown program 'NoSuchProgram'; the programs are LinearClassifier, ");
        programs().forEach(name -> assertThat(r.err()).contains("  " + name + " "));
        assertThat(r.err()).doesNotContain("Exception");
    }

    /** Options without a program are the main program's: each of these fails in LinearClassifier's own checks. */
    @Test
    void optionsWithoutAProgramGoToTheMainProgram() {
        Console.Run svm = Console.capture(() -> Main.run("--loss", "svm", "--epochs", "0"));
        assertThat(svm.status()).isEqualTo(2);
        assertThat(svm.firstErrorLine()).isEqualTo("--epochs must be at least 1, got 0");
        Console.Run resume = Console.capture(() -> Main.run("--resume", "--batch-size", "0"));
        assertThat(resume.firstErrorLine()).isEqualTo("--batch-size must be at least 1, got 0");
        Console.Run help = Console.capture(() -> Main.run("--resume", "--help"));
        assertThat(help.status()).isZero();
        assertThat(help.out()).startsWith("usage: ./run LinearClassifier [options]");
        assertThat(Console.capture(() -> Main.run("linearclassifier", "--help")).out())
                .isEqualTo(help.out()); // names in any case
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    void everyProgramShowsItsHelpWithoutRunning(String name) {
        Console.Run r = Console.capture(() -> Main.run(name, "--help"));
        assertThat(r.status()).isZero();
        assertThat(r.out()).startsWith("usage: ./run " + name + " [options]").contains(Main.summary(name))
                .contains("-h, --help").doesNotContain("RESULT").doesNotContain("BLAS");
        assertThat(r.err()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    void everyProgramRejectsAnUnknownOptionInOneLineAndExits2(String name) {
        Console.Run r = Console.capture(() -> Main.run(name, "--bogus"));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.firstErrorLine()).isEqualTo("Unknown option: '--bogus'");
        assertThat(r.err()).contains("usage: ./run " + name).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.out()).doesNotContain("RESULT");
    }
}
