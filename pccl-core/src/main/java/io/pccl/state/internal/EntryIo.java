package io.pccl.state.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pccl.SharedState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves the bytes of one {@link SharedState.Entry} between the caller's memory and Netty buffers.
 * Reading side ({@link #slice}): buffer and {@code byte[]} entries are wrapped without copying; wider primitive
 * arrays are encoded little-endian into a pooled buffer (Java arrays cannot be viewed as bytes). Writing side
 * ({@link #write}): bytes go straight into the entry's memory at a running offset; a wide element split across
 * two network reads is assembled in a small carry.
 *
 * <p>Not thread-safe: one instance per transfer of one entry, confined to one event loop.
 */
final class EntryIo {
    private final SharedState.Entry entry;
    private final ByteBuffer buffer;
    private final Object array;
    private final int elementBytes;
    private final long sizeBytes;
    private long offset;
    private long carry;
    private int carryBytes;

    EntryIo(final SharedState.Entry entry) {
        this.entry = entry;
        this.buffer = entry.buffer();
        this.array = entry.array();
        this.elementBytes = array instanceof byte[] || array == null ? 1 : elementBytes(array);
        this.sizeBytes = entry.sizeBytes();
    }

    SharedState.Entry entry() {
        return entry;
    }

    long remaining() {
        return sizeBytes - offset;
    }

    /**
     * The next {@code length} bytes of the entry as a buffer for writing to the network (zero-copy where the
     * memory allows). {@code length} must be a multiple of the element size unless it ends the entry.
     *
     * @return a buffer the caller owns (hand it to a write)
     */
    ByteBuf slice(final ByteBufAllocator alloc, final int length) {
        final long at = offset;
        offset += length;
        if (buffer != null) {
            final int start = entry.bufferOffset() + (int) at;
            return Unpooled.wrappedBuffer(buffer.duplicate().limit(start + length).position(start).slice());
        }
        if (array instanceof byte[]) {
            return Unpooled.wrappedBuffer((byte[]) array, (int) at, length);
        }
        final ByteBuf out = alloc.buffer(length);
        final int from = (int) (at / elementBytes);
        final int n = length / elementBytes;
        // a view of the pooled buffer's memory (not a copy: alloc.buffer() is never composite); bulk little-endian
        final ByteBuffer view = out.nioBuffer(out.writerIndex(), length).order(ByteOrder.LITTLE_ENDIAN);
        if (array instanceof float[]) {
            view.asFloatBuffer().put((float[]) array, from, n);
        } else if (array instanceof double[]) {
            view.asDoubleBuffer().put((double[]) array, from, n);
        } else if (array instanceof int[]) {
            view.asIntBuffer().put((int[]) array, from, n);
        } else if (array instanceof long[]) {
            view.asLongBuffer().put((long[]) array, from, n);
        } else {
            view.asShortBuffer().put((short[]) array, from, n);
        }
        out.writerIndex(out.writerIndex() + length);
        return out;
    }

    /**
     * Copies {@code length} readable bytes of {@code in} into the entry at the running offset (advances
     * {@code in}'s reader index; does not release it).
     */
    void write(final ByteBuf in, final int length) {
        if (buffer != null) {
            final int start = entry.bufferOffset() + (int) offset;
            buffer.limit(start + length).position(start);
            in.readBytes(buffer);
        } else if (array instanceof byte[]) {
            in.readBytes((byte[]) array, (int) offset, length);
        } else {
            writeElements(in, length);
        }
        offset += length;
    }

    private void writeElements(final ByteBuf in, final int length) {
        int left = length;
        long index = (offset - carryBytes) / elementBytes;
        while (left > 0 && carryBytes > 0) {
            carry |= (in.readByte() & 0xffL) << (8 * carryBytes);
            carryBytes++;
            left--;
            if (carryBytes == elementBytes) {
                store((int) index++, carry);
                carry = 0;
                carryBytes = 0;
            }
        }
        final int whole = left / elementBytes;
        if (whole > 0) {
            final int bytes = whole * elementBytes;
            final ByteBuffer view = in.nioBuffer(in.readerIndex(), bytes).order(ByteOrder.LITTLE_ENDIAN);
            final int at = (int) index;
            if (array instanceof float[]) {
                view.asFloatBuffer().get((float[]) array, at, whole);
            } else if (array instanceof double[]) {
                view.asDoubleBuffer().get((double[]) array, at, whole);
            } else if (array instanceof int[]) {
                view.asIntBuffer().get((int[]) array, at, whole);
            } else if (array instanceof long[]) {
                view.asLongBuffer().get((long[]) array, at, whole);
            } else {
                view.asShortBuffer().get((short[]) array, at, whole);
            }
            in.skipBytes(bytes);
        }
        left -= whole * elementBytes;
        while (left > 0) {
            carry |= (in.readByte() & 0xffL) << (8 * carryBytes);
            carryBytes++;
            left--;
        }
    }

    private void store(final int index, final long bits) {
        if (array instanceof float[]) {
            ((float[]) array)[index] = Float.intBitsToFloat((int) bits);
        } else if (array instanceof double[]) {
            ((double[]) array)[index] = Double.longBitsToDouble(bits);
        } else if (array instanceof int[]) {
            ((int[]) array)[index] = (int) bits;
        } else if (array instanceof long[]) {
            ((long[]) array)[index] = bits;
        } else {
            ((short[]) array)[index] = (short) bits;
        }
    }

    private static int elementBytes(final Object array) {
        if (array instanceof short[]) {
            return 2;
        }
        return array instanceof int[] || array instanceof float[] ? 4 : 8;
    }
}
