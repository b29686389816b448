package io.jgrad.examples;

import io.jgrad.core.NonFiniteException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;
import picocli.CommandLine;

/**
 * A program's command line, parsed by picocli: {@code --name value} and {@code --name=value},
 * {@code -h}/{@code --help}, typed values with defaults, and the exit codes every program shares
 * (0 done, 1 I/O problem, 2 bad options, 3 non-finite loss). A missing or malformed value or an
 * unknown option prints one line and the usage, and exits with 2; never a stack trace.
 */
final class Cli {
    static final int DONE = 0;
    static final int IO_PROBLEM = 1;
    static final int BAD_OPTIONS = 2;
    static final int NON_FINITE = 3;
    /** A sanity check failed ({@code --sanity}). */
    static final int SANITY_FAILED = 4;

    static {
        // jgrad's library logs (System.Logger, to java.util.logging by default) as one line each,
        // "INFO: matrix products: ...", instead of a date line and a message line; -D... overrides it
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
    }

    /** Ends a program with {@code status} after printing the message (and the usage, if asked). */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final boolean withUsage;

        Failure(int status, String message, boolean withUsage) {
            super(message);
            this.status = status;
            this.withUsage = withUsage;
        }
    }

    /** A program's work, once its options are parsed; returns the exit status. */
    @FunctionalInterface
    interface Body {
        int run() throws IOException;
    }

    private final CommandSpec spec;
    private CommandLine parser; // made once all options are declared

    /** A command line for {@code ./run <program>}; its usage starts with the program's line in {@link Main}. */
    Cli(String program) {
        spec = CommandSpec.create().name("./run " + program);
        spec.usageMessage().synopsisHeading("usage: ").customSynopsis("./run " + program + " [options]%n")
                .description(Main.summary(program)).sortOptions(false).width(110);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("show this help and exit").build());
    }

    /** Declares {@code --name} with a number of {@code type} (int, long or double); a null default means none. */
    Cli option(String name, Class<?> type, String defaultValue, String description) {
        return option(name, type, type == double.class ? "X" : "N", defaultValue, description);
    }

    /** Declares {@code --name} with a text value, shown as {@code label} in the usage (a folder, a choice). */
    Cli text(String name, String label, String defaultValue, String description) {
        return option(name, String.class, label, defaultValue, description);
    }

    private Cli option(String name, Class<?> type, String label, String defaultValue, String description) {
        spec.addOption(OptionSpec.builder("--" + name).type(type).paramLabel(label).defaultValue(defaultValue)
                .description(description + (defaultValue == null ? "" : " (default " + defaultValue + ")")).build());
        return this;
    }

    /** Declares the flag {@code --name}, off unless given. */
    Cli flag(String name, String description) {
        spec.addOption(OptionSpec.builder("--" + name).type(boolean.class).arity("0").description(description).build());
        return this;
    }

    /** Declares the flag {@code --name}, on unless {@code --no-name} is given. */
    Cli negatableFlag(String name, String description) {
        spec.addOption(OptionSpec.builder("--" + name).type(boolean.class).arity("0").negatable(true)
                .defaultValue("true").fallbackValue("true") // without it picocli's --no-name leaves the flag on
                .description(description).build());
        return this;
    }

    /**
     * Parses {@code argv} and runs {@code body}, turning the outcome into an exit status: help
     * printed (0), a parse error or a {@link Failure} (its status), a non-finite loss (3), an I/O
     * problem (1).
     */
    int run(String[] argv, Body body) {
        CommandLine cl = parser();
        try {
            cl.parseArgs(argv);
        } catch (ParameterException e) {
            System.err.println(parseError(e));
            System.err.print(System.lineSeparator() + usage());
            return BAD_OPTIONS;
        }
        if (cl.isUsageHelpRequested()) {
            System.out.print(usage());
            return DONE;
        }
        try {
            return body.run();
        } catch (Failure e) {
            System.err.println(e.getMessage());
            if (e.withUsage) {
                System.err.print(System.lineSeparator() + usage());
            }
            return e.status;
        } catch (NonFiniteException e) {
            System.err.println("stopped: " + e.getMessage());
            return NON_FINITE;
        } catch (IOException e) {
            System.err.println("error: " + describe(e));
            return IO_PROBLEM;
        } catch (UncheckedIOException e) {
            System.err.println("error: " + describe(e.getCause()));
            return IO_PROBLEM;
        }
    }

    private static String parseError(ParameterException e) {
        String line = e.getMessage();
        if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
            line += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
        }
        return line;
    }

    /** The usage text: synopsis, the program's line, and each option with its default. */
    String usage() {
        return parser().getUsageMessage();
    }

    private CommandLine parser() {
        if (parser == null) {
            parser = new CommandLine(spec).setExpandAtFiles(false); // an argument "@x" is a value, not a file to read
        }
        return parser;
    }

    /** A caller's mistake found after parsing (a range, a combination): ends with status 2 and the usage. */
    Failure fail(String message) {
        return new Failure(BAD_OPTIONS, message, true);
    }

    private OptionSpec spec(String name) {
        OptionSpec o = spec.findOption("--" + name);
        if (o == null) {
            throw new IllegalArgumentException("no option --" + name);
        }
        return o;
    }

    /** The option's value as typed on the command line, else its default, else "" (a flag: "true" or ""). */
    String get(String name) {
        OptionSpec o = spec(name);
        if (o.arity().max() == 0) {
            return Boolean.TRUE.equals(o.getValue()) ? "true" : "";
        }
        List<String> given = o.originalStringValues();
        String v = given.isEmpty() ? o.defaultValue() : given.get(given.size() - 1);
        return v == null ? "" : v;
    }

    /** Whether a value was given for the option. */
    boolean given(String name) {
        return !spec(name).originalStringValues().isEmpty();
    }

    boolean flag(String name) {
        return Boolean.TRUE.equals(spec(name).getValue());
    }

    int integer(String name, int min) {
        int v = spec(name).<Integer>getValue();
        if (v < min) {
            throw fail("--" + name + " must be at least " + min + ", got " + v);
        }
        return v;
    }

    long longValue(String name) {
        return spec(name).<Long>getValue();
    }

    double number(String name, double min) {
        double v = spec(name).<Double>getValue();
        if (!(v >= min) || Double.isInfinite(v)) {
            throw fail("--" + name + " must be a finite number >= " + min + ", got " + v);
        }
        return v;
    }

    String choice(String name, String... allowed) {
        String v = get(name);
        if (!List.of(allowed).contains(v)) {
            throw fail("--" + name + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
        }
        return v;
    }

    /**
     * The options as JSON strings, in declaration order, for a checkpoint's config; {@code except}
     * leaves some out. The form is fixed (older checkpoints compare it on resume): every value as
     * a string, "" where none is given.
     */
    String toJson(String... except) {
        Set<String> skip = Set.of(except);
        return Json.object(g -> {
            for (OptionSpec o : spec.options()) {
                String name = o.longestName().substring(2);
                if (!o.usageHelp() && !skip.contains(name)) {
                    g.writeStringField(name, get(name));
                }
            }
        });
    }

    /**
     * The options as a JSON object with typed values, for the RESULT line: numbers as numbers,
     * flags as booleans, text as strings or null when not given; {@code effective} replaces the
     * values the program resolved itself (a default that depends on other options).
     */
    void writeJson(com.fasterxml.jackson.core.JsonGenerator g, java.util.Map<String, ?> effective)
            throws java.io.IOException {
        g.writeStartObject();
        for (OptionSpec o : spec.options()) {
            String name = o.longestName().substring(2);
            if (o.usageHelp()) {
                continue;
            }
            g.writeFieldName(name);
            Object v = effective.get(name);
            if (v instanceof Number n) {
                g.writeNumber(n.doubleValue() == Math.rint(n.doubleValue()) && !(n instanceof Double)
                        ? Long.toString(n.longValue()) : Double.toString(n.doubleValue()));
            } else if (o.arity().max() == 0) {
                g.writeBoolean(Boolean.TRUE.equals(o.getValue()));
            } else if (get(name).isEmpty()) {
                g.writeNull();
            } else if (o.type() == int.class || o.type() == long.class) {
                g.writeNumber(Long.parseLong(get(name)));
            } else if (o.type() == double.class) {
                g.writeNumber(Double.parseDouble(get(name)));
            } else {
                g.writeString(get(name));
            }
        }
        g.writeEndObject();
    }

    /**
     * One line for an exception: its message, naming what the JDK's file exceptions leave
     * unsaid (they carry only the path), or its type and cause where it has no message.
     */
    static String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName() + (e.getCause() == null ? "" : " (" + describe(e.getCause()) + ")");
        }
        if (e instanceof FileSystemException f && f.getReason() == null) {
            return (e instanceof NoSuchFileException ? "no such file or folder"
                    : e instanceof AccessDeniedException ? "permission denied" : e.getClass().getSimpleName()) + ": " + m;
        }
        return m;
    }

    /**
     * Prints the BLAS library in use (core's {@link io.jgrad.core.cpu.Blas#backend()}); a bad
     * {@code -Djgrad.blas} or {@code -Djgrad.blas.library} ends the program with its message and status 2.
     */
    static void printBlas() {
        try {
            System.out.println("BLAS: " + io.jgrad.core.cpu.Blas.backend());
        } catch (IllegalArgumentException e) {
            throw new Failure(BAD_OPTIONS, e.getMessage(), false);
        }
    }
}
