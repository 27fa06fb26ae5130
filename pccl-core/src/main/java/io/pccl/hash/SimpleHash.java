package io.pccl.hash;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The reference's simplehash, bit-compatible with its golden values (see {@link SimpleHasher} for the
 * algorithm). Unlike the reference there is no alignment requirement: any heap, direct or read-only buffer at any
 * offset, and primitive arrays (hashed as their little-endian bytes).
 *
 * <p>Huge entries: one {@link ByteBuffer} holds at most 2 GiB, so an entry larger than that is hashed as the
 * concatenation of several buffers ({@link #hash(ByteBuffer[])}, e.g. consecutive mappings of a file) or, for
 * any mix of sources, through a {@link SimpleHasher} with the total length declared up front. Arrays cover up to
 * {@code Integer.MAX_VALUE} elements (16 GiB for long[] and double[]).
 *
 * <p>Allocation: none per call beyond a per-thread cached {@link SimpleHasher} (2 KiB of scratch, created once
 * per thread). Single-threaded; blocks are independent, but on small machines the sequential walk is already
 * memory-bound enough that the JIT-compiled loop is the better use of a core.
 *
 * <p>Thread-safe (stateless; scratch is per thread).
 *
 * @since 0.1
 */
public final class SimpleHash {
    private static final ThreadLocal<SimpleHasher> HASHER = ThreadLocal.withInitial(() -> new SimpleHasher(0));

    private SimpleHash() {
    }

    /**
     * Hashes the remaining bytes of {@code buf} (position to limit) without changing position, limit or order.
     *
     * @param buf heap or direct buffer
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final ByteBuffer buf) {
        return hasher(buf.remaining()).update(buf).finish();
    }

    /**
     * Hashes {@code lengthBytes} bytes of {@code buf} starting at absolute index {@code offsetBytes}.
     *
     * @param buf heap or direct buffer
     * @param offsetBytes absolute start index, {@code >= 0}
     * @param lengthBytes number of bytes, {@code offsetBytes + lengthBytes <= buf.capacity()}
     * @return the hash, an unsigned 32-bit value in a long
     * @throws IndexOutOfBoundsException if the range is outside the buffer (message names both)
     */
    public static long hash(final ByteBuffer buf, final long offsetBytes, final long lengthBytes) {
        Objects.checkFromIndexSize(offsetBytes, lengthBytes, buf.capacity());
        return hasher(lengthBytes).update(buf, (int) offsetBytes, (int) lengthBytes).finish();
    }

    /**
     * Hashes the concatenation of the remaining bytes of each segment, in order (for entries over 2 GiB). Each
     * segment except the last should hold a multiple of 16 bytes for full speed (any length is correct).
     *
     * @param segments the buffers, none null
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final ByteBuffer[] segments) {
        long total = 0;
        for (final ByteBuffer s : segments) {
            total += s.remaining();
        }
        final SimpleHasher h = hasher(total);
        for (final ByteBuffer s : segments) {
            h.update(s);
        }
        return h.finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final byte[] a, final int from, final int count) {
        return hasher(count).update(a, from, count).finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}, as little-endian bytes.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final short[] a, final int from, final int count) {
        return hasher(2L * count).update(a, from, count).finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}, as little-endian bytes.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final int[] a, final int from, final int count) {
        return hasher(4L * count).update(a, from, count).finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}, as little-endian raw IEEE-754 bits.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final float[] a, final int from, final int count) {
        return hasher(4L * count).update(a, from, count).finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}, as little-endian bytes.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final long[] a, final int from, final int count) {
        return hasher(8L * count).update(a, from, count).finish();
    }

    /**
     * Hashes {@code count} elements of {@code a} from {@code from}, as little-endian raw IEEE-754 bits.
     *
     * @param a array
     * @param from first element
     * @param count number of elements
     * @return the hash, an unsigned 32-bit value in a long
     */
    public static long hash(final double[] a, final int from, final int count) {
        return hasher(8L * count).update(a, from, count).finish();
    }

    private static SimpleHasher hasher(final long totalBytes) {
        if (totalBytes < 0) {
            throw new IllegalArgumentException("length " + totalBytes + " must be >= 0");
        }
        return HASHER.get().reset(totalBytes);
    }
}
