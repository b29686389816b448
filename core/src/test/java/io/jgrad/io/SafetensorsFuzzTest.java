package io.jgrad.io;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any bytes given to the safetensors reader either parse into contents that re-validate after
 * writing them again, or end in {@link SafetensorsFormatException}: nothing else escapes.
 * CI replays the committed seeds (regression mode); {@code JAZZER_FUZZ=1} fuzzes locally.
 */
class SafetensorsFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void readerThrowsOnlyFormatExceptions(byte[] data) throws Exception {
        Safetensors.Contents c;
        try {
            c = Safetensors.read(data, "fuzz.safetensors");
        } catch (SafetensorsFormatException expected) {
            return;
        }
        Safetensors.read(Safetensors.toBytes(c.tensors(), c.metadata()), "rewritten.safetensors");
    }
}
