package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The product library is chosen on a thread of its own as soon as the CPU backend is first used
 * ({@link Blas#chooseEarly}), so that its loading overlaps the program's own start; each case
 * runs {@link EarlyBlasProbe} in a fresh JVM, where nothing has chosen yet.
 */
class EarlyBlasTest {
    private static String probe(String... properties) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(List.of(properties));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), EarlyBlasProbe.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.append(line).append('\n');
            }
        }
        assertThat(child.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(child.exitValue()).as(out.toString()).isZero();
        return out.toString();
    }

    @Test
    void theLibraryIsChosenBeforeTheFirstProductOnADaemonThread() throws Exception {
        String out = probe();
        assertThat(out).contains("thread=jgrad-blas-init daemon chosenBeforeProduct=true mathReady=true bytesReady=true")
                .contains("product=19.0,22.0,43.0,50.0");
    }

    /**
     * The choice is logged where the program first multiplies, not whenever the early thread
     * finishes: a program that never multiplies gets no message in the middle of its output (CI's
     * run without any native library once saw the INFO line land after a README example's output).
     */
    @Test
    void theChoiceIsLoggedByTheFirstProductNotByTheEarlyThread(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path config = dir.resolve("logging.properties");
        java.nio.file.Files.writeString(config, String.join("\n", "handlers=java.util.logging.ConsoleHandler",
                "java.util.logging.ConsoleHandler.level=FINE", ".level=INFO", Blas.class.getName() + ".level=FINE", ""));
        String out = probe("-Djava.util.logging.config.file=" + config);
        int chosen = out.indexOf("chosenBeforeProduct=true");
        int logged = out.indexOf("matrix products:");
        assertThat(chosen).as(out).isNotNegative();
        assertThat(logged).as("the choice is logged once, after the early thread has finished: %s", out).isGreaterThan(chosen);
        assertThat(out.indexOf("matrix products:", logged + 1)).as(out).isNegative();
    }

    @Test
    void aBadSettingStillFailsTheFirstProductWithItsMessage() throws Exception {
        String out = probe("-Djgrad.blas=mkl");
        assertThat(out).contains("thread=jgrad-blas-init daemon chosenBeforeProduct=false")
                .contains("productFailed=jgrad.blas must be one of auto, openblas, jblas, java; got 'mkl'");
    }

    /**
     * With the Vector API and 512-bit vectors, the warm-up thread lets every kind of kernel in once
     * C2 has compiled it (the probe waits for the thread to end: the event, not a time); elsewhere
     * nothing waits and the flags say so at once. Run as it comes (where no native library loads, as
     * in CI's JDK-only pass, the pure-Java product is chosen) and after 256-bit vectors went through
     * the Vector API's shared code first: before the kernels passed their vectors through {@link
     * SmallGemm.Tiles#exact}, C2 then compiled the tiles without their store intrinsic and they never
     * came in (nine runs of nine with the libraries hidden; two of two here with the library loaded
     * and the widths mixed first). Where the CPU lacks 512-bit vectors both cases only check the flags.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theWarmUpLetsEveryVectorKernelIn(boolean mixWidths) throws Exception {
        // a loaded machine gets 90 s (the default is 30) before the warm-up gives up, under the probe's 2 minutes
        String out = probe("--add-modules=jdk.incubator.vector", "-XX:TieredStopAtLevel=4",
                "-Djgrad.blas.small.warmSeconds=90", "-Dprobe.mixWidths=" + mixWidths);
        assertThat(out).contains("mathReady=true bytesReady=true").contains("product=19.0,22.0,43.0,50.0");
        if (out.contains("vector=false")) {
            assertThat(out).contains("tilesReady=false dotReady=false");
            return;
        }
        assertThat(out).contains("thread=jgrad-blas-init daemon chosenBeforeProduct=true mathReady=true bytesReady=true "
                + "vector=true tilesReady=true dotReady=true");
    }

    @Test
    void theEarlyChoiceCanBeTurnedOff() throws Exception {
        String out = probe("-Djgrad.blas.early=false");
        assertThat(out).as("nothing warms the exponentials' and the image bytes' vector loops, so they run at once")
                .contains("thread=none chosenBeforeProduct=false mathReady=true bytesReady=true").contains("product=19.0,22.0,43.0,50.0");
    }
}
