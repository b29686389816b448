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
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
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
