package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

/**
 * Integer loops behind {@link ReduceKernels} on the raw path ({@link RawMemory}): one straight loop per (width, op)
 * over {@code (base, address)} pairs, {@code dst[i] = op(a[i], b[i])} where the destination may be an input, with an
 * int induction variable so that C2 treats it as a counted loop. Same semantics as {@link IntegerLoops}: sums and
 * products wrap, unsigned min/max flip the sign bit so that a signed comparison orders them unsigned. Bounds are
 * validated by the caller, which also keeps the buffers reachable.
 *
 * <p>Thread-safe (stateless).
 */
final class RawIntegerLoops {
    private RawIntegerLoops() {
    }

    static void combine8(final ReduceOp op, final boolean unsigned, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final int flip = unsigned ? 0x80 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = i;
                    final byte x = unsafe.getByte(ab, a + o);
                    final byte y = unsafe.getByte(bb, b + o);
                    unsafe.putByte(db, d + o, (byte) (x + y));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = i;
                    final byte x = unsafe.getByte(ab, a + o);
                    final byte y = unsafe.getByte(bb, b + o);
                    unsafe.putByte(db, d + o, (byte) (x * y));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = i;
                    final byte x = unsafe.getByte(ab, a + o);
                    final byte y = unsafe.getByte(bb, b + o);
                    unsafe.putByte(db, d + o, (byte) (Math.max((byte) (x ^ flip), (byte) (y ^ flip)) ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = i;
                    final byte x = unsafe.getByte(ab, a + o);
                    final byte y = unsafe.getByte(bb, b + o);
                    unsafe.putByte(db, d + o, (byte) (Math.min((byte) (x ^ flip), (byte) (y ^ flip)) ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine16(final ReduceOp op, final boolean unsigned, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final int flip = unsigned ? 0x8000 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final short x = unsafe.getShort(ab, a + o);
                    final short y = unsafe.getShort(bb, b + o);
                    unsafe.putShort(db, d + o, (short) (x + y));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final short x = unsafe.getShort(ab, a + o);
                    final short y = unsafe.getShort(bb, b + o);
                    unsafe.putShort(db, d + o, (short) (x * y));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final short x = unsafe.getShort(ab, a + o);
                    final short y = unsafe.getShort(bb, b + o);
                    unsafe.putShort(db, d + o, (short) (Math.max((short) (x ^ flip), (short) (y ^ flip)) ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final short x = unsafe.getShort(ab, a + o);
                    final short y = unsafe.getShort(bb, b + o);
                    unsafe.putShort(db, d + o, (short) (Math.min((short) (x ^ flip), (short) (y ^ flip)) ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine32(final ReduceOp op, final boolean unsigned, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final int flip = unsigned ? Integer.MIN_VALUE : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final int x = unsafe.getInt(ab, a + o);
                    final int y = unsafe.getInt(bb, b + o);
                    unsafe.putInt(db, d + o, x + y);
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final int x = unsafe.getInt(ab, a + o);
                    final int y = unsafe.getInt(bb, b + o);
                    unsafe.putInt(db, d + o, x * y);
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final int x = unsafe.getInt(ab, a + o);
                    final int y = unsafe.getInt(bb, b + o);
                    unsafe.putInt(db, d + o, Math.max(x ^ flip, y ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final int x = unsafe.getInt(ab, a + o);
                    final int y = unsafe.getInt(bb, b + o);
                    unsafe.putInt(db, d + o, Math.min(x ^ flip, y ^ flip) ^ flip);
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine64(final ReduceOp op, final boolean unsigned, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final long flip = unsigned ? Long.MIN_VALUE : 0L;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final long x = unsafe.getLong(ab, a + o);
                    final long y = unsafe.getLong(bb, b + o);
                    unsafe.putLong(db, d + o, x + y);
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final long x = unsafe.getLong(ab, a + o);
                    final long y = unsafe.getLong(bb, b + o);
                    unsafe.putLong(db, d + o, x * y);
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final long x = unsafe.getLong(ab, a + o);
                    final long y = unsafe.getLong(bb, b + o);
                    unsafe.putLong(db, d + o, Math.max(x ^ flip, y ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final long x = unsafe.getLong(ab, a + o);
                    final long y = unsafe.getLong(bb, b + o);
                    unsafe.putLong(db, d + o, Math.min(x ^ flip, y ^ flip) ^ flip);
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void divide8(final boolean unsigned, final Object ab, final long a, final int count,
            final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final long o = i;
                unsafe.putByte(ab, a + o, (byte) ((unsafe.getByte(ab, a + o) & 0xFF) / divisor));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final long o = i;
                unsafe.putByte(ab, a + o, (byte) (unsafe.getByte(ab, a + o) / divisor));
            }
        }
    }

    static void divide16(final boolean unsigned, final Object ab, final long a, final int count,
            final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 1;
                unsafe.putShort(ab, a + o, (short) ((unsafe.getShort(ab, a + o) & 0xFFFF) / divisor));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 1;
                unsafe.putShort(ab, a + o, (short) (unsafe.getShort(ab, a + o) / divisor));
            }
        }
    }

    static void divide32(final boolean unsigned, final Object ab, final long a, final int count,
            final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 2;
                unsafe.putInt(ab, a + o, Integer.divideUnsigned(unsafe.getInt(ab, a + o), divisor));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 2;
                unsafe.putInt(ab, a + o, unsafe.getInt(ab, a + o) / divisor);
            }
        }
    }

    static void divide64(final boolean unsigned, final Object ab, final long a, final int count,
            final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final long d = divisor;
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 3;
                unsafe.putLong(ab, a + o, Long.divideUnsigned(unsafe.getLong(ab, a + o), d));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 3;
                unsafe.putLong(ab, a + o, unsafe.getLong(ab, a + o) / d);
            }
        }
    }
}
