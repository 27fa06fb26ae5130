package io.pccl.ring;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.HalfFloats;
import io.pccl.ring.internal.RingSchedule;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Scalar reference of the ring all-reduce: chunk {@code c} is folded in ring order starting at rank {@code c}
 * ({@code acc = op(own, partial)} at each hop, rounded to the type at each hop), then AVG divides by W.
 * Elements are handled as raw bits in a {@code long}.
 *
 * <p>Not thread-safe (stateless helpers).
 */
final class RingReference {
    private RingReference() {
    }

    static ByteBuffer[] inputs(final DataType type, final long count, final int worldSize, final long seed) {
        final Random random = new Random(seed);
        final ByteBuffer[] in = new ByteBuffer[worldSize];
        for (int r = 0; r < worldSize; r++) {
            // Mix direct and heap buffers.
            final int bytes = (int) (count * type.sizeBytes());
            in[r] = (r % 2 == 0 ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                put(type, in[r], i, randomBits(type, random));
            }
        }
        return in;
    }

    static long randomBits(final DataType type, final Random random) {
        switch (type) {
            case FLOAT32:
                return Float.floatToRawIntBits(random.nextFloat() * 2 - 1) & 0xffffffffL;
            case FLOAT64:
                return Double.doubleToRawLongBits(random.nextDouble() * 2 - 1);
            case FLOAT16:
                return HalfFloats.floatToFloat16(random.nextFloat() * 4 - 2) & 0xffffL;
            case BFLOAT16:
                return HalfFloats.floatToBfloat16(random.nextFloat() * 4 - 2) & 0xffffL;
            default:
                return random.nextLong();
        }
    }

    static long get(final DataType type, final ByteBuffer b, final int i) {
        final int o = i * type.sizeBytes();
        switch (type.sizeBytes()) {
            case 1:
                return b.get(o);
            case 2:
                return b.getShort(o);
            case 4:
                return b.getInt(o);
            default:
                return b.getLong(o);
        }
    }

    static void put(final DataType type, final ByteBuffer b, final int i, final long bits) {
        final int o = i * type.sizeBytes();
        switch (type.sizeBytes()) {
            case 1:
                b.put(o, (byte) bits);
                break;
            case 2:
                b.putShort(o, (short) bits);
                break;
            case 4:
                b.putInt(o, (int) bits);
                break;
            default:
                b.putLong(o, bits);
                break;
        }
    }

    /** Expected result (identical on every rank). */
    static ByteBuffer expected(final DataType type, final ReduceOp op, final ByteBuffer[] in, final long count) {
        final int w = in.length;
        final ByteBuffer out = ByteBuffer.allocate((int) (count * type.sizeBytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < w; c++) {
            final long start = RingSchedule.chunkStartElement(count, w, c);
            final long n = RingSchedule.chunkElements(count, w, c);
            for (int i = (int) start; i < start + n; i++) {
                long v = get(type, in[c], i);
                for (int k = 1; k < w; k++) {
                    v = combine(type, op, get(type, in[(c + k) % w], i), v);
                }
                if (op == ReduceOp.AVG) {
                    v = divide(type, v, w);
                }
                put(type, out, i, v);
            }
        }
        return out;
    }

    static long combine(final DataType type, final ReduceOp op, final long acc, final long in) {
        switch (type) {
            case FLOAT32: {
                final float a = Float.intBitsToFloat((int) acc);
                final float b = Float.intBitsToFloat((int) in);
                return Float.floatToRawIntBits(floatOp(op, a, b));
            }
            case FLOAT64: {
                final double a = Double.longBitsToDouble(acc);
                final double b = Double.longBitsToDouble(in);
                final double r;
                switch (op) {
                    case PROD:
                        r = a * b;
                        break;
                    case MAX:
                        r = Math.max(a, b);
                        break;
                    case MIN:
                        r = Math.min(a, b);
                        break;
                    default:
                        r = a + b;
                        break;
                }
                return Double.doubleToRawLongBits(r);
            }
            case FLOAT16:
                return HalfFloats.floatToFloat16(floatOp(op, HalfFloats.float16ToFloat((short) acc),
                        HalfFloats.float16ToFloat((short) in)));
            case BFLOAT16:
                return HalfFloats.floatToBfloat16(floatOp(op, HalfFloats.bfloat16ToFloat((short) acc),
                        HalfFloats.bfloat16ToFloat((short) in)));
            default:
                return integerOp(type, op, acc, in);
        }
    }

    private static float floatOp(final ReduceOp op, final float a, final float b) {
        switch (op) {
            case PROD:
                return a * b;
            case MAX:
                return Math.max(a, b);
            case MIN:
                return Math.min(a, b);
            default:
                return a + b;
        }
    }

    private static long integerOp(final DataType type, final ReduceOp op, final long rawA, final long rawB) {
        final long a = extend(type, rawA);
        final long b = extend(type, rawB);
        switch (op) {
            case PROD:
                return a * b;
            case MAX:
                return compare(type, a, b) >= 0 ? a : b;
            case MIN:
                return compare(type, a, b) <= 0 ? a : b;
            default:
                return a + b;
        }
    }

    private static int compare(final DataType type, final long a, final long b) {
        return type.isSigned() ? Long.compare(a, b) : Long.compareUnsigned(a, b);
    }

    /** Sign- or zero-extends the low bits of the type. */
    static long extend(final DataType type, final long raw) {
        final int bits = type.sizeBytes() * 8;
        if (bits == 64) {
            return raw;
        }
        return type.isSigned() ? (raw << (64 - bits)) >> (64 - bits) : raw & ((1L << bits) - 1);
    }

    static long divide(final DataType type, final long raw, final int w) {
        switch (type) {
            case FLOAT32:
                return Float.floatToRawIntBits(Float.intBitsToFloat((int) raw) / w);
            case FLOAT64:
                return Double.doubleToRawLongBits(Double.longBitsToDouble(raw) / w);
            case FLOAT16:
                return HalfFloats.floatToFloat16(HalfFloats.float16ToFloat((short) raw) / w);
            case BFLOAT16:
                return HalfFloats.floatToBfloat16(HalfFloats.bfloat16ToFloat((short) raw) / w);
            default:
                final long v = extend(type, raw);
                return type.isSigned() ? v / w : Long.divideUnsigned(v, w);
        }
    }
}
