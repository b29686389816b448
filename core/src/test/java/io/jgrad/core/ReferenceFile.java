package io.jgrad.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the reference files written by the modules' {@code make_reference.py} scripts: a
 * {@code case <name>} line starts a case, every other line is {@code <key> [<label>] <tensor>}
 * with a tensor written as {@code f|i <shape or -> <values...>}. Shared by the op, layer and
 * loss reference tests (through core's test jar).
 */
public final class ReferenceFile {
    private ReferenceFile() {}

    /** One case: its name and its lines, in order, as (key, optional label, tensor). */
    public record Case(String name, List<Entry> entries) {
        /** The tensors whose key is {@code key}, in order. */
        public List<Tensor> all(String key) {
            return entries.stream().filter(e -> e.key().equals(key)).map(Entry::tensor).toList();
        }

        /** The only tensor with key {@code key}. */
        public Tensor one(String key) {
            List<Tensor> t = all(key);
            if (t.size() != 1) {
                throw new IllegalStateException(name + ": expected one '" + key + "' line, found " + t.size());
            }
            return t.get(0);
        }

        /** Labelled tensors with key {@code key} (for example parameters by state-dict name). */
        public Map<String, Tensor> labelled(String key) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            entries.stream().filter(e -> e.key().equals(key)).forEach(e -> out.put(e.label(), e.tensor()));
            return out;
        }
    }

    /** A line of a case. */
    public record Entry(String key, String label, Tensor tensor) {}

    /** The cases of a resource; {@code labelledKeys} are keys whose lines carry a label before the tensor. */
    public static List<Case> load(Class<?> owner, String resource, String... labelledKeys) throws IOException {
        List<String> labelled = List.of(labelledKeys);
        List<Case> cases = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(owner.getResourceAsStream(resource),
                StandardCharsets.UTF_8))) {
            String name = null;
            List<Entry> entries = null;
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] p = line.split(" ", 2);
                if (p[0].equals("case")) {
                    if (name != null) {
                        cases.add(new Case(name, entries));
                    }
                    name = p[1];
                    entries = new ArrayList<>();
                } else if (labelled.contains(p[0])) {
                    String[] q = p[1].split(" ", 2);
                    entries.add(new Entry(p[0], q[0], parse(q[1])));
                } else if (entries != null) {
                    entries.add(new Entry(p[0], null, parse(p[1])));
                }
            }
            if (name != null) {
                cases.add(new Case(name, entries));
            }
        }
        return cases;
    }

    /** A tensor written as {@code f|i <shape or -> <values...>}. */
    public static Tensor parse(String s) {
        String[] parts = s.trim().split(" ");
        int[] shape = parts[1].equals("-") ? new int[0]
                : Arrays.stream(parts[1].split(",")).mapToInt(Integer::parseInt).toArray();
        String[] vals = Arrays.copyOfRange(parts, 2, parts.length);
        if (parts[0].equals("i")) {
            return Tensor.of(Arrays.stream(vals).mapToLong(Long::parseLong).toArray()).reshape(shape);
        }
        return Tensor.of(Arrays.stream(vals).mapToDouble(ReferenceFile::number).toArray()).reshape(shape);
    }

    /** A number as Python's repr writes it ("nan", "inf" and "-inf" included). */
    private static double number(String v) {
        return switch (v) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(v);
        };
    }
}
