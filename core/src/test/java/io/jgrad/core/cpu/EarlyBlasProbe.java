package io.jgrad.core.cpu;

import io.jgrad.core.Backends;
import io.jgrad.core.Tensor;

/**
 * Run in a JVM of its own by {@link EarlyBlasTest}: touches the CPU backend, waits for the thread
 * that chooses the product library (if one started), and prints what it saw, then runs a product.
 */
public final class EarlyBlasProbe {
    private EarlyBlasProbe() {}

    public static void main(String[] args) throws InterruptedException {
        Backends.cpu().prepare();
        Thread t = Blas.earlyThread();
        if (t != null) {
            t.join(); // the event itself, not a sleep
        }
        System.out.println("thread=" + (t == null ? "none" : t.getName() + (t.isDaemon() ? " daemon" : ""))
                + " chosenBeforeProduct=" + Blas.isChosen() + " mathReady=" + Simd.mathReady()
                + " bytesReady=" + Simd.bytesReady() + " vector=" + SmallGemm.VECTOR + " tilesReady=" + SmallGemm.tilesReady()
                + " dotReady=" + DotGemm.ready());
        try {
            Tensor p = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).matmul(Tensor.of(new float[] {5, 6, 7, 8}, 2, 2));
            System.out.println("product=" + p.get(0, 0) + "," + p.get(0, 1) + "," + p.get(1, 0) + "," + p.get(1, 1)
                    + " backend=" + Blas.backendName());
        } catch (IllegalArgumentException e) {
            System.out.println("productFailed=" + e.getMessage());
        }
    }
}
