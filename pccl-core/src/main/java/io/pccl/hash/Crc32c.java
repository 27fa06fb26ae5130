package io.pccl.hash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli), equal to {@link CRC32C} and to the reference's hash type 1. Check value: "123456789" →
 * {@code 0xE3069283}. Buffers are hashed in place (the JDK intrinsic reads direct and heap memory); arrays of
 * wider types are converted to little-endian bytes through a small per-thread scratch buffer.
 *
 * <p>Thread-safe (stateless; scratch is per thread).
 *
 * @since 0.1
 */
public final class Crc32c {
    private static final int SCRATCH_BYTES = 64 * 1024;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Crc32c() {
    }

    /**
     * Hashes the remaining bytes of {@code buf} without changing its position, limit or order.
     *
     * @param buf heap or direct buffer
     * @return the CRC, an unsigned 32-bit value in a long
     */
    public static long hash(final ByteBuffer buf) {
        return hash(buf, buf.position(), buf.remaining());
    }

    /**
     * Hashes {@code lengthBytes} bytes of {@code buf} from absolute index {@code offsetBytes}.
     *
     * @param buf heap or direct buffer
     * @param offsetBytes absolute start index
     * @param lengthBytes number of bytes
     * @return the CRC, an unsigned 32-bit value in a long
     */
    public static long hash(final ByteBuffer buf, final long offsetBytes, final long lengthBytes) {
        Objects.checkFromIndexSize(offsetBytes, lengthBytes, buf.capacity());
        final CRC32C crc = SCRATCH.get().reset();
        update(crc, buf, (int) offsetBytes, (int) lengthBytes);
        return crc.getValue();
    }

    /**
     * Hashes the concatenation of the remaining bytes of each segment (for entries over 2 GiB).
     *
     * @param segments buffers, none null
     * @return the CRC, an unsigned 32-bit value in a long
     */
    public static long hash(final ByteBuffer[] segments) {
        final CRC32C crc = SCRATCH.get().reset();
        for (final ByteBuffer s : segments) {
            update(crc, s, s.position(), s.remaining());
        }
        return crc.getValue();
    }

    /**
     * Hashes {@code count} bytes of {@code a} from {@code from}.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the CRC, an unsigned 32-bit value in a long
     */
    public static long hash(final byte[] a, final int from, final int count) {
        final CRC32C crc = SCRATCH.get().reset();
        crc.update(a, from, count);
        return crc.getValue();
    }

    /**
     * Hashes array elements as little-endian bytes. {@code a} is one of short[], int[], long[], float[],
     * double[] or byte[].
     *
     * @param a the array
     * @param from first element
     * @param count number of elements
     * @return the CRC, an unsigned 32-bit value in a long
     * @throws IllegalArgumentException if {@code a} is not a primitive array of those types
     */
    public static long hashArray(final Object a, final int from, final int count) {
        if (a instanceof byte[]) {
            return hash((byte[]) a, from, count);
        }
        final Scratch s = SCRATCH.get();
        final CRC32C crc = s.reset();
        final ByteBuffer buf = s.buffer;
        int i = from;
        final int end = from + count;
        while (i < end) {
            buf.clear();
            i = fill(buf, a, i, end);
            buf.flip();
            crc.update(buf);
        }
        return crc.getValue();
    }

    private static int fill(final ByteBuffer buf, final Object a, final int from, final int end) {
        int i = from;
        if (a instanceof float[]) {
            final float[] f = (float[]) a;
            Objects.checkFromToIndex(from, end, f.length);
            for (; i < end && buf.remaining() >= 4; i++) {
                buf.putInt(Float.floatToRawIntBits(f[i]));
            }
        } else if (a instanceof int[]) {
            final int[] v = (int[]) a;
            Objects.checkFromToIndex(from, end, v.length);
            for (; i < end && buf.remaining() >= 4; i++) {
                buf.putInt(v[i]);
            }
        } else if (a instanceof long[]) {
            final long[] v = (long[]) a;
            Objects.checkFromToIndex(from, end, v.length);
            for (; i < end && buf.remaining() >= 8; i++) {
                buf.putLong(v[i]);
            }
        } else if (a instanceof double[]) {
            final double[] v = (double[]) a;
            Objects.checkFromToIndex(from, end, v.length);
            for (; i < end && buf.remaining() >= 8; i++) {
                buf.putLong(Double.doubleToRawLongBits(v[i]));
            }
        } else if (a instanceof short[]) {
            final short[] v = (short[]) a;
            Objects.checkFromToIndex(from, end, v.length);
            for (; i < end && buf.remaining() >= 2; i++) {
                buf.putShort(v[i]);
            }
        } else {
            throw new IllegalArgumentException("not a primitive array of a supported type: "
                    + (a == null ? "null" : a.getClass().getName()));
        }
        return i;
    }

    private static void update(final CRC32C crc, final ByteBuffer buf, final int offset, final int length) {
        if (buf.hasArray()) {
            crc.update(buf.array(), buf.arrayOffset() + offset, length);
        } else {
            // CRC32C.update(ByteBuffer) consumes the position; work on a view so the caller's buffer is untouched
            crc.update(buf.duplicate().limit(offset + length).position(offset));
        }
    }

    /** Per-thread checksum and conversion buffer. Confined to its thread. */
    private static final class Scratch {
        final CRC32C crc = new CRC32C();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(SCRATCH_BYTES).order(ByteOrder.LITTLE_ENDIAN);

        CRC32C reset() {
            crc.reset();
            return crc;
        }
    }
}
