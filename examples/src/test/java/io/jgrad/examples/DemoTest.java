package io.jgrad.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code ./run Demo} is the README's quick start: it prints what the first block's comments say, in order. */
class DemoTest {
    @Test
    void demoPrintsTheQuickStartsValues() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher block = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find()).isTrue();
        List<String> expected = new ArrayList<>();
        for (String line : block.group(1).split("\n")) {
            int arrow = line.indexOf("// → ");
            if (arrow >= 0) {
                expected.add(line.substring(arrow + 5).replaceAll(" {3,}\\(.*\\)$", "").replaceAll("\\s+", " ").trim());
            }
        }
        Console.Run r = Console.capture(() -> Demo.run());
        assertThat(r.status()).isZero();
        String printed = r.out().replaceAll("\\s+", " ").trim();
        assertThat(printed).isEqualTo(String.join(" ", expected));
        assertThat(expected).hasSize(5);
    }
}
