package io.pccl.hash;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * Streaming simplehash over a byte sequence whose total length is declared up front (the block geometry depends
 * on it). Feed the bytes in order through any mix of {@code update} calls, then call {@link #finish()}. This is
 * how an entry larger than one {@link ByteBuffer} (2 GiB) or split over several mappings is hashed.
 *
 * <p>The algorithm (reference §6.2): the input is read as little-endian u32 words; four words form a vector.
 * {@code grid = min(ceil(nVec / 256), 960)} blocks of {@code ceil(nVec / grid)} consecutive vectors; inside a
 * block vector {@code v} folds into accumulator {@code (v - blockStart) mod 256} (one of 256 virtual threads);
 * each block is reduced like a GPU block (eight 32-lane warp reductions, then one over the eight results padded
 * with zeros) and folded into slot {@code block mod 256}; the 256 slots are block-reduced into the hash; the
 * leftover words and the zero-padded last partial word are folded in sequentially. Walking each block's vectors
 * in memory order with the 256 accumulators in an array gives the exact same result as the strided GPU order,
 * with sequential memory access and 256 independent dependency chains for the CPU to overlap.
 *
 * <pre>
 *  bytes:   | v0 | v1 | ... | v(nVec-1) | w w w (leftover words) | b b b (partial word) |
 *  blocks:  [ block 0: vectors 0..vpb-1 ][ block 1 ] ... [ block grid-1 ]
 *  block:   acc[(v - start) &amp; 255] = fold(acc, w0, w1, w2, w3)     then reduce(acc) -&gt; slot[b &amp; 255]
 * </pre>
 *
 * <p>Speed: whole vectors are hashed by tight loops with no per-element calls when each {@code update} except
 * the last covers a multiple of 16 bytes; otherwise bytes that straddle two updates go through a small carry
 * buffer (correct, but a stream that stays misaligned is slower). Scratch: two int[256] arrays and a 32-byte
 * carry buffer, allocated once per hasher; {@link #reset(long)} reuses them.
 *
 * <p>Not thread-safe.
 *
 * @since 0.1
 */
public final class SimpleHasher {
    static final int THREADS = 256;
    static final int MAX_BLOCKS = 960;
    private static final int VECTOR_BYTES = 16;

    private static final int KIND_BYTES = 0;
    private static final int KIND_BUFFER = 1;
    private static final int KIND_SHORTS = 2;
    private static final int KIND_INTS = 3;
    private static final int KIND_FLOATS = 4;
    private static final int KIND_LONGS = 5;
    private static final int KIND_DOUBLES = 6;
    private static final int[] ELEMENT_BYTES = {1, 1, 2, 4, 4, 8, 8};

    private static final VarHandle LONG_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE_BUFFER =
            MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int[] acc = new int[THREADS];
    private final int[] slots = new int[THREADS];
    private final int[] lanes = new int[32];
    private final ByteBuffer carry = ByteBuffer.allocate(2 * VECTOR_BYTES).order(ByteOrder.LITTLE_ENDIAN);

    private long totalBytes;
    private long fedBytes;
    private long vectorCount;
    private long grid;
    private long vectorsPerBlock;
    private long block;
    private long blockEnd;
    private long vector;
    private int accIndex;
    private boolean finished;

    /**
     * Creates a hasher for a sequence of {@code totalBytes} bytes.
     *
     * @param totalBytes length of the whole sequence, {@code >= 0}
     */
    public SimpleHasher(final long totalBytes) {
        reset(totalBytes);
    }

    /**
     * Starts a new sequence, reusing the scratch arrays.
     *
     * @param totalBytes length of the whole sequence, {@code >= 0}
     * @return this
     */
    public SimpleHasher reset(final long totalBytes) {
        if (totalBytes < 0) {
            throw new IllegalArgumentException("totalBytes " + totalBytes + " must be >= 0");
        }
        this.totalBytes = totalBytes;
        fedBytes = 0;
        vectorCount = totalBytes / VECTOR_BYTES;
        grid = vectorCount == 0 ? 0 : Math.min((vectorCount + THREADS - 1) / THREADS, MAX_BLOCKS);
        vectorsPerBlock = grid == 0 ? 0 : (vectorCount + grid - 1) / grid;
        block = 0;
        blockEnd = Math.min(vectorsPerBlock, vectorCount);
        vector = 0;
        accIndex = 0;
        finished = false;
        Arrays.fill(acc, 0);
        Arrays.fill(slots, 0);
        carry.clear();
        return this;
    }

    /**
     * Feeds the remaining bytes of {@code buf} (position to limit). The buffer's position, limit and byte order
     * are not changed; heap, direct and read-only buffers are accepted at any alignment.
     *
     * @param buf the bytes
     * @return this
     */
    public SimpleHasher update(final ByteBuffer buf) {
        return update(buf, buf.position(), buf.remaining());
    }

    /**
     * Feeds {@code length} bytes of {@code buf} from absolute index {@code offset}, leaving the buffer unchanged.
     *
     * @param buf the bytes
     * @param offset absolute start index
     * @param length number of bytes
     * @return this
     */
    public SimpleHasher update(final ByteBuffer buf, final int offset, final int length) {
        Objects.checkFromIndexSize(offset, length, buf.capacity());
        if (buf.hasArray()) {
            feed(KIND_BYTES, buf.array(), buf.arrayOffset() + offset, length);
        } else {
            feed(KIND_BUFFER, buf, offset, length);
        }
        return this;
    }

    /**
     * Feeds bytes of an array.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final byte[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_BYTES, a, from, count);
        return this;
    }

    /**
     * Feeds elements of an array as little-endian bytes.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final short[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_SHORTS, a, from, count);
        return this;
    }

    /**
     * Feeds elements of an array as little-endian bytes.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final int[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_INTS, a, from, count);
        return this;
    }

    /**
     * Feeds elements of an array as little-endian bytes of their raw IEEE-754 bits.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final float[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_FLOATS, a, from, count);
        return this;
    }

    /**
     * Feeds elements of an array as little-endian bytes.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final long[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_LONGS, a, from, count);
        return this;
    }

    /**
     * Feeds elements of an array as little-endian bytes of their raw IEEE-754 bits.
     *
     * @param a the array
     * @param from first index
     * @param count number of elements
     * @return this
     */
    public SimpleHasher update(final double[] a, final int from, final int count) {
        Objects.checkFromIndexSize(from, count, a.length);
        feed(KIND_DOUBLES, a, from, count);
        return this;
    }

    /**
     * Completes the hash. Exactly the declared number of bytes must have been fed.
     *
     * @return the hash, an unsigned 32-bit value in a long
     * @throws IllegalStateException if fewer bytes were fed than declared, or the hasher already finished
     */
    public long finish() {
        if (finished) {
            throw new IllegalStateException("hasher already finished; call reset(totalBytes) first");
        }
        if (fedBytes != totalBytes) {
            throw new IllegalStateException("fed " + fedBytes + " bytes, declared totalBytes " + totalBytes);
        }
        finished = true;
        int h = grid == 0 ? 0 : blockReduce(slots, lanes);
        final int tail = carry.position();
        final byte[] c = carry.array();
        int i = 0;
        for (; i + 4 <= tail; i += 4) {
            h = combine(h, carry.getInt(i));
        }
        if (i < tail) {
            int word = 0;
            for (int k = 0; i + k < tail; k++) {
                word |= (c[i + k] & 0xff) << (8 * k);
            }
            h = combine(h, word);
        }
        return h & 0xffffffffL;
    }

    private void feed(final int kind, final Object src, final int from, final int count) {
        if (finished) {
            throw new IllegalStateException("hasher already finished; call reset(totalBytes) first");
        }
        final int size = ELEMENT_BYTES[kind];
        final long bytes = (long) count * size;
        if (bytes > totalBytes - fedBytes) {
            throw new IllegalArgumentException("update of " + bytes + " bytes exceeds the declared totalBytes "
                    + totalBytes + " (already fed " + fedBytes + ")");
        }
        fedBytes += bytes;
        int i = from;
        final int end = from + count;
        while (carry.position() > 0 && i < end) {
            putElement(kind, src, i++);
            drainCarry();
        }
        if (carry.position() == 0 && i < end) {
            final int perVector = VECTOR_BYTES / size;
            final long vectors = Math.min((end - i) / perVector, vectorCount - vector);
            runVectors(kind, src, i, vectors);
            i += (int) (vectors * perVector);
        }
        while (i < end) {
            putElement(kind, src, i++);
            drainCarry();
        }
    }

    private void putElement(final int kind, final Object src, final int i) {
        switch (kind) {
            case KIND_BYTES:
                carry.put(((byte[]) src)[i]);
                break;
            case KIND_BUFFER:
                carry.put(((ByteBuffer) src).get(i));
                break;
            case KIND_SHORTS:
                carry.putShort(((short[]) src)[i]);
                break;
            case KIND_INTS:
                carry.putInt(((int[]) src)[i]);
                break;
            case KIND_FLOATS:
                carry.putInt(Float.floatToRawIntBits(((float[]) src)[i]));
                break;
            case KIND_LONGS:
                carry.putLong(((long[]) src)[i]);
                break;
            default:
                carry.putLong(Double.doubleToRawLongBits(((double[]) src)[i]));
                break;
        }
    }

    private void drainCarry() {
        final int pos = carry.position();
        if (pos < VECTOR_BYTES || vector == vectorCount) {
            return; // not a whole vector yet, or these are tail bytes that finish() folds in
        }
        runVectors(KIND_BYTES, carry.array(), 0, 1);
        final byte[] c = carry.array();
        System.arraycopy(c, VECTOR_BYTES, c, 0, pos - VECTOR_BYTES);
        carry.position(pos - VECTOR_BYTES);
    }

    private void runVectors(final int kind, final Object src, final int from, final long vectors) {
        final int perVector = VECTOR_BYTES / ELEMENT_BYTES[kind];
        int index = from;
        long left = vectors;
        while (left > 0) {
            final int n = (int) Math.min(left, blockEnd - vector);
            accIndex = fold(kind, src, index, n, acc, accIndex);
            index += n * perVector;
            vector += n;
            left -= n;
            if (vector == blockEnd) {
                endBlock();
            }
        }
    }

    private static int fold(final int kind, final Object src, final int index, final int n, final int[] acc,
                            final int accIndex) {
        switch (kind) {
            case KIND_BYTES:
                return foldBytes((byte[]) src, index, n, acc, accIndex);
            case KIND_BUFFER:
                return foldBuffer((ByteBuffer) src, index, n, acc, accIndex);
            case KIND_SHORTS:
                return foldShorts((short[]) src, index, n, acc, accIndex);
            case KIND_INTS:
                return foldInts((int[]) src, index, n, acc, accIndex);
            case KIND_FLOATS:
                return foldFloats((float[]) src, index, n, acc, accIndex);
            case KIND_LONGS:
                return foldLongs((long[]) src, index, n, acc, accIndex);
            default:
                return foldDoubles((double[]) src, index, n, acc, accIndex);
        }
    }

    private void endBlock() {
        final int slot = (int) (block & (THREADS - 1));
        slots[slot] = combine(slots[slot], blockReduce(acc, lanes));
        Arrays.fill(acc, 0);
        accIndex = 0;
        block++;
        // blocks past the data (possible when grid * vectorsPerBlock overshoots) still fold their zero hash
        while (block < grid && block * vectorsPerBlock >= vectorCount) {
            final int s = (int) (block & (THREADS - 1));
            slots[s] = combine(slots[s], blockReduce(acc, lanes));
            Arrays.fill(acc, 0);
            block++;
        }
        blockEnd = Math.min((block + 1) * vectorsPerBlock, vectorCount);
    }

    // ---- kernels: one tight loop per source kind; acc index wraps at 256 -----------------------------------

    static int foldBytes(final byte[] a, final int from, final int n, final int[] acc, final int accIndex) {
        int j = accIndex;
        int p = from;
        int k = 0;
        for (; k < n && (j & 3) != 0; k++, p += VECTOR_BYTES) {
            acc[j] = mix(acc[j], (long) LONG_LE_ARRAY.get(a, p), (long) LONG_LE_ARRAY.get(a, p + 8));
            j = (j + 1) & (THREADS - 1);
        }
        // four independent accumulator chains per iteration: the CPU overlaps their multiply latencies
        for (; k + 4 <= n; k += 4, p += 4 * VECTOR_BYTES) {
            int h0 = acc[j];
            int h1 = acc[j + 1];
            int h2 = acc[j + 2];
            int h3 = acc[j + 3];
            final long a0 = (long) LONG_LE_ARRAY.get(a, p);
            final long a1 = (long) LONG_LE_ARRAY.get(a, p + 16);
            final long a2 = (long) LONG_LE_ARRAY.get(a, p + 32);
            final long a3 = (long) LONG_LE_ARRAY.get(a, p + 48);
            h0 = combine(h0, (int) a0);
            h1 = combine(h1, (int) a1);
            h2 = combine(h2, (int) a2);
            h3 = combine(h3, (int) a3);
            h0 = combine(h0, (int) (a0 >>> 32));
            h1 = combine(h1, (int) (a1 >>> 32));
            h2 = combine(h2, (int) (a2 >>> 32));
            h3 = combine(h3, (int) (a3 >>> 32));
            final long b0 = (long) LONG_LE_ARRAY.get(a, p + 8);
            final long b1 = (long) LONG_LE_ARRAY.get(a, p + 24);
            final long b2 = (long) LONG_LE_ARRAY.get(a, p + 40);
            final long b3 = (long) LONG_LE_ARRAY.get(a, p + 56);
            h0 = combine(h0, (int) b0);
            h1 = combine(h1, (int) b1);
            h2 = combine(h2, (int) b2);
            h3 = combine(h3, (int) b3);
            acc[j] = combine(h0, (int) (b0 >>> 32));
            acc[j + 1] = combine(h1, (int) (b1 >>> 32));
            acc[j + 2] = combine(h2, (int) (b2 >>> 32));
            acc[j + 3] = combine(h3, (int) (b3 >>> 32));
            j = (j + 4) & (THREADS - 1);
        }
        for (; k < n; k++, p += VECTOR_BYTES) {
            acc[j] = mix(acc[j], (long) LONG_LE_ARRAY.get(a, p), (long) LONG_LE_ARRAY.get(a, p + 8));
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    static int foldBuffer(final ByteBuffer a, final int from, final int n, final int[] acc, final int accIndex) {
        int j = accIndex;
        int p = from;
        int k = 0;
        for (; k < n && (j & 3) != 0; k++, p += VECTOR_BYTES) {
            acc[j] = mix(acc[j], (long) LONG_LE_BUFFER.get(a, p), (long) LONG_LE_BUFFER.get(a, p + 8));
            j = (j + 1) & (THREADS - 1);
        }
        // four independent accumulator chains per iteration: the CPU overlaps their multiply latencies
        for (; k + 4 <= n; k += 4, p += 4 * VECTOR_BYTES) {
            int h0 = acc[j];
            int h1 = acc[j + 1];
            int h2 = acc[j + 2];
            int h3 = acc[j + 3];
            final long a0 = (long) LONG_LE_BUFFER.get(a, p);
            final long a1 = (long) LONG_LE_BUFFER.get(a, p + 16);
            final long a2 = (long) LONG_LE_BUFFER.get(a, p + 32);
            final long a3 = (long) LONG_LE_BUFFER.get(a, p + 48);
            h0 = combine(h0, (int) a0);
            h1 = combine(h1, (int) a1);
            h2 = combine(h2, (int) a2);
            h3 = combine(h3, (int) a3);
            h0 = combine(h0, (int) (a0 >>> 32));
            h1 = combine(h1, (int) (a1 >>> 32));
            h2 = combine(h2, (int) (a2 >>> 32));
            h3 = combine(h3, (int) (a3 >>> 32));
            final long b0 = (long) LONG_LE_BUFFER.get(a, p + 8);
            final long b1 = (long) LONG_LE_BUFFER.get(a, p + 24);
            final long b2 = (long) LONG_LE_BUFFER.get(a, p + 40);
            final long b3 = (long) LONG_LE_BUFFER.get(a, p + 56);
            h0 = combine(h0, (int) b0);
            h1 = combine(h1, (int) b1);
            h2 = combine(h2, (int) b2);
            h3 = combine(h3, (int) b3);
            acc[j] = combine(h0, (int) (b0 >>> 32));
            acc[j + 1] = combine(h1, (int) (b1 >>> 32));
            acc[j + 2] = combine(h2, (int) (b2 >>> 32));
            acc[j + 3] = combine(h3, (int) (b3 >>> 32));
            j = (j + 4) & (THREADS - 1);
        }
        for (; k < n; k++, p += VECTOR_BYTES) {
            acc[j] = mix(acc[j], (long) LONG_LE_BUFFER.get(a, p), (long) LONG_LE_BUFFER.get(a, p + 8));
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    private static int foldShorts(final short[] a, final int from, final int n, final int[] acc,
                                  final int accIndex) {
        int j = accIndex;
        int p = from;
        for (int k = 0; k < n; k++, p += 8) {
            int h = acc[j];
            h = combine(h, (a[p] & 0xffff) | (a[p + 1] << 16));
            h = combine(h, (a[p + 2] & 0xffff) | (a[p + 3] << 16));
            h = combine(h, (a[p + 4] & 0xffff) | (a[p + 5] << 16));
            acc[j] = combine(h, (a[p + 6] & 0xffff) | (a[p + 7] << 16));
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    private static int foldInts(final int[] a, final int from, final int n, final int[] acc, final int accIndex) {
        int j = accIndex;
        int p = from;
        for (int k = 0; k < n; k++, p += 4) {
            acc[j] = combine(combine(combine(combine(acc[j], a[p]), a[p + 1]), a[p + 2]), a[p + 3]);
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    private static int foldFloats(final float[] a, final int from, final int n, final int[] acc,
                                  final int accIndex) {
        int j = accIndex;
        int p = from;
        for (int k = 0; k < n; k++, p += 4) {
            int h = acc[j];
            h = combine(h, Float.floatToRawIntBits(a[p]));
            h = combine(h, Float.floatToRawIntBits(a[p + 1]));
            h = combine(h, Float.floatToRawIntBits(a[p + 2]));
            acc[j] = combine(h, Float.floatToRawIntBits(a[p + 3]));
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    private static int foldLongs(final long[] a, final int from, final int n, final int[] acc,
                                 final int accIndex) {
        int j = accIndex;
        int p = from;
        for (int k = 0; k < n; k++, p += 2) {
            acc[j] = mix(acc[j], a[p], a[p + 1]);
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    private static int foldDoubles(final double[] a, final int from, final int n, final int[] acc,
                                   final int accIndex) {
        int j = accIndex;
        int p = from;
        for (int k = 0; k < n; k++, p += 2) {
            acc[j] = mix(acc[j], Double.doubleToRawLongBits(a[p]), Double.doubleToRawLongBits(a[p + 1]));
            j = (j + 1) & (THREADS - 1);
        }
        return j;
    }

    /** Folds one vector given as two little-endian longs (words 0,1 in x0 and 2,3 in x1). */
    private static int mix(final int h0, final long x0, final long x1) {
        int h = combine(h0, (int) x0);
        h = combine(h, (int) (x0 >>> 32));
        h = combine(h, (int) x1);
        return combine(h, (int) (x1 >>> 32));
    }

    /** The reference's combine: not associative, order matters. */
    static int combine(final int a, final int b) {
        return Integer.rotateLeft(a ^ (b + 0x9e3779b1), 7) * 0x85ebca6b;
    }

    /** Reduces 256 values (destroyed) like one GPU block: 8 warp reductions, then one over 8 results + 24 zeros. */
    static int blockReduce(final int[] v, final int[] lanes) {
        Arrays.fill(lanes, 0);
        for (int w = 0; w < 8; w++) {
            lanes[w] = warpReduce(v, w * 32);
        }
        return warpReduce(lanes, 0);
    }

    private static int warpReduce(final int[] v, final int base) {
        for (int offset = 16; offset > 0; offset >>= 1) {
            for (int i = 0; i < offset; i++) {
                v[base + i] = combine(v[base + i], v[base + i + offset]);
            }
        }
        return v[base];
    }
}
