package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * Floating-point loops behind {@link ReduceKernels} on the portable path (when {@link RawMemory} is unavailable): one
 * straight loop per (type, op), {@code dst[i] = op(x[i], y[i])}, over little-endian buffers with absolute indexes; the
 * destination may be an input (then it is an accumulate). Half types go through float32 ({@link HalfFloats}). Arguments
 * are validated by the caller.
 *
 * <p>Thread-safe (stateless).
 */
final class FloatLoops {
    private FloatLoops() {
    }

    static void combineF32(final ReduceOp op,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putFloat(d + o, x.getFloat(a + o) + y.getFloat(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putFloat(d + o, x.getFloat(a + o) * y.getFloat(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putFloat(d + o, Math.max(x.getFloat(a + o), y.getFloat(b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    dst.putFloat(d + o, Math.min(x.getFloat(a + o), y.getFloat(b + o)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combineF64(final ReduceOp op,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putDouble(d + o, x.getDouble(a + o) + y.getDouble(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putDouble(d + o, x.getDouble(a + o) * y.getDouble(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putDouble(d + o, Math.max(x.getDouble(a + o), y.getDouble(b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    dst.putDouble(d + o, Math.min(x.getDouble(a + o), y.getDouble(b + o)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combineHalf(final ReduceOp op, final boolean bfloat,
            final ByteBuffer dst, final int d, final ByteBuffer x, final int a, final ByteBuffer y, final int b,
            final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, dst, d + o, load(bfloat, x, a + o) + load(bfloat, y, b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, dst, d + o, load(bfloat, x, a + o) * load(bfloat, y, b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, dst, d + o, Math.max(load(bfloat, x, a + o), load(bfloat, y, b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, dst, d + o, Math.min(load(bfloat, x, a + o), load(bfloat, y, b + o)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void divideF32(final ByteBuffer buf, final int a, final int count, final int divisor) {
        final float d = divisor;
        for (int i = 0; i < count; i++) {
            final int o = i << 2;
            buf.putFloat(a + o, buf.getFloat(a + o) / d);
        }
    }

    static void divideF64(final ByteBuffer buf, final int a, final int count, final int divisor) {
        final double d = divisor;
        for (int i = 0; i < count; i++) {
            final int o = i << 3;
            buf.putDouble(a + o, buf.getDouble(a + o) / d);
        }
    }

    static void divideHalf(final boolean bfloat, final ByteBuffer buf, final int a, final int count,
                           final int divisor) {
        final float d = divisor;
        for (int i = 0; i < count; i++) {
            final int o = i << 1;
            store(bfloat, buf, a + o, load(bfloat, buf, a + o) / d);
        }
    }

    private static float load(final boolean bfloat, final ByteBuffer buf, final int index) {
        final short h = buf.getShort(index);
        return bfloat ? HalfFloats.bfloat16ToFloat(h) : HalfFloats.float16ToFloat(h);
    }

    private static void store(final boolean bfloat, final ByteBuffer buf, final int index, final float value) {
        buf.putShort(index, bfloat ? HalfFloats.floatToBfloat16(value) : HalfFloats.floatToFloat16(value));
    }
}
