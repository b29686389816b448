package io.jgrad.core.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.jgrad.core.backend.ScalarType;
import io.jgrad.core.backend.View;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuBackend#fill} with zero over a whole FLOAT32 storage defers the zeros ({@link
 * ArrayStorage#zeroLater}); a read writes them, and {@link CpuBackend#addInPlace} over the whole
 * storage writes {@code 0 + alpha·src} without them, with the bits of adding into zeros.
 */
class ZeroLaterTest {
    private static View whole(ArrayStorage s) {
        return new View(s, 0, new int[] {s.length()}, new int[] {1});
    }

    /** A storage over an array it allocated itself, holding the given values. */
    private static ArrayStorage own(float... values) {
        ArrayStorage s = ArrayStorage.allocate(CpuBackend.INSTANCE, ScalarType.FLOAT32, values.length);
        System.arraycopy(values, 0, s.f(), 0, values.length);
        return s;
    }

    @Test
    void aWholeZeroFillIsDeferredAndAReadWritesIt() {
        ArrayStorage s = own(1, 2, 3);
        CpuBackend.INSTANCE.fill(whole(s), 0);
        assertThat(s.zeroPending()).isTrue();
        assertThat(s.f()).containsExactly(0f, 0f, 0f);
        assertThat(s.zeroPending()).isFalse();
    }

    @Test
    void aPartialOrNonZeroFillIsWrittenAtOnce() {
        ArrayStorage s = own(1, 2, 3);
        CpuBackend.INSTANCE.fill(new View(s, 1, new int[] {2}, new int[] {1}), 0);
        assertThat(s.zeroPending()).isFalse();
        CpuBackend.INSTANCE.fill(whole(s), 5);
        assertThat(s.zeroPending()).isFalse();
        assertThat(s.f()).containsExactly(5f, 5f, 5f);
    }

    @Test
    void addingIntoPendingZerosOverwritesWithTheBitsOfAddingIntoZeros() {
        ArrayStorage s = own(1, 2, 3, 4);
        CpuBackend.INSTANCE.fill(whole(s), 0);
        ArrayStorage src = ArrayStorage.wrap(CpuBackend.INSTANCE, new float[] {9, 4, -6, 1, -0f});
        CpuBackend.INSTANCE.addInPlace(whole(s), new View(src, 1, new int[] {4}, new int[] {1}), 0.5);
        assertThat(s.zeroPending()).as("consumed by the overwrite").isFalse();
        float[] got = s.f();
        float[] want = new float[4];
        for (int i = 0; i < 4; i++) {
            want[i] = 0f + 0.5f * src.f()[i + 1];
        }
        assertThat(got).containsExactly(want);
        assertThat(Float.floatToRawIntBits(got[3])).as("-0 from the source becomes +0, as added into zeros").isZero();
    }

    @Test
    void addingIntoPartOfPendingZerosWritesTheRestAsZeros() {
        ArrayStorage s = own(1, 2, 3, 4);
        CpuBackend.INSTANCE.fill(whole(s), 0);
        ArrayStorage src = ArrayStorage.wrap(CpuBackend.INSTANCE, new float[] {7, 8});
        CpuBackend.INSTANCE.addInPlace(new View(s, 1, new int[] {2}, new int[] {1}), whole(src), 1.0);
        assertThat(s.f()).containsExactly(0f, 7f, 8f, 0f);
    }

    /** An array handed to the storage (Tensor.wrapArray) may be read and written outside it: zeroed at once. */
    @Test
    void aWrappedArrayIsZeroedAtOnce() {
        float[] shared = {1, 2, 3};
        ArrayStorage s = ArrayStorage.wrap(CpuBackend.INSTANCE, shared);
        CpuBackend.INSTANCE.fill(whole(s), 0);
        assertThat(s.zeroPending()).isFalse();
        assertThat(shared).containsExactly(0f, 0f, 0f);
        shared[1] = 7; // a write straight into the array (an all-reduce into a gradient buffer) is not lost
        assertThat(s.f()).containsExactly(0f, 7f, 0f);
    }

    /** A fill with -0 writes -0, not the +0 the deferred zeros would give. */
    @Test
    void aNegativeZeroFillIsWrittenAsNegativeZero() {
        ArrayStorage s = ArrayStorage.allocate(CpuBackend.INSTANCE, ScalarType.FLOAT32, 3);
        CpuBackend.INSTANCE.fill(whole(s), -0.0);
        assertThat(s.zeroPending()).isFalse();
        assertThat(Float.floatToRawIntBits(s.f()[1])).isEqualTo(Float.floatToRawIntBits(-0f));
    }

    @Test
    void float64StoragesAreZeroedAtOnce() {
        ArrayStorage s = ArrayStorage.allocate(CpuBackend.INSTANCE, ScalarType.FLOAT64, 3);
        s.d[1] = 2;
        CpuBackend.INSTANCE.fill(whole(s), 0);
        assertThat(s.zeroPending()).isFalse();
        assertThat(s.d).containsExactly(0.0, 0.0, 0.0);
    }
}
