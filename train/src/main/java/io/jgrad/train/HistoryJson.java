package io.jgrad.train;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Epoch figures as JSON: one object per epoch, {@code {"epoch":1,"step":469,"loss":0.52,...}},
 * numbers written exactly (a double reads back to the same bits); values that are NaN or
 * infinite are left out. For the metrics log and the history a checkpoint carries.
 */
final class HistoryJson {
    private static final JsonFactory JSON = new JsonFactory();

    private HistoryJson() {}

    /** One epoch as a one-line JSON object. */
    static String line(EpochMetrics m) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            object(g, m, java.util.Set.of());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringWriter does not fail
        }
        return w.toString();
    }

    /** The figures that depend on the machine's speed, left out where bytes must not depend on it. */
    static final java.util.Set<String> TIMING = java.util.Set.of("seconds", "samples_per_second");

    /** Every epoch as a JSON array, without the {@link #TIMING} figures (a checkpoint's bytes depend on nothing else). */
    static String array(List<EpochMetrics> epochs) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartArray();
            for (EpochMetrics m : epochs) {
                object(g, m, TIMING);
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return w.toString();
    }

    private static void object(JsonGenerator g, EpochMetrics m, java.util.Set<String> skip) throws IOException {
        g.writeStartObject();
        g.writeNumberField("epoch", m.epoch());
        g.writeNumberField("step", m.step());
        for (Map.Entry<String, Double> e : m.values().entrySet()) {
            if (Double.isFinite(e.getValue()) && !skip.contains(e.getKey())) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
        }
        g.writeEndObject();
    }

    /** Reads what {@link #array} wrote; throws {@link IOException} naming the problem otherwise. */
    static List<EpochMetrics> read(String json) throws IOException {
        List<EpochMetrics> out = new ArrayList<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IOException("history: expected a JSON array");
            }
            while (p.nextToken() == JsonToken.START_OBJECT) {
                int epoch = -1;
                long step = -1;
                Map<String, Double> values = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String k = p.currentName();
                    if (!p.nextToken().isNumeric()) {
                        throw new IOException("history: " + k + " is not a number");
                    }
                    switch (k) {
                        case "epoch" -> epoch = p.getIntValue();
                        case "step" -> step = p.getLongValue();
                        default -> values.put(k, p.getDoubleValue());
                    }
                }
                if (epoch < 1 || step < 0) {
                    throw new IOException("history: an entry lacks its epoch or step");
                }
                out.add(new EpochMetrics(epoch, step, values));
            }
            if (p.currentToken() != JsonToken.END_ARRAY) {
                throw new IOException("history: expected an object or the end of the array");
            }
        }
        return out;
    }
}
