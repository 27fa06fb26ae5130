package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * Integer loops behind {@link ReduceKernels} on the portable path (when {@link RawMemory} is unavailable): one straight
 * loop per (width, op), {@code dst[i] = op(x[i], y[i])}, over little-endian buffers with absolute indexes; the
 * destination may be an input (then it is an accumulate). Sums and products wrap (identical bits for signed and
 * unsigned types); unsigned min/max flip the sign bit so that a signed comparison orders them unsigned. Arguments are
 * validated by the caller.
 *
 * <p>Thread-safe (stateless).
 */
final class IntegerLoops {
    private static final int SIGN8 = 0x80;
    private static final int SIGN16 = 0x8000;

    private IntegerLoops() {
    }

    static void combine8(final ReduceOp op, final boolean unsigned,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        // Unsigned bytes compare as signed after flipping the top bit.
        final int flip = unsigned ? SIGN8 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    dst.put(d + i, (byte) (x.get(a + i) + y.get(b + i)));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    dst.put(d + i, (byte) (x.get(a + i) * y.get(b + i)));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    dst.put(d + i, (byte) (Math.max((byte) (x.get(a + i) ^ flip), (byte) (y.get(b + i) ^ flip))
                            ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    dst.put(d + i, (byte) (Math.min((byte) (x.get(a + i) ^ flip), (byte) (y.get(b + i) ^ flip))
                            ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine16(final ReduceOp op, final boolean unsigned,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        final int flip = unsigned ? SIGN16 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    dst.putShort(d + o, (short) (x.getShort(a + o) + y.getShort(b + o)));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    dst.putShort(d + o, (short) (x.getShort(a + o) * y.getShort(b + o)));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    dst.putShort(d + o, (short) (Math.max((short) (x.getShort(a + o) ^ flip),
                            (short) (y.getShort(b + o) ^ flip)) ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    dst.putShort(d + o, (short) (Math.min((short) (x.getShort(a + o) ^ flip),
                            (short) (y.getShort(b + o) ^ flip)) ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine32(final ReduceOp op, final boolean unsigned,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        final int flip = unsigned ? Integer.MIN_VALUE : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putInt(d + o, x.getInt(a + o) + y.getInt(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putInt(d + o, x.getInt(a + o) * y.getInt(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putInt(d + o, Math.max(x.getInt(a + o) ^ flip, y.getInt(b + o) ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putInt(d + o, Math.min(x.getInt(a + o) ^ flip, y.getInt(b + o) ^ flip) ^ flip);
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combine64(final ReduceOp op, final boolean unsigned,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        final long flip = unsigned ? Long.MIN_VALUE : 0L;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putLong(d + o, x.getLong(a + o) + y.getLong(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putLong(d + o, x.getLong(a + o) * y.getLong(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putLong(d + o, Math.max(x.getLong(a + o) ^ flip, y.getLong(b + o) ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putLong(d + o, Math.min(x.getLong(a + o) ^ flip, y.getLong(b + o) ^ flip) ^ flip);
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void divide8(final boolean unsigned, final ByteBuffer buf, final int a, final int count,
                        final int divisor) {
        final int mask = unsigned ? 0xFF : -1;
        for (int i = 0; i < count; i++) {
            // Masked to 0..255 for unsigned; int division of a non-negative value is unsigned division.
            final int v = unsigned ? buf.get(a + i) & mask : buf.get(a + i);
            buf.put(a + i, (byte) (v / divisor));
        }
    }

    static void divide16(final boolean unsigned, final ByteBuffer buf, final int a, final int count,
                         final int divisor) {
        for (int i = 0; i < count; i++) {
            final int o = i << 1;
            final int v = unsigned ? buf.getShort(a + o) & 0xFFFF : buf.getShort(a + o);
            buf.putShort(a + o, (short) (v / divisor));
        }
    }

    static void divide32(final boolean unsigned, final ByteBuffer buf, final int a, final int count,
                         final int divisor) {
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final int o = i << 2;
                buf.putInt(a + o, Integer.divideUnsigned(buf.getInt(a + o), divisor));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final int o = i << 2;
                buf.putInt(a + o, buf.getInt(a + o) / divisor);
            }
        }
    }

    static void divide64(final boolean unsigned, final ByteBuffer buf, final int a, final int count,
                         final int divisor) {
        final long d = divisor;
        if (unsigned) {
            for (int i = 0; i < count; i++) {
                final int o = i << 3;
                buf.putLong(a + o, Long.divideUnsigned(buf.getLong(a + o), d));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final int o = i << 3;
                buf.putLong(a + o, buf.getLong(a + o) / d);
            }
        }
    }
}
