package io.jgrad.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * ONNX's own model checker (Debian's python3-onnx, 1.12 on Debian 12) with full shape inference
 * run on a file: the check a strict consumer of the file makes. Skipped where python3-onnx is not
 * installed, unless JGRAD_REQUIRE_ONNX_CHECKER is set (CI installs it and sets it).
 */
final class OnnxChecker {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final String SCRIPT = "import sys, onnx\n"
            + "m = onnx.load(sys.argv[1])\n"
            + "onnx.checker.check_model(m, full_check=True)\n"
            + "print('ok', onnx.__version__)\n";

    private OnnxChecker() {}

    static void assertValid(Path file) throws IOException, InterruptedException {
        boolean available = Files.isExecutable(PYTHON) && run("import onnx").exit == 0;
        if (System.getenv("JGRAD_REQUIRE_ONNX_CHECKER") == null) {
            Assumptions.assumeTrue(available, "python3-onnx is not installed (.ci/run installs it)");
        }
        assertThat(available).as("python3-onnx (JGRAD_REQUIRE_ONNX_CHECKER is set)").isTrue();
        Result r = run(SCRIPT, file.toString());
        assertThat(r.exit).as("onnx.checker on %s: %s", file, r.output).isZero();
        assertThat(r.output).startsWith("ok");
    }

    private record Result(int exit, String output) {}

    private static Result run(String script, String... args) throws IOException, InterruptedException {
        String[] cmd = new String[3 + args.length];
        cmd[0] = PYTHON.toString();
        cmd[1] = "-c";
        cmd[2] = script;
        System.arraycopy(args, 0, cmd, 3, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }
}
