package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * MinMax quantization of a chunk of {@code FLOAT32}/{@code FLOAT64} values to {@code UINT8}/{@code UINT16}/
 * {@code UINT32}/{@code UINT64} (Tmax = the largest value of the quantized type):
 * <pre>
 *   step = (max - min) / Tmax
 *   q    = clamp(rint((x - min) / step), 0, Tmax)           rounded to nearest (ties to even)
 *   x'   = (source type) min(min + q * step, max)           computed in double
 * </pre>
 * so {@code |x - x'| <= (max - min) / (2 Tmax)} plus the final rounding to the source type. Deliberate differences
 * from the reference (behaviour inventory §5.2, §11.14, §11.24): min and max start from the first finite value (the
 * reference starts max at the smallest positive float, widening the range of all-negative data); values are
 * rounded to nearest, not truncated; the top of {@code UINT64} saturates instead of overflowing; an empty chunk has
 * the valid metadata {@code [0, 0]}; NaN and infinities do not enter min/max and quantize to 0 (NaN, -Inf) or Tmax
 * (+Inf); a range that overflows double (float64 only) is handled by halving both operands.
 *
 * <p>Bit identity: dequantization is a deterministic function of the quantized bytes and the
 * {@link MinMaxMeta} (whose bounds are exact in the source type and travel exactly), so every peer that
 * dequantizes the same bytes with the same metadata gets the same bits; the owner of a chunk overwrites its own
 * copy with {@link #dequantizeInto} to match them.
 *
 * <p>All buffers must be little-endian views (heap or direct); offsets are absolute byte indexes; positions are
 * neither used nor changed; the touched bytes must lie below each limit. Float32 calls of
 * {@value MinMaxF32Loops#MIN_STAGED} values and more run {@link MinMaxF32Loops}, which stages blocks through
 * per-thread scratch and gives the same bytes as the scalar loops here; the loops allocate nothing, except each
 * thread's scratch (about 13 KiB) on its first such call.
 *
 * <p>Thread-safe: instances are immutable shared constants obtained from {@link #of}; the staging scratch is confined
 * to its thread.
 */
public final class MinMaxQuantizer implements SliceQuantizer<MinMaxMeta> {
    private static final double TWO_63 = 0x1p63;
    private static final int OP_SUM = 0;
    private static final int OP_PROD = 1;
    private static final int OP_MAX = 2;
    private static final int OP_MIN = 3;
    private static final DataType[] QUANTIZED_TYPES = {DataType.UINT8, DataType.UINT16, DataType.UINT32,
        DataType.UINT64};
    private static final MinMaxQuantizer[] F32 = new MinMaxQuantizer[QUANTIZED_TYPES.length];
    private static final MinMaxQuantizer[] F64 = new MinMaxQuantizer[QUANTIZED_TYPES.length];

    static {
        for (int i = 0; i < QUANTIZED_TYPES.length; i++) {
            F32[i] = new MinMaxQuantizer(DataType.FLOAT32, QUANTIZED_TYPES[i]);
            F64[i] = new MinMaxQuantizer(DataType.FLOAT64, QUANTIZED_TYPES[i]);
        }
    }

    private final DataType sourceType;
    private final DataType quantizedType;
    private final boolean float32;
    private final int qBytes;
    /** Tmax as a double (2^64 for UINT64, exact otherwise). */
    private final double tmax;

    private MinMaxQuantizer(final DataType sourceType, final DataType quantizedType) {
        this.sourceType = sourceType;
        this.quantizedType = quantizedType;
        this.float32 = sourceType == DataType.FLOAT32;
        this.qBytes = quantizedType.sizeBytes();
        this.tmax = qBytes == 8 ? 0x1p64 : (double) ((1L << (8 * qBytes)) - 1);
    }

    /**
     * The quantizer for a pair of types.
     *
     * @param sourceType {@code FLOAT32} or {@code FLOAT64}
     * @param quantizedType {@code UINT8}, {@code UINT16}, {@code UINT32} or {@code UINT64}
     * @return the shared instance
     * @throws PcclException {@code INVALID_ARGUMENT} for an unsupported combination
     */
    public static MinMaxQuantizer of(final DataType sourceType, final DataType quantizedType) {
        checkSourceType(sourceType);
        for (int i = 0; i < QUANTIZED_TYPES.length; i++) {
            if (QUANTIZED_TYPES[i] == quantizedType) {
                return sourceType == DataType.FLOAT32 ? F32[i] : F64[i];
            }
        }
        throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "MinMax quantization to " + quantizedType
                + " is not supported; use UINT8, UINT16, UINT32 or UINT64");
    }

    static void checkSourceType(final DataType sourceType) {
        if (sourceType != DataType.FLOAT32 && sourceType != DataType.FLOAT64) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "MinMax quantization of " + sourceType
                    + " is not supported; the source type must be FLOAT32 or FLOAT64");
        }
    }

    /** @return the type of the values being quantized */
    @Override
    public DataType sourceType() {
        return sourceType;
    }

    /** @return the type the values travel in */
    @Override
    public DataType quantizedType() {
        return quantizedType;
    }

    /**
     * Scans a chunk for its smallest and largest finite values and stores them in {@code meta}; an empty chunk (or
     * one without finite values) gets {@code [0, 0]}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param count number of values, {@code >= 0}
     * @param meta receives the range; its source type must match
     */
    @Override
    public void computeMeta(final ByteBuffer src, final int srcOffsetBytes, final int count, final MinMaxMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        if (staged(count) && MinMaxF32Loops.range(src, srcOffsetBytes, count, meta)) {
            return;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        if (float32) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) {
                final float x = src.getFloat(srcOffsetBytes + (i << 2));
                if (Math.abs(x) <= Float.MAX_VALUE) {
                    lo = x < lo ? x : lo;
                    hi = x > hi ? x : hi;
                }
            }
            min = lo;
            max = hi;
        } else {
            for (int i = 0; i < count; i++) {
                final double x = src.getDouble(srcOffsetBytes + (i << 3));
                if (Math.abs(x) <= Double.MAX_VALUE) {
                    min = x < min ? x : min;
                    max = x > max ? x : max;
                }
            }
        }
        if (min > max) {
            meta.setExact(0, 0);
        } else {
            meta.setExact(min, max);
        }
    }

    /**
     * Quantizes {@code count} values with the range in {@code meta}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives {@code count} quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the chunk's range (from {@link #computeMeta} or {@link MinMaxMeta#set})
     */
    @Override
    public void quantize(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                         final int dstOffsetBytes, final int count, final MinMaxMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, qBytes, true);
        final double factor = scaleOf(meta);
        final double range = rangeOf(meta);
        final double minScaled = meta.min() * factor;
        final double inv = range > 0 ? tmax / range : 0.0;
        final double top = tmax;
        if (staged(count)) {
            MinMaxF32Loops.quantize(src, srcOffsetBytes, dst, dstOffsetBytes, count, qBytes, minScaled, inv, top);
            return;
        }
        for (int i = 0; i < count; i++) {
            final double x = float32 ? src.getFloat(srcOffsetBytes + (i << 2))
                    : src.getDouble(srcOffsetBytes + (i << 3));
            double v = Math.rint((x * factor - minScaled) * inv);
            v = v >= 0.0 ? v : 0.0; // also maps NaN to 0
            v = v <= top ? v : top;
            storeQ(dst, dstOffsetBytes + i * qBytes, v);
        }
    }

    /**
     * Quantizes {@code count} values and writes their dequantized values in the same pass: exactly what
     * {@link #quantize} followed by {@link #dequantizeInto} gives, one pass over the data fewer. The owner of a
     * chunk uses it to replace its own copy with what every receiver will decode. (A method of its own: as a second
     * loop of {@link #quantize} it ran about 3x slower than the two passes.)
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives {@code count} quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the chunk's range
     * @param decoded receives the dequantized values; may be {@code src} at the same offset (each value is read
     *                before it is overwritten)
     * @param decodedOffsetBytes absolute byte index of the first dequantized value
     */
    @Override
    public void quantizeAndDecode(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                                  final int dstOffsetBytes, final int count, final MinMaxMeta meta,
                                  final ByteBuffer decoded, final int decodedOffsetBytes) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, qBytes, true);
        QuantArgs.checkRange("decoded", decoded, decodedOffsetBytes, count, sourceType.sizeBytes(), true);
        final double factor = scaleOf(meta);
        final double range = rangeOf(meta);
        final double minScaled = meta.min() * factor;
        final double inv = range > 0 ? tmax / range : 0.0;
        final double top = tmax;
        if (staged(count)) {
            MinMaxF32Loops.quantizeAndDecode(src, srcOffsetBytes, dst, dstOffsetBytes, count, qBytes, minScaled,
                    meta.max(), inv, top, decoded, decodedOffsetBytes);
            return;
        }
        // dequantizeInto's terms
        final double unscale = factor == 1.0 ? 1.0 : 2.0;
        final double maxScaled = meta.max() * factor;
        final double step = range / tmax;
        for (int i = 0; i < count; i++) {
            final double x = float32 ? src.getFloat(srcOffsetBytes + (i << 2))
                    : src.getDouble(srcOffsetBytes + (i << 3));
            double v = Math.rint((x * factor - minScaled) * inv);
            v = v >= 0.0 ? v : 0.0;
            v = v <= top ? v : top;
            storeQ(dst, dstOffsetBytes + i * qBytes, v);
            // v is an integer in [0, Tmax] that storeQ keeps exactly (2^64 becomes all ones, which loadQ reads back
            // as 2^64), so this is what a receiver decodes.
            final double w = minScaled + v * step;
            final double y = (w <= maxScaled ? w : maxScaled) * unscale;
            if (float32) {
                decoded.putFloat(decodedOffsetBytes + (i << 2), (float) y);
            } else {
                decoded.putDouble(decodedOffsetBytes + (i << 3), y);
            }
        }
    }

    /**
     * Overwrites {@code count} values of {@code dst} with the dequantized values of {@code q}.
     *
     * @param q quantized values
     * @param qOffsetBytes absolute byte index of the first quantized value
     * @param dst receives values of the source type
     * @param dstOffsetBytes absolute byte index of the first value
     * @param count number of values, {@code >= 0}
     * @param meta the range {@code q} was quantized with
     */
    @Override
    public void dequantizeInto(final ByteBuffer q, final int qOffsetBytes, final ByteBuffer dst,
                               final int dstOffsetBytes, final int count, final MinMaxMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("q", q, qOffsetBytes, count, qBytes, false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, sourceType.sizeBytes(), true);
        if (staged(count)) {
            MinMaxF32Loops.dequantizeInto(q, qOffsetBytes, dst, dstOffsetBytes, count, qBytes, meta.min(), meta.max(),
                    tmax);
            return;
        }
        final double scale = scaleOf(meta);
        final double unscale = scale == 1.0 ? 1.0 : 2.0;
        final double minScaled = meta.min() * scale;
        final double maxScaled = meta.max() * scale;
        final double step = rangeOf(meta) / tmax;
        if (float32) {
            for (int i = 0; i < count; i++) {
                final double w = minScaled + loadQ(q, qOffsetBytes + i * qBytes) * step;
                dst.putFloat(dstOffsetBytes + (i << 2), (float) ((w <= maxScaled ? w : maxScaled) * unscale));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final double w = minScaled + loadQ(q, qOffsetBytes + i * qBytes) * step;
                dst.putDouble(dstOffsetBytes + (i << 3), (w <= maxScaled ? w : maxScaled) * unscale);
            }
        }
    }

    /**
     * Dequantizes {@code count} values of {@code q} and folds them into {@code acc} with {@code op}, with exactly
     * the results of {@link #dequantizeInto} followed by {@code io.pccl.reduce.ReduceKernels#accumulate}
     * ({@code AVG} accumulates a sum).
     *
     * @param op reduction
     * @param acc accumulator of the source type
     * @param accOffsetBytes absolute byte index of the first accumulator value
     * @param q quantized values
     * @param qOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the range {@code q} was quantized with
     */
    @Override
    public void dequantizeAccumulate(final ReduceOp op, final ByteBuffer acc, final int accOffsetBytes,
                                     final ByteBuffer q, final int qOffsetBytes, final int count,
                                     final MinMaxMeta meta) {
        if (op == null) {
            throw QuantArgs.invalid("op is null");
        }
        checkMeta(meta);
        QuantArgs.checkRange("q", q, qOffsetBytes, count, qBytes, false);
        QuantArgs.checkRange("acc", acc, accOffsetBytes, count, sourceType.sizeBytes(), true);
        final int opCode = opCode(op);
        if (staged(count)) {
            MinMaxF32Loops.dequantizeAccumulate(op, acc, accOffsetBytes, q, qOffsetBytes, count, qBytes, meta.min(),
                    meta.max(), tmax);
            return;
        }
        final double scale = scaleOf(meta);
        final double unscale = scale == 1.0 ? 1.0 : 2.0;
        final double minScaled = meta.min() * scale;
        final double maxScaled = meta.max() * scale;
        final double step = rangeOf(meta) / tmax;
        if (float32) {
            for (int i = 0; i < count; i++) {
                final double w = minScaled + loadQ(q, qOffsetBytes + i * qBytes) * step;
                final float d = (float) ((w <= maxScaled ? w : maxScaled) * unscale);
                final int index = accOffsetBytes + (i << 2);
                acc.putFloat(index, combine(opCode, acc.getFloat(index), d));
            }
        } else {
            for (int i = 0; i < count; i++) {
                final double w = minScaled + loadQ(q, qOffsetBytes + i * qBytes) * step;
                final double d = (w <= maxScaled ? w : maxScaled) * unscale;
                final int index = accOffsetBytes + (i << 3);
                acc.putDouble(index, combine(opCode, acc.getDouble(index), d));
            }
        }
    }

    /**
     * Whether a call runs {@link MinMaxF32Loops}: float32 sources (whose scale factor is always 1: the difference
     * of two floats never overflows double) with at least {@link MinMaxF32Loops#MIN_STAGED} values.
     */
    private boolean staged(final int count) {
        return float32 && count >= MinMaxF32Loops.MIN_STAGED;
    }

    private static int opCode(final ReduceOp op) {
        switch (op) {
            case SUM:
            case AVG:
                return OP_SUM;
            case PROD:
                return OP_PROD;
            case MAX:
                return OP_MAX;
            case MIN:
                return OP_MIN;
            default:
                throw QuantArgs.invalid("unsupported op " + op);
        }
    }

    private static float combine(final int opCode, final float a, final float b) {
        if (opCode == OP_SUM) {
            return a + b;
        } else if (opCode == OP_PROD) {
            return a * b;
        } else if (opCode == OP_MAX) {
            return Math.max(a, b);
        }
        return Math.min(a, b);
    }

    private static double combine(final int opCode, final double a, final double b) {
        if (opCode == OP_SUM) {
            return a + b;
        } else if (opCode == OP_PROD) {
            return a * b;
        } else if (opCode == OP_MAX) {
            return Math.max(a, b);
        }
        return Math.min(a, b);
    }

    /** 0.5 when {@code max - min} overflows double (float64 sources only), else 1. */
    private static double scaleOf(final MinMaxMeta meta) {
        return meta.max() - meta.min() == Double.POSITIVE_INFINITY ? 0.5 : 1.0;
    }

    /** {@code (max - min) * scaleOf(meta)}, computed without overflow. */
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
                // Unsigned to double with correct rounding (halve with a sticky bit, convert, double).
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
                // v is an integer in [0, 2^64]; 2^64 saturates to all ones.
                dst.putLong(index, v < TWO_63 ? (long) v : (long) (v - TWO_63) ^ Long.MIN_VALUE);
        }
    }

    private void checkMeta(final MinMaxMeta meta) {
        if (meta == null) {
            throw QuantArgs.invalid("meta is null");
        }
        if (meta.sourceType() != sourceType) {
            throw QuantArgs.invalid("meta holds " + meta.sourceType() + " bounds, this quantizer's source type is "
                    + sourceType);
        }
    }

    @Override
    public MinMaxMeta newMeta() {
        return new MinMaxMeta(sourceType);
    }

    @Override
    public int metaBytes() {
        return 2 * sourceType.sizeBytes();
    }

    @Override
    public void writeMeta(final MinMaxMeta meta, final ByteBuffer dst, final int offsetBytes) {
        meta.writeTo(dst, offsetBytes);
    }

    @Override
    public void readMeta(final MinMaxMeta meta, final ByteBuffer src, final int offsetBytes) {
        meta.readFrom(src, offsetBytes);
    }

    @Override
    public String toString() {
        return "MinMaxQuantizer[" + sourceType + " -> " + quantizedType + "]";
    }
}
