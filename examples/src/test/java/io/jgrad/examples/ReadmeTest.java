package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java block of README.md runs on its own in jshell (a fresh one per block, with jgrad's
 * jars on the class path), without a compile error or an exception, and every line commented
 * {@code // → text} prints that text (whitespace runs compared as one space; a trailing
 * "   (note)" is a note, not output).
 */
class ReadmeTest {
    private static final Pattern BLOCK = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL);
    private static final String MARK = "@@readme-mark ";

    @TempDir
    Path dir;

    private static String classPath() throws IOException {
        Set<String> entries = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            entries.add(e);
            if (e.endsWith(".jar") && Files.isRegularFile(Path.of(e))) {
                try (JarFile jar = new JarFile(e)) { // surefire's manifest-only jar lists the real class path
                    var manifest = jar.getManifest();
                    String cp = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.trim().split("\\s+")) {
                            entries.add(u.startsWith("file:") ? Path.of(URI.create(u)).toString()
                                    : Path.of(e).resolveSibling(u).toString());
                        }
                    }
                }
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static final Pattern WARNING = Pattern.compile("\\d\\d:\\d\\d:\\d\\d (WARN|INFO) \\S+: .*");
    private static final Pattern FRAME = Pattern.compile("\\s+at .*|\\s+\\.\\.\\. \\d+ more|Caused by: .*|\\s*Suppressed: .*");

    /**
     * The output without the records Spark logs at WARN or INFO (the log4j2 layout of the examples'
     * resources), each with its stack trace: on a loaded machine Spark warns of a late executor
     * heartbeat, with an RpcTimeoutException, while the snippet runs correctly. ERROR records stay.
     */
    static String withoutLoggedWarnings(String out) {
        String[] lines = out.split("\\R", -1);
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (!WARNING.matcher(lines[i]).matches()) {
                kept.append(lines[i]).append(i + 1 < lines.length ? "\n" : "");
                continue;
            }
            if (i + 2 < lines.length && FRAME.matcher(lines[i + 2]).matches()) {
                i++; // the logged exception's own line
            }
            while (i + 1 < lines.length && FRAME.matcher(lines[i + 1]).matches()) {
                i++;
            }
        }
        return kept.toString();
    }

    @org.junit.jupiter.api.Test
    void loggedWarningsAndTheirStackTracesAreDroppedAndEverythingElseKept() {
        String out = "24\n@@readme-mark 0\n19:31:02 WARN Executor: Issue communicating with driver in heartbeater\n"
                + "org.apache.spark.rpc.RpcTimeoutException: Future timed out\n\tat a.b(C.java:1)\n"
                + "Caused by: java.util.concurrent.TimeoutException: late\n\tat d.e(F.java:2)\n\t... 12 more\n"
                + "true\n19:31:03 WARN Utils: Set SPARK_LOCAL_IP\n19:31:04 ERROR Executor: lost\n"
                + "java.lang.IllegalStateException: x\n\tat g.h(I.java:3)\n@@readme-mark 1\n";
        assertThat(withoutLoggedWarnings(out)).isEqualTo("24\n@@readme-mark 0\ntrue\n19:31:04 ERROR Executor: lost\n"
                + "java.lang.IllegalStateException: x\n\tat g.h(I.java:3)\n@@readme-mark 1\n");
    }

    private static String collapse(String s) {
        return s.trim().replaceAll("\\s+", " ");
    }

    @TestFactory
    List<DynamicTest> everyJavaBlockRunsAndPrintsWhatItsCommentsSay() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = BLOCK.matcher(readme);
        List<DynamicTest> tests = new ArrayList<>();
        String cp = classPath();
        for (int n = 1; m.find(); n++) {
            String block = m.group(1);
            int number = n;
            tests.add(DynamicTest.dynamicTest("block " + n, () -> run(number, block, cp)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(4);
        return tests;
    }

    private void run(int number, String block, String cp) throws Exception {
        StringBuilder script = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (String line : block.split("\n", -1)) {
            script.append(line).append('\n');
            int arrow = line.indexOf("// → ");
            if (arrow >= 0) {
                String want = line.substring(arrow + "// → ".length()).replaceAll(" {3,}\\(.*\\)$", "");
                script.append("System.out.println(\"").append(MARK).append(expected.size()).append("\");\n");
                expected.add(want);
            }
        }
        script.append("/exit\n");
        Path file = Files.writeString(dir.resolve("block" + number + ".jsh"), script.toString());
        String jshell = Path.of(System.getProperty("java.home"), "bin", "jshell").toString();
        List<String> command = new ArrayList<>(List.of(jshell, "--class-path", cp, "-R-Djava.awt.headless=true"));
        // the --add-opens options Spark needs (the test JVM has them) for the snippets' JVM too
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens=") || a.startsWith("-Djdk.reflect")) {
                command.add("-R" + a);
            }
        }
        command.add(file.toString());
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = withoutLoggedWarnings(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(out).as("block %s:%n%s", number, out).doesNotContain("Error:").doesNotContain("Exception");
        String[] segments = out.split(Pattern.quote(MARK) + "\\d+\\R?", -1);
        assertThat(segments.length - 1).as("block %s: marks printed in%n%s", number, out).isEqualTo(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            String printed = collapse(segments[i]);
            assertThat(printed).as("block %s, comment %s", number, i + 1).endsWith(collapse(expected.get(i)));
        }
    }
}
