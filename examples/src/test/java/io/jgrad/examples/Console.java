package io.jgrad.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/** Runs a program in this JVM with its standard output and error captured. */
final class Console {
    /** A program's exit status and what it printed. */
    record Run(int status, String out, String err) {
        /**
         * The program's first line on standard error, past the library's log lines (for example
         * jgrad's "INFO: matrix products: ..." when no native BLAS runs).
         */
        String firstErrorLine() {
            return err.lines().filter(l -> !l.matches("(INFO|WARNING|DEBUG): .*")).findFirst().orElse("");
        }
    }

    private Console() {}

    static Run capture(IntSupplier program) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = program.getAsInt();
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
