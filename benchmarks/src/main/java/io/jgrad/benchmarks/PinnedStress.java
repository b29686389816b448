package io.jgrad.benchmarks;

import io.jgrad.core.Autograd;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.core.cpu.Blas;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Products on pinned arrays back to back while other threads allocate: the case where, before
 * JDK 22, a thread that waits for a collection while an array is pinned gives up with
 * {@code OutOfMemoryError} ("Retried waiting for GCLocker too often"). Why the launchers pass
 * {@code -XX:GCLockerRetryAllocationCount=100} with {@code -Djgrad.blas.pinned=true} (README).
 * W2's first product (128×784 by 784×512), which the library takes in place with AVX-512 kernels:
 *
 * <pre>OPENBLAS_CORETYPE=Cooperlake JGRAD_JAVA_OPTS="-Xmx64m -Djgrad.blas.pinned=true" bench/run-jgrad.sh PinnedStress 20 2</pre>
 *
 * (JGRAD_JAVA_OPTS after the launcher's own options: this keeps the retry count; add
 * {@code -XX:+UnlockDiagnosticVMOptions -XX:GCLockerRetryAllocationCount=2}, the JDK's default, to see
 * the failure.) Prints the products made and the bytes allocated, or fails with the error.
 */
public final class PinnedStress {
    private PinnedStress() {}

    /**
     * Runs the stress.
     *
     * @param args seconds (default 20) and allocating threads (default 2)
     * @throws InterruptedException if interrupted while joining the allocating threads
     */
    public static void main(String[] args) throws InterruptedException {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Tensor a = Tensor.randn(Generator.seeded(0), 128, 784);
        Tensor b = Tensor.randn(Generator.seeded(1), 784, 512);
        Tensor out = Tensor.zeros(128, 512);
        System.out.println("products: " + Blas.backend());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong allocated = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        Thread[] hogs = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            hogs[t] = new Thread(() -> {
                Object[] keep = new Object[8];
                int i = 0;
                try {
                    while (!stop.get()) {
                        keep[i++ % keep.length] = new float[1 << 18]; // 1 MB
                        allocated.addAndGet(1 << 20);
                    }
                } catch (OutOfMemoryError e) {
                    failures.incrementAndGet();
                    throw e;
                }
            }, "allocating-" + t);
            hogs[t].start();
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long products = 0;
        try (var s = Autograd.noGrad()) {
            while (System.nanoTime() < end && failures.get() == 0) {
                a.mm(b, out);
                products++;
            }
        }
        stop.set(true);
        for (Thread t : hogs) {
            t.join();
        }
        System.out.printf(Locale.ROOT, "%d products, %.1f GB allocated by %d threads, %d OutOfMemoryError%n", products,
                allocated.get() / 1e9, threads, failures.get());
        if (failures.get() > 0) {
            System.exit(1);
        }
    }
}
