package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * Integer loops behind {@link ReduceKernels} on the portable path (when {@link RawMemory} is
 * unavailable): one straight loop per (width, op), over little-endian buffers with
 * absolute indexes. Sums and products wrap (identical bits for signed and unsigned types); unsigned min/max flip the
 * sign bit so that a signed comparison orders them unsigned. Arguments are validated by the caller.
 *
 * <p>Thread-safe (stateless).
 */
final class IntegerLoops {
    private static final int SIGN8 = 0x80;
    private static final int SIGN16 = 0x8000;

    private IntegerLoops() {
    }

    static void accumulate8(final ReduceOp op, final boolean unsigned, final ByteBuffer acc, final int a,
                            final ByteBuffer in, final int b, final int count) {
        // Unsigned bytes compare as signed after flipping the top bit.
        final int flip = unsigned ? SIGN8 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    acc.put(a + i, (byte) (acc.get(a + i) + in.get(b + i)));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    acc.put(a + i, (byte) (acc.get(a + i) * in.get(b + i)));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    acc.put(a + i, (byte) (Math.max((byte) (acc.get(a + i) ^ flip), (byte) (in.get(b + i) ^ flip))
                            ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    acc.put(a + i, (byte) (Math.min((byte) (acc.get(a + i) ^ flip), (byte) (in.get(b + i) ^ flip))
                            ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void accumulate16(final ReduceOp op, final boolean unsigned, final ByteBuffer acc, final int a,
                             final ByteBuffer in, final int b, final int count) {
        final int flip = unsigned ? SIGN16 : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    acc.putShort(a + o, (short) (acc.getShort(a + o) + in.getShort(b + o)));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    acc.putShort(a + o, (short) (acc.getShort(a + o) * in.getShort(b + o)));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    acc.putShort(a + o, (short) (Math.max((short) (acc.getShort(a + o) ^ flip),
                            (short) (in.getShort(b + o) ^ flip)) ^ flip));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    acc.putShort(a + o, (short) (Math.min((short) (acc.getShort(a + o) ^ flip),
                            (short) (in.getShort(b + o) ^ flip)) ^ flip));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void accumulate32(final ReduceOp op, final boolean unsigned, final ByteBuffer acc, final int a,
                             final ByteBuffer in, final int b, final int count) {
        final int flip = unsigned ? Integer.MIN_VALUE : 0;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putInt(a + o, acc.getInt(a + o) + in.getInt(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putInt(a + o, acc.getInt(a + o) * in.getInt(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putInt(a + o, Math.max(acc.getInt(a + o) ^ flip, in.getInt(b + o) ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putInt(a + o, Math.min(acc.getInt(a + o) ^ flip, in.getInt(b + o) ^ flip) ^ flip);
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void accumulate64(final ReduceOp op, final boolean unsigned, final ByteBuffer acc, final int a,
                             final ByteBuffer in, final int b, final int count) {
        final long flip = unsigned ? Long.MIN_VALUE : 0L;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putLong(a + o, acc.getLong(a + o) + in.getLong(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putLong(a + o, acc.getLong(a + o) * in.getLong(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putLong(a + o, Math.max(acc.getLong(a + o) ^ flip, in.getLong(b + o) ^ flip) ^ flip);
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putLong(a + o, Math.min(acc.getLong(a + o) ^ flip, in.getLong(b + o) ^ flip) ^ flip);
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
