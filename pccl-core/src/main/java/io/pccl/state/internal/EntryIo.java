package io.pccl.state.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pccl.SharedState;
import java.nio.ByteBuffer;

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
        final int to = from + length / elementBytes;
        if (array instanceof float[]) {
            final float[] a = (float[]) array;
            for (int i = from; i < to; i++) {
                out.writeIntLE(Float.floatToRawIntBits(a[i]));
            }
        } else if (array instanceof double[]) {
            final double[] a = (double[]) array;
            for (int i = from; i < to; i++) {
                out.writeLongLE(Double.doubleToRawLongBits(a[i]));
            }
        } else if (array instanceof int[]) {
            final int[] a = (int[]) array;
            for (int i = from; i < to; i++) {
                out.writeIntLE(a[i]);
            }
        } else if (array instanceof long[]) {
            final long[] a = (long[]) array;
            for (int i = from; i < to; i++) {
                out.writeLongLE(a[i]);
            }
        } else {
            final short[] a = (short[]) array;
            for (int i = from; i < to; i++) {
                out.writeShortLE(a[i]);
            }
        }
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
        for (int k = 0; k < whole; k++) {
            final long v;
            switch (elementBytes) {
                case 2:
                    v = in.readShortLE();
                    break;
                case 4:
                    v = in.readIntLE();
                    break;
                default:
                    v = in.readLongLE();
                    break;
            }
            store((int) index++, v);
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
