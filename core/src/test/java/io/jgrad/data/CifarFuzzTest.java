package io.jgrad.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.zip.GZIPOutputStream;

/** Any bytes, as a tar inside gzip, either read as CIFAR-10 or end in {@link CifarFormatException}. */
class CifarFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void archiveReaderThrowsOnlyFormatExceptions(byte[] tar) throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(tar);
        }
        try {
            Cifar10.readArchive("fuzz.tar.gz", new ByteArrayInputStream(gz.toByteArray()), 1);
        } catch (CifarFormatException expected) {
            // the documented outcome
        }
    }
}
