package io.jgrad.examples;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options of the form {@code --name value} (or a bare {@code --flag}), with
 * defaults; a bad option prints the usage and ends the program with status 2.
 */
final class Args {
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final String program;
    private final Map<String, String> defaults = new LinkedHashMap<>();
    private final Map<String, String> help = new LinkedHashMap<>();
    private final Map<String, String> values = new LinkedHashMap<>();

    Args(String program) {
        this.program = program;
    }

    /** Declares an option with its default ("" for a flag that is off). */
    Args option(String name, String defaultValue, String description) {
        defaults.put(name, defaultValue);
        help.put(name, description);
        return this;
    }

    Args parse(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println(usage());
                System.exit(0);
            }
            if (!a.startsWith("--") || !defaults.containsKey(a.substring(2))) {
                fail("unknown option " + a);
            }
            String name = a.substring(2);
            boolean flag = defaults.get(name).isEmpty() && (i + 1 >= argv.length || argv[i + 1].startsWith("--"));
            values.put(name, flag ? "true" : argv[++i]);
        }
        return this;
    }

    String get(String name) {
        return values.getOrDefault(name, defaults.get(name));
    }

    boolean flag(String name) {
        return Boolean.parseBoolean(get(name));
    }

    int integer(String name, int min) {
        try {
            int v = Integer.parseInt(get(name));
            if (v < min) {
                fail("--" + name + " must be at least " + min + ", got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw fail("--" + name + " must be an integer, got '" + get(name) + "'");
        }
    }

    double number(String name, double min) {
        try {
            double v = Double.parseDouble(get(name));
            if (!(v >= min) || Double.isInfinite(v)) {
                fail("--" + name + " must be a finite number >= " + min + ", got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw fail("--" + name + " must be a number, got '" + get(name) + "'");
        }
    }

    String choice(String name, String... allowed) {
        String v = get(name);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw fail("--" + name + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
    }

    UsageException fail(String message) {
        throw new UsageException(message + "\n\n" + usage());
    }

    String usage() {
        StringBuilder sb = new StringBuilder("usage: ./run " + program + " [options]\n");
        for (var e : defaults.entrySet()) {
            sb.append(String.format("  --%-14s %s%s%n", e.getKey(), help.get(e.getKey()),
                    e.getValue().isEmpty() ? "" : " (default " + e.getValue() + ")"));
        }
        return sb.toString();
    }

    /** The options as JSON, for the RESULT line; {@code except} leaves some out (for a checkpoint's config). */
    String toJson(String... except) {
        java.util.Set<String> skip = java.util.Set.of(except);
        StringBuilder sb = new StringBuilder("{");
        for (String k : defaults.keySet()) {
            if (skip.contains(k)) {
                continue;
            }
            sb.append(sb.length() > 1 ? "," : "").append(Trainer.quote(k)).append(':').append(Trainer.quote(get(k)));
        }
        return sb.append('}').toString();
    }
}
