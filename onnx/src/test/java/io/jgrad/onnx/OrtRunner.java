package io.jgrad.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.jgrad.core.Tensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

/** Runs an exported model in ONNX Runtime (the Java API, CPU) and compares its output with jgrad's (shared with the examples' tests). */
public final class OrtRunner {
    private OrtRunner() {}

    /** The model's single output for {@code input}, as a jgrad tensor of the output's dtype. */
    public static Tensor run(byte[] model, String inputName, Tensor input) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = java.util.Arrays.stream(input.shape().toArray()).asLongStream().toArray();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor in = switch (input.dtype()) {
                 case FLOAT32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap(input.toFloatArray()), shape);
                 case FLOAT64 -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(input.toDoubleArray()), shape);
                 case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(input.toLongArray()), shape);
             };
             OrtSession.Result result = session.run(Map.of(inputName, in))) {
            OnnxTensor out = (OnnxTensor) result.get(0);
            int[] dims = java.util.Arrays.stream(out.getInfo().getShape()).mapToInt(Math::toIntExact).toArray();
            return switch (out.getInfo().type) {
                case FLOAT -> {
                    FloatBuffer b = out.getFloatBuffer();
                    float[] v = new float[b.remaining()];
                    b.get(v);
                    yield Tensor.of(v, dims);
                }
                case DOUBLE -> {
                    DoubleBuffer b = out.getDoubleBuffer();
                    double[] v = new double[b.remaining()];
                    b.get(v);
                    yield Tensor.of(v, dims);
                }
                case INT64 -> {
                    LongBuffer b = out.getLongBuffer();
                    long[] v = new long[b.remaining()];
                    b.get(v);
                    yield Tensor.of(v, dims);
                }
                default -> throw new AssertionError("unexpected output type " + out.getInfo().type);
            };
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime refused the model: " + e.getMessage(), e);
        }
    }

    /** ONNX Runtime's output for {@code input} equals {@code expected} to {@code rtol} (relative to the largest value, plus rtol absolute). */
    public static void assertMatches(byte[] model, Tensor input, Tensor expected, double rtol) {
        Tensor got = run(model, "input", input);
        assertThat(got.shape()).isEqualTo(expected.shape());
        assertThat(got.dtype()).isEqualTo(expected.dtype());
        double[] g = got.toDoubleArray();
        double[] e = expected.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double tol = rtol * Math.max(1, Math.abs(e[i]));
            assertThat(Math.abs(g[i] - e[i])).as("element %d: ONNX Runtime %s, jgrad %s", i, g[i], e[i])
                    .isLessThanOrEqualTo(tol);
        }
    }
}
