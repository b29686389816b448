package io.jgrad.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jgrad.core.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics against scikit-learn 1.2.1's values on fixed predictions (made by
 * {@code train/src/test/python/make_sklearn_reference.py}), to 1e-12, streamed in uneven batches.
 */
class MetricsTest {
    private static final double EPS = 1e-12;

    /** A JSON value as maps, lists, numbers and strings (jackson-core has no tree model). */
    private static Object value(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            Map<String, Object> m = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String k = p.currentName();
                p.nextToken();
                m.put(k, value(p));
            }
            return m;
        }
        if (t == JsonToken.START_ARRAY) {
            List<Object> l = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                l.add(value(p));
            }
            return l;
        }
        return t.isNumeric() ? (Object) p.getDoubleValue() : p.getText();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases() throws IOException {
        try (InputStream in = MetricsTest.class.getResourceAsStream("sklearn-reference.json");
             JsonParser p = new JsonFactory().createParser(in)) {
            p.nextToken();
            Map<String, Object> root = (Map<String, Object>) value(p);
            assertThat(root.get("sklearn")).isEqualTo("1.2.1");
            return (List<Map<String, Object>>) root.get("cases");
        }
    }

    @SuppressWarnings("unchecked")
    private static double[] doubles(Object list) {
        return ((List<Object>) list).stream().mapToDouble(o -> (Double) o).toArray();
    }

    @SuppressWarnings("unchecked")
    private static Tensor scores(Map<String, Object> c) {
        List<Object> rows = (List<Object>) c.get("scores");
        double[][] s = new double[rows.size()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = doubles(rows.get(i));
        }
        return Tensor.of(s);
    }

    private static Tensor targets(Map<String, Object> c) {
        double[] y = doubles(c.get("targets"));
        long[] l = new long[y.length];
        for (int i = 0; i < y.length; i++) {
            l[i] = (long) y[i];
        }
        return Tensor.of(l);
    }

    /** Feeds a metric the data in batches of 1, 7, 64, ... examples (streaming must not change the result). */
    private static void stream(Metric m, Tensor scores, Tensor y) {
        int n = y.size(0);
        int[] sizes = {1, 7, 64, 3};
        for (int at = 0, i = 0; at < n; i++) {
            int len = Math.min(sizes[i % sizes.length], n - at);
            m.update(scores.narrow(0, at, len), y.narrow(0, at, len));
            at += len;
        }
    }

    @SuppressWarnings("unchecked")
    @TestFactory
    List<DynamicTest> everyFigureMatchesScikitLearn() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : cases()) {
            tests.add(DynamicTest.dynamicTest((String) c.get("name"), () -> {
                int k = ((Double) c.get("k")).intValue();
                Tensor s = scores(c);
                Tensor y = targets(c);
                ConfusionMatrix cm = new ConfusionMatrix(k);
                stream(cm, s, y);
                List<Object> expected = (List<Object>) c.get("confusion");
                for (int i = 0; i < k; i++) {
                    double[] row = doubles(expected.get(i));
                    for (int j = 0; j < k; j++) {
                        assertThat(cm.count(i, j)).as("cell %s,%s", i, j).isEqualTo((long) row[j]);
                    }
                }
                assertThat(cm.accuracy()).isCloseTo((Double) c.get("accuracy"), within(EPS));
                assertClose(cm.precision(), doubles(c.get("precision")), "precision");
                assertClose(cm.recall(), doubles(c.get("recall")), "recall");
                assertClose(cm.f1(), doubles(c.get("f1")), "f1");
                double[] support = doubles(c.get("support"));
                for (int i = 0; i < k; i++) {
                    assertThat(cm.support()[i]).isEqualTo((long) support[i]);
                }
                Map<String, Double> macro = (Map<String, Double>) (Map<?, ?>) c.get("macro");
                Map<String, Double> weighted = (Map<String, Double>) (Map<?, ?>) c.get("weighted");
                assertThat(ConfusionMatrix.macro(cm.precision())).isCloseTo(macro.get("precision"), within(EPS));
                assertThat(ConfusionMatrix.macro(cm.recall())).isCloseTo(macro.get("recall"), within(EPS));
                assertThat(cm.macroF1()).isCloseTo(macro.get("f1"), within(EPS));
                assertThat(cm.weighted(cm.precision())).isCloseTo(weighted.get("precision"), within(EPS));
                assertThat(cm.weighted(cm.recall())).isCloseTo(weighted.get("recall"), within(EPS));
                assertThat(cm.weighted(cm.f1())).isCloseTo(weighted.get("f1"), within(EPS));

                Accuracy top1 = new Accuracy();
                stream(top1, s, y);
                assertThat(top1.value()).isCloseTo((Double) c.get("accuracy"), within(EPS));
                Map<String, Double> topK = (Map<String, Double>) (Map<?, ?>) c.get("top_k");
                for (var e : topK.entrySet()) {
                    Accuracy exact = new Accuracy(Integer.parseInt(e.getKey()));
                    stream(exact, s, y);
                    assertThat(exact.value()).as("top-%s", e.getKey()).isCloseTo(e.getValue(), within(EPS));
                    assertThat(exact.name()).isEqualTo("top" + e.getKey() + "_accuracy");
                }
            }));
        }
        return tests;
    }

    private static void assertClose(double[] got, double[] want, String what) {
        assertThat(got).hasSameSizeAs(want);
        for (int i = 0; i < want.length; i++) {
            assertThat(got[i]).as("%s of class %s", what, i).isCloseTo(want[i], within(EPS));
        }
    }

    @Test
    void tiesGoToTheLowestClassAsArgmaxDoesAndResetForgets() {
        Tensor s = Tensor.of(new double[][] {{1, 1, 0}, {0, 2, 2}});
        Accuracy a = new Accuracy();
        a.update(s, Tensor.of(new long[] {0, 2}));
        assertThat(a.value()).isEqualTo(0.5); // row 0: argmax 0 (hit); row 1: argmax 1, not 2
        Accuracy top2 = new Accuracy(2);
        top2.update(s, Tensor.of(new long[] {1, 2}));
        assertThat(top2.value()).isEqualTo(1.0);
        a.reset();
        assertThat(a.value()).isNaN();
        Accuracy nan = new Accuracy(2); // a NaN target score is a miss, whatever the others are
        nan.update(Tensor.of(new double[][] {{Double.NaN, Double.NaN, Double.NaN}, {0, 1, 2}}), Tensor.of(new long[] {2, 2}));
        assertThat(nan.value()).isEqualTo(0.5);
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.update(s, Tensor.of(new long[] {0, 2}));
        assertThat(cm.count(2, 1)).isEqualTo(1);
        cm.reset();
        assertThat(cm.total()).isZero();
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> new Accuracy(0)).hasMessage("Accuracy: k must be at least 1, got 0");
        assertThatThrownBy(() -> new Accuracy(4).update(Tensor.zeros(2, 3), Tensor.of(new long[] {0, 1})))
                .hasMessage("Accuracy: top-4 of 3 classes");
        assertThatThrownBy(() -> new ConfusionMatrix(3).update(Tensor.zeros(2, 3), Tensor.of(new long[] {0, 3})))
                .hasMessage("ConfusionMatrix: class 3 at index 1 out of range [0, 3)");
        assertThatThrownBy(() -> new ConfusionMatrix(3).update(Tensor.zeros(2, 4), Tensor.of(new long[] {0, 1})))
                .hasMessage("ConfusionMatrix: scores have 4 classes, the matrix 3");
        assertThatThrownBy(() -> new ConfusionMatrix(2).toText(List.of("a")))
                .hasMessage("ConfusionMatrix: 1 class names for 2 classes");
    }

    @Test
    void textReportAndPicture(@TempDir Path dir) throws IOException {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(Tensor.of(new long[] {0, 1, 1, 2, 2, 2}), Tensor.of(new long[] {0, 1, 0, 2, 2, 1}));
        String text = cm.toText(List.of("cat", "dog", "bird"));
        assertThat(text.lines().toList()).containsExactly(
                "actual      0     1     2",
                "cat         1     1     0",
                "dog         0     1     1",
                "bird        0     0     2",
                "(columns: 0 = cat, 1 = dog, 2 = bird)");
        String report = cm.report(List.of("cat", "dog", "bird"));
        assertThat(report).contains("cat             1.0000    0.5000    0.6667         2")
                .contains("accuracy                            0.6667         6")
                .contains("macro avg       0.7222    0.6667    0.6556         6");
        System.setProperty("java.awt.headless", "true");
        Path png = cm.writePng(dir.resolve("cm.png"), List.of("cat", "dog", "bird"), "confusion");
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertThat(head).containsExactly(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A);
    }
}
