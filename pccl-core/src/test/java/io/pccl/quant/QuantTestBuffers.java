package io.pccl.quant;

import io.pccl.DataType;
import org.junit.jupiter.params.provider.Arguments;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Buffers and parameters the quantizer tests share: little-endian heap or direct buffers, values of a source type
 * by index, random values, copies and byte-for-byte comparison, and the source × wire type pairs of an algorithm.
 *
 * <p>Thread-safe (stateless).
 */
final class QuantTestBuffers {
    static final DataType[] SOURCES = {DataType.FLOAT32, DataType.FLOAT64};

    private QuantTestBuffers() {
    }

    static Stream<Arguments> typePairs(final DataType... wires) {
        final List<Arguments> all = new ArrayList<>();
        for (final DataType source : SOURCES) {
            for (final DataType wire : wires) {
                all.add(Arguments.of(source, wire));
            }
        }
        return all.stream();
    }

    static ByteBuffer le(final int bytes, final boolean direct) {
        return (direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    static double get(final DataType source, final ByteBuffer buf, final int i) {
        return source == DataType.FLOAT32 ? buf.getFloat(i * 4) : buf.getDouble(i * 8);
    }

    static void put(final DataType source, final ByteBuffer buf, final int i, final double v) {
        if (source == DataType.FLOAT32) {
            buf.putFloat(i * 4, (float) v);
        } else {
            buf.putDouble(i * 8, v);
        }
    }

    static ByteBuffer randomValues(final SplittableRandom random, final DataType source, final int count,
                                   final double lo, final double hi) {
        final ByteBuffer buf = le(count * source.sizeBytes(), random.nextBoolean());
        for (int i = 0; i < count; i++) {
            put(source, buf, i, random.nextDouble(lo, hi));
        }
        return buf;
    }

    /** A copy of {@code src}'s whole capacity, little-endian, direct or on the heap. */
    static ByteBuffer copy(final ByteBuffer src, final boolean direct) {
        final ByteBuffer out = le(src.capacity(), direct);
        for (int i = 0; i < src.capacity(); i++) {
            out.put(i, src.get(i));
        }
        return out;
    }

    /** Same capacity, same byte at every index (the message is built only for the first difference). */
    static void assertSameBytes(final ByteBuffer expected, final ByteBuffer actual, final String what) {
        assertEquals(expected.capacity(), actual.capacity(), what + ": size");
        for (int i = 0; i < expected.capacity(); i++) {
            if (expected.get(i) != actual.get(i)) {
                assertEquals(expected.get(i), actual.get(i), what + ": byte " + i);
            }
        }
    }
}
