package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * The MinMax quantizer's loops as they were before staging ({@link MinMaxF32Loops}): one scalar pass per call
 * through the {@code ByteBuffer} accessors, same expressions, for every source and wire type. The equivalence test
 * compares the quantizer against it byte for byte. No argument checks: callers pass valid ranges.
 *
 * <p>Thread-safe (immutable).
 */
final class MinMaxScalarModel {
    private static final double TWO_63 = 0x1p63;

    private final boolean float32;
    private final int qBytes;
    private final double tmax;

    MinMaxScalarModel(final DataType source, final DataType wire) {
        this.float32 = source == DataType.FLOAT32;
        this.qBytes = wire.sizeBytes();
        this.tmax = qBytes == 8 ? 0x1p64 : (double) ((1L << (8 * qBytes)) - 1);
    }

    /** @return {min, max} as the quantizer's computeMeta stores them */
    double[] range(final ByteBuffer src, final int off, final int count) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        if (float32) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) {
                final float x = src.getFloat(off + (i << 2));
                if (Math.abs(x) <= Float.MAX_VALUE) {
                    lo = x < lo ? x : lo;
                    hi = x > hi ? x : hi;
                }
            }
            min = lo;
            max = hi;
        } else {
            for (int i = 0; i < count; i++) {
                final double x = src.getDouble(off + (i << 3));
                if (Math.abs(x) <= Double.MAX_VALUE) {
                    min = x < min ? x : min;
                    max = x > max ? x : max;
                }
            }
        }
        return min > max ? new double[] {0, 0} : new double[] {min, max};
    }

    void quantize(final ByteBuffer src, final int srcOff, final ByteBuffer dst, final int dstOff, final int count,
                  final MinMaxMeta meta) {
        final double factor = scaleOf(meta);
        final double range = rangeOf(meta);
        final double minScaled = meta.min() * factor;
        final double inv = range > 0 ? tmax / range : 0.0;
        for (int i = 0; i < count; i++) {
            final double x = float32 ? src.getFloat(srcOff + (i << 2)) : src.getDouble(srcOff + (i << 3));
            double v = Math.rint((x * factor - minScaled) * inv);
            v = v >= 0.0 ? v : 0.0;
            v = v <= tmax ? v : tmax;
            storeQ(dst, dstOff + i * qBytes, v);
        }
    }

    void dequantizeInto(final ByteBuffer q, final int qOff, final ByteBuffer dst, final int dstOff, final int count,
                        final MinMaxMeta meta) {
        for (int i = 0; i < count; i++) {
            final double y = decode(q, qOff + i * qBytes, meta);
            if (float32) {
                dst.putFloat(dstOff + (i << 2), (float) y);
            } else {
                dst.putDouble(dstOff + (i << 3), y);
            }
        }
    }

    void dequantizeAccumulate(final ReduceOp op, final ByteBuffer acc, final int accOff, final ByteBuffer q,
                              final int qOff, final int count, final MinMaxMeta meta) {
        for (int i = 0; i < count; i++) {
            final double y = decode(q, qOff + i * qBytes, meta);
            if (float32) {
                final int index = accOff + (i << 2);
                acc.putFloat(index, combine(op, acc.getFloat(index), (float) y));
            } else {
                final int index = accOff + (i << 3);
                acc.putDouble(index, combine(op, acc.getDouble(index), y));
            }
        }
    }

    /** The decoded value in double (before the final rounding to the source type). */
    private double decode(final ByteBuffer q, final int index, final MinMaxMeta meta) {
        final double scale = scaleOf(meta);
        final double unscale = scale == 1.0 ? 1.0 : 2.0;
        final double minScaled = meta.min() * scale;
        final double maxScaled = meta.max() * scale;
        final double step = rangeOf(meta) / tmax;
        final double w = minScaled + loadQ(q, index) * step;
        return (w <= maxScaled ? w : maxScaled) * unscale;
    }

    private static float combine(final ReduceOp op, final float a, final float b) {
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

    private static double combine(final ReduceOp op, final double a, final double b) {
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

    private static double scaleOf(final MinMaxMeta meta) {
        return meta.max() - meta.min() == Double.POSITIVE_INFINITY ? 0.5 : 1.0;
    }

    private static double rangeOf(final MinMaxMeta meta) {
        final double range = meta.max() - meta.min();
        return range == Double.POSITIVE_INFINITY ? meta.max() * 0.5 - meta.min() * 0.5 : range;
    }

    private double loadQ(final ByteBuffer q, final int index) {
        switch (qBytes) {
            case 1:
                return q.get(index) & 0xFF;
            case 2:
                return q.getShort(index) & 0xFFFF;
            case 4:
                return q.getInt(index) & 0xFFFF_FFFFL;
            default:
                final long v = q.getLong(index);
                return v >= 0 ? (double) v : (double) ((v >>> 1) | (v & 1)) * 2.0;
        }
    }

    private void storeQ(final ByteBuffer dst, final int index, final double v) {
        switch (qBytes) {
            case 1:
                dst.put(index, (byte) (int) v);
                break;
            case 2:
                dst.putShort(index, (short) (int) v);
                break;
            case 4:
                dst.putInt(index, (int) (long) v);
                break;
            default:
                dst.putLong(index, v < TWO_63 ? (long) v : (long) (v - TWO_63) ^ Long.MIN_VALUE);
        }
    }
}
