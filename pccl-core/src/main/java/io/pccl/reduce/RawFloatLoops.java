package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

/**
 * Floating-point loops behind {@link ReduceKernels} on the raw path ({@link RawMemory}): one straight loop per
 * (type, op) over {@code (base, address)} pairs, {@code dst[i] = op(a[i], b[i])} where the destination may be the
 * first or second input (then it is an accumulate); half types go through float32 ({@link HalfFloats}). Same semantics
 * as {@link FloatLoops}. Bounds are validated by the caller, which also keeps the buffers reachable.
 *
 * <p>Thread-safe (stateless).
 */
final class RawFloatLoops {
    private RawFloatLoops() {
    }

    static void combineF32(final ReduceOp op, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final float x = unsafe.getFloat(ab, a + o);
                    final float y = unsafe.getFloat(bb, b + o);
                    unsafe.putFloat(db, d + o, x + y);
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final float x = unsafe.getFloat(ab, a + o);
                    final float y = unsafe.getFloat(bb, b + o);
                    unsafe.putFloat(db, d + o, x * y);
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final float x = unsafe.getFloat(ab, a + o);
                    final float y = unsafe.getFloat(bb, b + o);
                    unsafe.putFloat(db, d + o, Math.max(x, y));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 2;
                    final float x = unsafe.getFloat(ab, a + o);
                    final float y = unsafe.getFloat(bb, b + o);
                    unsafe.putFloat(db, d + o, Math.min(x, y));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combineF64(final ReduceOp op, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final double x = unsafe.getDouble(ab, a + o);
                    final double y = unsafe.getDouble(bb, b + o);
                    unsafe.putDouble(db, d + o, x + y);
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final double x = unsafe.getDouble(ab, a + o);
                    final double y = unsafe.getDouble(bb, b + o);
                    unsafe.putDouble(db, d + o, x * y);
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final double x = unsafe.getDouble(ab, a + o);
                    final double y = unsafe.getDouble(bb, b + o);
                    unsafe.putDouble(db, d + o, Math.max(x, y));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 3;
                    final double x = unsafe.getDouble(ab, a + o);
                    final double y = unsafe.getDouble(bb, b + o);
                    unsafe.putDouble(db, d + o, Math.min(x, y));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combineF16(final ReduceOp op, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.float16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.float16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToFloat16(x + y));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.float16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.float16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToFloat16(x * y));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.float16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.float16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToFloat16(Math.max(x, y)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.float16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.float16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToFloat16(Math.min(x, y)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void combineBf16(final ReduceOp op, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.bfloat16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.bfloat16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToBfloat16(x + y));
                }
                break;
            case PROD:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.bfloat16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.bfloat16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToBfloat16(x * y));
                }
                break;
            case MAX:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.bfloat16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.bfloat16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToBfloat16(Math.max(x, y)));
                }
                break;
            case MIN:
                for (int i = 0; i < count; i++) {
                    final long o = (long) i << 1;
                    final float x = HalfFloats.bfloat16ToFloat(unsafe.getShort(ab, a + o));
                    final float y = HalfFloats.bfloat16ToFloat(unsafe.getShort(bb, b + o));
                    unsafe.putShort(db, d + o, HalfFloats.floatToBfloat16(Math.min(x, y)));
                }
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
        }
    }

    static void divideF32(final Object ab, final long a, final int count, final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final float d = divisor;
        for (int i = 0; i < count; i++) {
            final long o = (long) i << 2;
            unsafe.putFloat(ab, a + o, unsafe.getFloat(ab, a + o) / d);
        }
    }

    static void divideF64(final Object ab, final long a, final int count, final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final double d = divisor;
        for (int i = 0; i < count; i++) {
            final long o = (long) i << 3;
            unsafe.putDouble(ab, a + o, unsafe.getDouble(ab, a + o) / d);
        }
    }

    static void divideHalf(final boolean bfloat, final Object ab, final long a, final int count, final int divisor) {
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final float d = divisor;
        if (bfloat) {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 1;
                final float x = HalfFloats.bfloat16ToFloat(unsafe.getShort(ab, a + o));
                unsafe.putShort(ab, a + o, HalfFloats.floatToBfloat16(x / d));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final long o = (long) i << 1;
                final float x = HalfFloats.float16ToFloat(unsafe.getShort(ab, a + o));
                unsafe.putShort(ab, a + o, HalfFloats.floatToFloat16(x / d));
            }
        }
    }
}
