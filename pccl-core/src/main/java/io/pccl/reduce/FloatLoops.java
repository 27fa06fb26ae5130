package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * Floating-point loops behind {@link ReduceKernels} on the portable path (when {@link RawMemory} is
 * unavailable): one straight loop per (type, op) over little-endian buffers with
 * absolute indexes. Half types go through float32 ({@link HalfFloats}). Arguments are validated by the caller.
 *
 * <p>Thread-safe (stateless).
 */
final class FloatLoops {
    private FloatLoops() {
    }

    static void accumulateF32(final ReduceOp op, final ByteBuffer acc, final int a, final ByteBuffer in, final int b,
                              final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putFloat(a + o, acc.getFloat(a + o) + in.getFloat(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putFloat(a + o, acc.getFloat(a + o) * in.getFloat(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putFloat(a + o, Math.max(acc.getFloat(a + o), in.getFloat(b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 2;
                    acc.putFloat(a + o, Math.min(acc.getFloat(a + o), in.getFloat(b + o)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void accumulateF64(final ReduceOp op, final ByteBuffer acc, final int a, final ByteBuffer in, final int b,
                              final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putDouble(a + o, acc.getDouble(a + o) + in.getDouble(b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putDouble(a + o, acc.getDouble(a + o) * in.getDouble(b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putDouble(a + o, Math.max(acc.getDouble(a + o), in.getDouble(b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 3;
                    acc.putDouble(a + o, Math.min(acc.getDouble(a + o), in.getDouble(b + o)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void accumulateHalf(final ReduceOp op, final boolean bfloat, final ByteBuffer acc, final int a,
                               final ByteBuffer in, final int b, final int count) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, acc, a + o, load(bfloat, acc, a + o) + load(bfloat, in, b + o));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, acc, a + o, load(bfloat, acc, a + o) * load(bfloat, in, b + o));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, acc, a + o, Math.max(load(bfloat, acc, a + o), load(bfloat, in, b + o)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final int o = i << 1;
                    store(bfloat, acc, a + o, Math.min(load(bfloat, acc, a + o), load(bfloat, in, b + o)));
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
