package io.jgrad.core;

import io.jgrad.core.backend.Backend;
import io.jgrad.core.cpu.CpuBackend;
import io.jgrad.core.cpu.ReferenceBackend;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Which backend new tensors live on. An op runs on the backend of its first operand's storage;
 * factories without an operand ({@code Tensor.zeros}, {@code Tensor.of}, ...) use
 * {@link #current()}: the CPU backend, unless the system property {@code jgrad.backend} says
 * {@code reference} (every op then runs through the scalar reference kernels, slowly, to rule
 * out a kernel bug), or a {@link #with} scope says otherwise on this thread.
 */
public final class Backends {
    private static final Backend DEFAULT = fromProperty(System.getProperty("jgrad.backend", "cpu"));
    private static final ThreadLocal<Backend> SCOPED = new ThreadLocal<>();

    private Backends() {}

    /** The CPU backend (Java arrays, vectorized and fused loops, BLAS). */
    public static Backend cpu() {
        return CpuBackend.INSTANCE;
    }

    /** The reference backend: one element at a time in double precision, no fusion, SIMD or BLAS. */
    public static Backend reference() {
        return ReferenceBackend.INSTANCE;
    }

    /** The backend factories use on this thread now. */
    public static Backend current() {
        Backend b = SCOPED.get();
        return b != null ? b : DEFAULT;
    }

    /**
     * Runs {@code body} with {@code backend} as this thread's {@link #current()} backend (scopes
     * nest), and returns what it returns.
     */
    public static <T> T with(Backend backend, Supplier<T> body) {
        if (backend == null) {
            throw new IllegalArgumentException("Backends.with: backend is null");
        }
        Backend before = SCOPED.get();
        SCOPED.set(backend);
        try {
            return body.get();
        } finally {
            SCOPED.set(before);
        }
    }

    /** The backend a {@code jgrad.backend} value names. */
    static Backend fromProperty(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> cpu();
            case "reference" -> reference();
            default -> throw new IllegalArgumentException("jgrad.backend must be cpu or reference; got '" + name + "'");
        };
    }
}
