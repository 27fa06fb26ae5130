package io.pccl.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** CRC-32C check value and agreement of every source kind with {@link CRC32C}. */
class Crc32cTest {
    @Test
    void checkValue() {
        final byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283L, Crc32c.hash(b, 0, b.length));
        final ByteBuffer d = ByteBuffer.allocateDirect(12);
        d.position(3);
        d.put(b);
        assertEquals(0xE3069283L, Crc32c.hash(d, 3, 9), "direct, unaligned");
        assertEquals(0xE3069283L, HashType.CRC32C.hash(ByteBuffer.wrap(b), 0, 9), "via HashType");
        assertEquals(0, Crc32c.hash(new byte[0], 0, 0), "empty");
    }

    @Test
    void arraysAndSegmentsMatchTheJdk() {
        final byte[] data = SimpleHashTest.lcgBytes(200_000);
        final CRC32C jdk = new CRC32C();
        jdk.update(data);
        final ByteBuffer le = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        final float[] f = new float[data.length / 4];
        le.asFloatBuffer().get(f);
        final double[] dd = new double[data.length / 8];
        le.asDoubleBuffer().get(dd);
        assertEquals(jdk.getValue(), Crc32c.hashArray(f, 0, f.length), "float[]");
        assertEquals(jdk.getValue(), Crc32c.hashArray(dd, 0, dd.length), "double[]");
        assertEquals(jdk.getValue(), Crc32c.hash(new ByteBuffer[] {ByteBuffer.wrap(data, 0, 777),
            ByteBuffer.wrap(data, 777, data.length - 777)}), "segments");
        assertEquals(HashType.SIMPLE, HashType.fromWireNumber(0));
        assertEquals(HashType.CRC32C, HashType.fromWireNumber(1));
    }
}
