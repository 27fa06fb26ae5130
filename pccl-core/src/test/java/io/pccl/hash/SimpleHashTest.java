package io.pccl.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Golden vectors (reference §6.4), determinism, unaligned offsets and every source kind of simplehash. */
class SimpleHashTest {
    private static final long SEED = 42;

    /** The reference's data generator: 32-bit LCG, seed 42, one byte per step. */
    static byte[] lcgBytes(final int n) {
        final byte[] b = new byte[n];
        int seed = (int) SEED;
        for (int i = 0; i < n; i++) {
            seed = 1664525 * seed + 1013904223;
            b[i] = (byte) seed;
        }
        return b;
    }

    @ParameterizedTest(name = "{0} bytes -> {1}")
    @CsvSource({"0,0", "1,344386053", "4,3765247898", "25,3651434421", "100000,2212329258",
            "1000003,3277654651", "154533888,3391090508"})
    void goldenVectorsHeapDirectAndArray(final int size, final long expected) {
        final byte[] data = lcgBytes(size);
        assertEquals(expected, SimpleHash.hash(data, 0, size), "byte[] " + size);
        assertEquals(expected, SimpleHash.hash(ByteBuffer.wrap(data)), "heap " + size);
        final ByteBuffer direct = ByteBuffer.allocateDirect(size);
        direct.put(data).flip();
        assertEquals(expected, SimpleHash.hash(direct), "direct " + size);
        assertEquals(expected, SimpleHash.hash(direct.asReadOnlyBuffer()), "read-only direct " + size);
        assertEquals(0, direct.position(), "position untouched");
    }

    @Test
    void goldenU64PatternVector() {
        final int size = 154533888;
        final int n = size / 8;
        final long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = ((long) (i % 2048) * 2048 ^ (i & n)) * 0xaabaababab1L;
        }
        assertEquals(1054399963L, SimpleHash.hash(d, 0, n), "long[]");
        final ByteBuffer buf = ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(d);
        assertEquals(1054399963L, SimpleHash.hash(buf), "direct");
        final double[] asDoubles = new double[n];
        for (int i = 0; i < n; i++) {
            asDoubles[i] = Double.longBitsToDouble(d[i]);
        }
        assertEquals(1054399963L, SimpleHash.hash(asDoubles, 0, n), "double[] raw bits");
    }

    @Test
    void deterministicAcrossRepeats() {
        final byte[] data = lcgBytes(1000003);
        for (int i = 0; i < 100; i++) {
            assertEquals(3277654651L, SimpleHash.hash(data, 0, data.length), "repeat " + i);
        }
    }

    @Test
    void unalignedOffsetsAgreeWithCopies() {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        final byte[] data = new byte[70_000];
        rnd.nextBytes(data);
        final ByteBuffer direct = ByteBuffer.allocateDirect(data.length + 16);
        for (int offset = 0; offset < 16; offset++) {
            final int len = 60_000 + rnd.nextInt(9000);
            final byte[] copy = java.util.Arrays.copyOfRange(data, 0, len);
            final long expected = SimpleHash.hash(copy, 0, len);
            direct.clear();
            direct.position(offset);
            direct.put(data, 0, len);
            assertEquals(expected, SimpleHash.hash(direct, offset, len), "direct offset " + offset);
            final byte[] shifted = new byte[len + offset];
            System.arraycopy(data, 0, shifted, offset, len);
            assertEquals(expected, SimpleHash.hash(ByteBuffer.wrap(shifted), offset, len), "heap offset " + offset);
            assertEquals(expected, SimpleHash.hash(ByteBuffer.wrap(shifted, offset, len).slice()),
                    "slice offset " + offset);
        }
    }

    @Test
    void segmentsAndStreamingMatchOneBuffer() {
        final byte[] data = lcgBytes(1000003);
        final int[] cuts = {0, 7, 16, 4099, 65536, 999999, 1000003};
        final ByteBuffer[] parts = new ByteBuffer[cuts.length - 1];
        for (int i = 0; i + 1 < cuts.length; i++) {
            parts[i] = ByteBuffer.wrap(data, cuts[i], cuts[i + 1] - cuts[i]);
        }
        assertEquals(3277654651L, SimpleHash.hash(parts));
        final SimpleHasher h = new SimpleHasher(data.length);
        for (int i = 0; i + 1 < cuts.length; i++) {
            h.update(data, cuts[i], cuts[i + 1] - cuts[i]);
        }
        assertEquals(3277654651L, h.finish());
    }

    @Test
    void primitiveArraysHashTheirLittleEndianBytes() {
        final Random rnd = new Random(SEED);
        final int n = 33_333;
        final ByteBuffer bytes = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        final long[] longs = new long[n];
        for (int i = 0; i < n; i++) {
            longs[i] = rnd.nextLong();
        }
        bytes.asLongBuffer().put(longs);
        final int[] ints = new int[2 * n];
        bytes.asIntBuffer().get(ints);
        final float[] floats = new float[2 * n];
        bytes.asFloatBuffer().get(floats);
        final short[] shorts = new short[4 * n];
        bytes.asShortBuffer().get(shorts);
        final long expected = SimpleHash.hash(bytes.array(), 0, n * 8);
        assertEquals(expected, SimpleHash.hash(longs, 0, n), "long[]");
        assertEquals(expected, SimpleHash.hash(ints, 0, 2 * n), "int[]");
        assertEquals(expected, SimpleHash.hash(floats, 0, 2 * n), "float[]");
        assertEquals(expected, SimpleHash.hash(shorts, 0, 4 * n), "short[]");
        assertEquals(expected, SimpleHash.hash(bytes.order(ByteOrder.BIG_ENDIAN)), "big-endian view of same bytes");
        // a misaligned stream through the carry buffer: 3 bytes, then longs
        final SimpleHasher h = new SimpleHasher(3 + 8L * n);
        h.update(new byte[] {1, 2, 3}, 0, 3).update(longs, 0, n);
        final byte[] concat = new byte[3 + 8 * n];
        concat[0] = 1;
        concat[1] = 2;
        concat[2] = 3;
        System.arraycopy(bytes.array(), 0, concat, 3, 8 * n);
        assertEquals(SimpleHash.hash(concat, 0, concat.length), h.finish(), "misaligned stream");
    }

    @Test
    void rejectsRangesOutsideTheBufferAndWrongLengths() {
        final ByteBuffer buf = ByteBuffer.allocate(10);
        assertThrows(IndexOutOfBoundsException.class, () -> SimpleHash.hash(buf, 5, 6));
        final SimpleHasher h = new SimpleHasher(4);
        assertThrows(IllegalArgumentException.class, () -> h.update(new byte[5], 0, 5));
        h.update(new byte[3], 0, 3);
        assertThrows(IllegalStateException.class, h::finish);
    }
}
