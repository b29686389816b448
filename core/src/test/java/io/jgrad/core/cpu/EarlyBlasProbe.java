package io.jgrad.core.cpu;

import io.jgrad.core.Backends;
import io.jgrad.core.Tensor;
import jdk.incubator.vector.FloatVector;

/**
 * Run in a JVM of its own by {@link EarlyBlasTest}: touches the CPU backend, waits for the thread
 * that chooses the product library (if one started), and prints what it saw, then runs a product.
 */
public final class EarlyBlasProbe {
    private EarlyBlasProbe() {}

    public static void main(String[] args) throws InterruptedException {
        if (Boolean.getBoolean("probe.mixWidths")) {
            MixWidths.run();
        }
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

    /**
     * 256-bit float vectors through the methods the 512-bit kernels call (broadcast, fromArray, fma,
     * intoArray), before jgrad starts: HotSpot's profile of the Vector API's shared code then records
     * both widths, as when {@link JavaGemmVector} runs on a machine with only a JDK. A class of its own,
     * loaded only then: the probe also runs without the Vector API module.
     */
    private static final class MixWidths {
        private MixWidths() {}

        static void run() {
            float[] a = new float[64];
            float[] out = new float[8];
            for (int i = 0; i < 20_000; i++) {
                FloatVector acc = FloatVector.zero(FloatVector.SPECIES_256);
                acc = FloatVector.broadcast(FloatVector.SPECIES_256, a[i % 64])
                        .fma(FloatVector.fromArray(FloatVector.SPECIES_256, a, i % 8 * 8), acc);
                acc.intoArray(out, 0);
            }
        }
    }
}
