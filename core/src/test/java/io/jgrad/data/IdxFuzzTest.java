package io.jgrad.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;

/**
 * Any bytes given to the IDX reader (raw or gzip) either parse or end in
 * {@link IdxFormatException}: nothing else escapes. CI replays the committed seeds.
 */
class IdxFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void readerThrowsOnlyFormatExceptions(byte[] data) throws Exception {
        for (int rank : new int[] {1, 3}) {
            try {
                Idx.Bytes b = Idx.read("fuzz-idx", new ByteArrayInputStream(data), rank);
                if (b.dims().length != rank) {
                    throw new AssertionError("rank " + b.dims().length + " accepted for " + rank);
                }
            } catch (IdxFormatException expected) {
                // the documented outcome
            }
        }
    }
}
