package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * ZeroPointScale ("ZPS") quantization of a chunk of {@code FLOAT32}/{@code FLOAT64} values to any integer type
 * ({@code UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64}), after the reference's algorithm 2 (behaviour
 * inventory §5.3). With [Tmin, Tmax] the quantized type's range, {@code middle} = 2^(bits-1) for unsigned types and 0
 * for signed ones, and mu, sigma the mean and sample standard deviation (divided by n - 1) of the chunk's finite
 * values:
 * <pre>
 *   scale      = (float) max(12 sigma / Tmax, |mu| 2^-50)    1 if both terms are 0
 *   zeroPoint  = middle - rint(mu / scale)                     the integer that stands for 0
 *   q          = clamp(rint(x * (1 / scale)) + zeroPoint, Tmin, Tmax)   in double, ties to even
 *   x'         = (source type) ((q - zeroPoint) * scale)        in double
 * </pre>
 * so values in [mu - 6 sigma, mu + 6 sigma] (the reference's window) come back within {@code scale / 2} plus rounding,
 * and values beyond the representable range {@code [(Tmin - zeroPoint) scale, (Tmax - zeroPoint) scale]} clamp to its
 * ends. Tmax enters the scale as the nearest double (2^63 for {@code INT64}, 2^64 for {@code UINT64}).
 *
 * <p>Deliberate differences from the reference:
 * <ul>
 *   <li>The zero point is a free int64, not clamped into [Tmin, Tmax]: a chunk whose mean lies more than about six
 *       standard deviations from 0 keeps its window centred on the mean (clamping it would decode such a chunk to
 *       the wrong end of the type's range). With {@code UINT64} its bits are read as unsigned, so the middle 2^63
 *       fits.</li>
 *   <li>The scale never drops below {@code |mu| 2^-50}. This keeps {@code |mu / scale| <= 2^50}, so the zero point
 *       stays within 2^52 of the middle (exact in double, no int64 overflow), and makes a constant chunk (sigma = 0)
 *       decode to its value (exactly for float32 sources, within 2^-50 relative for float64) where the reference
 *       falls back to scale 1 and zero point (Tmax + 1) / 2, which rounds it to an integer and clamps it beyond
 *       +-middle. For types up to 32 bits the floor only takes over for constant or nearly constant chunks (sigma
 *       below 2^-21 |mu| for 32 bits, far less for 8 and 16); for 64-bit types it does whenever sigma is below
 *       about 1400 |mu|, where a step of |mu| 2^-50 is still finer than float32 and within about two ulps of
 *       float64 (what the double arithmetic of the 64-bit codes can resolve anyway).</li>
 *   <li>A chunk without nonzero finite values (empty, all zero, all NaN or infinite) gets scale 1 and the middle as
 *       zero point; a scale that overflows float becomes {@code Float.MAX_VALUE}, one that underflows to 0 becomes
 *       {@code Float.MIN_VALUE}.</li>
 *   <li>The middle of a signed type is 0 (the reference uses (Tmax + 1) / 2 for signed types too, leaving half of
 *       the negative codes unused around a mean of 0).</li>
 *   <li>mu and sigma come from the sums of {@code x - x0} and {@code (x - x0)^2} in double, {@code x0} the chunk's
 *       first finite value: the reference's sum and sum of squares, shifted, because unshifted they cancel for
 *       values with a spread small against their magnitude (5e6 + [0, 1] in float32 gave a variance of 0).</li>
 *   <li>NaN and infinities do not enter mu and sigma. NaN quantizes to the zero point clamped into [Tmin, Tmax]
 *       (which decodes to exactly 0 whenever 0 is representable), +Inf to Tmax, -Inf to Tmin.</li>
 *   <li>Rounding is {@link Math#rint} (ties to even) both for q and for {@code mu / scale}; q uses the double product
 *       {@code x * (1 / scale)}, which differs from {@code x / scale} by at most one double rounding. For 64-bit
 *       types the sum {@code rint(...) + zeroPoint} is a double too (53 bits; for {@code UINT64} taken relative to
 *       2^63): exact within 2^53 steps of the middle, beyond that off by at most 2^10 of the 2^64 steps, far below
 *       the source type's precision.</li>
 *   <li>Only {@code SUM} and {@code AVG} are accepted ({@link #checkOp}), as in the reference; an unsupported
 *       combination is an {@code INVALID_ARGUMENT}, not a process exit.</li>
 * </ul>
 *
 * <p>Bit identity: dequantization is a deterministic function of the quantized bytes and the
 * {@link ZeroPointScaleMeta}, which travels exactly. {@code q - zeroPoint} is exact in double for every zero point
 * {@link #computeMeta} produces with types up to 32 bits (a zero point beyond 2^53 from a peer is first rounded to
 * double); for 64-bit types it is computed exactly in 65 bits and rounded to double once. The product with the scale
 * is rounded to double, then (float32 sources) to float. So every peer that decodes the same bytes with the same
 * metadata gets the same bits, and the owner of a chunk overwrites its own copy with {@link #quantizeAndDecode} (or
 * {@link #dequantizeInto}) to match them.
 *
 * <p>All buffers must be little-endian views (heap or direct); offsets are absolute byte indexes; positions are
 * neither used nor changed; the touched bytes must lie below each limit. The loops allocate nothing.
 *
 * <p>Thread-safe (immutable); instances are shared constants obtained from {@link #of}.
 */
public final class ZeroPointScaleQuantizer implements SliceQuantizer<ZeroPointScaleMeta> {
    /** The scale is at least |mean| times this, so that |mean / scale| <= 2^50. */
    private static final double SCALE_FLOOR_OF_MEAN = 0x1p-50;
    /** Bound on rint(mean / scale), reached only by a mean that overflowed double. */
    private static final double MAX_OFFSET = 0x1p52;
    private static final DataType[] QUANTIZED_TYPES = {DataType.UINT8, DataType.INT8, DataType.UINT16,
        DataType.INT16, DataType.UINT32, DataType.INT32, DataType.UINT64, DataType.INT64};
    private static final ZeroPointScaleQuantizer[] F32 = new ZeroPointScaleQuantizer[QUANTIZED_TYPES.length];
    private static final ZeroPointScaleQuantizer[] F64 = new ZeroPointScaleQuantizer[QUANTIZED_TYPES.length];

    static {
        for (int i = 0; i < QUANTIZED_TYPES.length; i++) {
            F32[i] = new ZeroPointScaleQuantizer(DataType.FLOAT32, QUANTIZED_TYPES[i]);
            F64[i] = new ZeroPointScaleQuantizer(DataType.FLOAT64, QUANTIZED_TYPES[i]);
        }
    }

    private final DataType sourceType;
    private final DataType quantizedType;
    private final boolean float32;
    private final int qBytes;
    /** 64-bit quantized type: q - zeroPoint needs 65 bits. */
    private final boolean wide;
    /**
     * The middle of the type's range: 2^(bits-1) for unsigned types (Long.MIN_VALUE, 2^63 unsigned, for UINT64), 0
     * for signed ones. It is also the sign bit that moves unsigned codes and zero points into the signed domain of
     * the same width (code XOR middle = code - middle, modulo 2^bits), where all the arithmetic runs: near 0 rather
     * than near 2^63 for UINT64, and with int loads for the narrow types.
     */
    private final long middle;
    /** Tmax as the nearest double (2^63 for INT64, 2^64 for UINT64): the denominator of the scale. */
    private final double typeMax;
    /** The signed domain's range, as longs and as the doubles a code is clamped to (hi = 2^63 for 64 bits). */
    private final long loS;
    private final long hiS;
    private final double lo;
    private final double hi;

    private ZeroPointScaleQuantizer(final DataType sourceType, final DataType quantizedType) {
        this.sourceType = sourceType;
        this.quantizedType = quantizedType;
        this.float32 = sourceType == DataType.FLOAT32;
        this.qBytes = quantizedType.sizeBytes();
        this.wide = qBytes == 8;
        final int bits = 8 * qBytes;
        final boolean signed = quantizedType.isSigned();
        this.middle = signed ? 0L : 1L << (bits - 1);
        this.loS = -1L << (bits - 1);
        this.hiS = ~loS;
        this.lo = loS;
        this.hi = hiS; // rounds up to 2^63 for 64 bits, which the conversion back saturates to Long.MAX_VALUE
        this.typeMax = signed ? hi : (wide ? 0x1p64 : (double) ((1L << bits) - 1));
    }

    /**
     * The quantizer for a pair of types.
     *
     * @param sourceType {@code FLOAT32} or {@code FLOAT64}
     * @param quantizedType an integer type: {@code UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64} or
     *                      {@code INT64}
     * @return the shared instance
     * @throws PcclException {@code INVALID_ARGUMENT} for an unsupported combination
     */
    public static ZeroPointScaleQuantizer of(final DataType sourceType, final DataType quantizedType) {
        if (sourceType == DataType.FLOAT32 || sourceType == DataType.FLOAT64) {
            for (int i = 0; i < QUANTIZED_TYPES.length; i++) {
                if (QUANTIZED_TYPES[i] == quantizedType) {
                    return sourceType == DataType.FLOAT32 ? F32[i] : F64[i];
                }
            }
        }
        throw QuantArgs.invalid("ZeroPointScale quantization of " + sourceType + " to " + quantizedType
                + " is not supported; the source type must be FLOAT32 or FLOAT64 and the quantized type one of "
                + "UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64");
    }

    static void checkSourceType(final DataType sourceType) {
        if (sourceType != DataType.FLOAT32 && sourceType != DataType.FLOAT64) {
            throw QuantArgs.invalid("ZeroPointScale quantization of " + sourceType
                    + " is not supported; the source type must be FLOAT32 or FLOAT64");
        }
    }

    /**
     * Checks that a reduction can run over ZeroPointScale-quantized data.
     *
     * @param op the reduction
     * @throws PcclException {@code INVALID_ARGUMENT} unless {@code op} is {@code SUM} or {@code AVG}
     */
    public static void checkOp(final ReduceOp op) {
        if (op != ReduceOp.SUM && op != ReduceOp.AVG) {
            throw QuantArgs.invalid("reduce op " + op + " cannot run over ZeroPointScale (ZPS) quantization; "
                    + "ZPS supports SUM and AVG");
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
     * Computes a chunk's scale and zero point from the mean and sample standard deviation of its finite values (see
     * the class comment) and stores them in {@code meta}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param count number of values, {@code >= 0}
     * @param meta receives the scale and zero point; its source type must match
     * @throws PcclException {@code INVALID_ARGUMENT} for a mismatched meta or a bad buffer or range
     */
    @Override
    public void computeMeta(final ByteBuffer src, final int srcOffsetBytes, final int count,
                            final ZeroPointScaleMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        // Sums of e = x - shift and e^2, with shift = the first finite value: the reference's sum and sum of squares,
        // shifted so that a chunk whose spread is small against its magnitude does not cancel to a variance of 0.
        int n = 0;
        double shift = 0.0;
        double sum = 0.0;
        double sumSq = 0.0;
        if (float32) {
            int i = 0;
            while (i < count && !(Math.abs(src.getFloat(srcOffsetBytes + (i << 2))) <= Float.MAX_VALUE)) {
                i++;
            }
            if (i < count) {
                shift = src.getFloat(srcOffsetBytes + (i << 2));
            }
            for (; i < count; i++) {
                final float x = src.getFloat(srcOffsetBytes + (i << 2));
                if (Math.abs(x) <= Float.MAX_VALUE) {
                    final double e = x - shift;
                    n++;
                    sum += e;
                    sumSq += e * e;
                }
            }
        } else {
            int i = 0;
            while (i < count && !(Math.abs(src.getDouble(srcOffsetBytes + (i << 3))) <= Double.MAX_VALUE)) {
                i++;
            }
            if (i < count) {
                shift = src.getDouble(srcOffsetBytes + (i << 3));
            }
            for (; i < count; i++) {
                final double x = src.getDouble(srcOffsetBytes + (i << 3));
                if (Math.abs(x) <= Double.MAX_VALUE) {
                    final double e = x - shift;
                    n++;
                    sum += e;
                    sumSq += e * e;
                }
            }
        }
        configure(n, shift, sum, sumSq, meta);
    }

    /** Sets the scale and zero point from the count, shift and shifted sums of the finite values. */
    private void configure(final int n, final double shift, final double sum, final double sumSq,
                           final ZeroPointScaleMeta meta) {
        if (n == 0) {
            meta.setExact(1.0f, middle);
            return;
        }
        final double shiftedMean = sum / n;
        final double mean = shift + shiftedMean;
        double variance = n > 1 ? (sumSq - sum * shiftedMean) / (n - 1) : 0.0;
        if (!(variance >= 0.0)) {
            // Negative: cancellation in the sum of squares of a (nearly) constant chunk. NaN: sums overflowed.
            variance = variance < 0.0 ? 0.0 : Double.POSITIVE_INFINITY;
        }
        final double s = Math.max(12.0 * Math.sqrt(variance) / typeMax, Math.abs(mean) * SCALE_FLOOR_OF_MEAN);
        if (s == 0.0) {
            meta.setExact(1.0f, middle); // every finite value is 0
            return;
        }
        float scale = s <= Float.MAX_VALUE ? (float) s : Float.MAX_VALUE;
        if (scale == 0.0f) {
            scale = Float.MIN_VALUE;
        }
        double offset = Math.rint(mean / scale);
        offset = offset < -MAX_OFFSET ? -MAX_OFFSET : (offset > MAX_OFFSET ? MAX_OFFSET : offset);
        // For UINT64 the middle is 2^63 as unsigned bits; the subtraction wraps to the right unsigned value.
        meta.setExact(scale, middle - (long) offset);
    }

    /**
     * Quantizes {@code count} values with the scale and zero point in {@code meta}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives {@code count} quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the chunk's scale and zero point (from {@link #computeMeta} or {@link ZeroPointScaleMeta#set})
     * @throws PcclException {@code INVALID_ARGUMENT} for a mismatched meta or a bad buffer or range
     */
    @Override
    public void quantize(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                         final int dstOffsetBytes, final int count, final ZeroPointScaleMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, qBytes, true);
        final double inv = 1.0 / meta.scale();
        final long zs = meta.zeroPoint() - middle; // the zero point in the signed domain
        final double zpd = zs;
        final long nanCode = nanCode(zs);
        final long flip = middle;
        final double lower = lo;
        final double upper = hi;
        for (int i = 0; i < count; i++) {
            final double x = float32 ? src.getFloat(srcOffsetBytes + (i << 2))
                    : src.getDouble(srcOffsetBytes + (i << 3));
            double v = Math.rint(x * inv) + zpd; // NaN only for a NaN x: inv and zpd are finite
            v = v >= lower ? v : lower;
            v = v <= upper ? v : upper;
            // Testing x rather than v for NaN measured about 2x faster than branching on v (JDK 17, C2).
            final long code = x == x ? (long) v : nanCode;
            storeQ(dst, dstOffsetBytes + i * qBytes, code ^ flip);
        }
    }

    /**
     * Quantizes {@code count} values and writes their dequantized values in the same pass: exactly what
     * {@link #quantize} followed by {@link #dequantizeInto} gives, one pass over the data fewer. The owner of a
     * chunk uses it to replace its own copy with what every receiver will decode. (A method of its own, not a branch
     * in {@link #quantize}'s loop, which made the sibling {@link MinMaxQuantizer} about 3x slower.)
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives {@code count} quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the chunk's scale and zero point
     * @param decoded receives the dequantized values; may be {@code src} at the same offset (each value is read
     *                before it is overwritten)
     * @param decodedOffsetBytes absolute byte index of the first dequantized value
     * @throws PcclException {@code INVALID_ARGUMENT} for a mismatched meta or a bad buffer or range
     */
    @Override
    public void quantizeAndDecode(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                                  final int dstOffsetBytes, final int count, final ZeroPointScaleMeta meta,
                                  final ByteBuffer decoded, final int decodedOffsetBytes) {
        checkMeta(meta);
        QuantArgs.checkRange("src", src, srcOffsetBytes, count, sourceType.sizeBytes(), false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, qBytes, true);
        QuantArgs.checkRange("decoded", decoded, decodedOffsetBytes, count, sourceType.sizeBytes(), true);
        final double scale = meta.scale();
        final double inv = 1.0 / scale;
        final long zs = meta.zeroPoint() - middle;
        final double zpd = zs;
        final long nanCode = nanCode(zs);
        final long flip = middle;
        final double lower = lo;
        final double upper = hi;
        for (int i = 0; i < count; i++) {
            final double x = float32 ? src.getFloat(srcOffsetBytes + (i << 2))
                    : src.getDouble(srcOffsetBytes + (i << 3));
            double v = Math.rint(x * inv) + zpd;
            v = v >= lower ? v : lower;
            v = v <= upper ? v : upper;
            final long code = x == x ? (long) v : nanCode;
            storeQ(dst, dstOffsetBytes + i * qBytes, code ^ flip);
            // code is exactly what a receiver loads back, so this is its decode.
            final double y = (wide ? wideDiff(code, zs) : code - zpd) * scale;
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
     * @param meta the scale and zero point {@code q} was quantized with
     * @throws PcclException {@code INVALID_ARGUMENT} for a mismatched meta or a bad buffer or range
     */
    @Override
    public void dequantizeInto(final ByteBuffer q, final int qOffsetBytes, final ByteBuffer dst,
                               final int dstOffsetBytes, final int count, final ZeroPointScaleMeta meta) {
        checkMeta(meta);
        QuantArgs.checkRange("q", q, qOffsetBytes, count, qBytes, false);
        QuantArgs.checkRange("dst", dst, dstOffsetBytes, count, sourceType.sizeBytes(), true);
        final double scale = meta.scale();
        final long zs = meta.zeroPoint() - middle;
        final long flip = middle;
        if (wide) {
            for (int i = 0; i < count; i++) {
                final double y = wideDiff(q.getLong(qOffsetBytes + (i << 3)) ^ flip, zs) * scale;
                if (float32) {
                    dst.putFloat(dstOffsetBytes + (i << 2), (float) y);
                } else {
                    dst.putDouble(dstOffsetBytes + (i << 3), y);
                }
            }
            return;
        }
        final double zpd = zs;
        final int flipNarrow = (int) flip;
        if (float32) {
            for (int i = 0; i < count; i++) {
                final double y = (loadNarrow(q, qOffsetBytes + i * qBytes, flipNarrow) - zpd) * scale;
                dst.putFloat(dstOffsetBytes + (i << 2), (float) y);
            }
        } else {
            for (int i = 0; i < count; i++) {
                final double y = (loadNarrow(q, qOffsetBytes + i * qBytes, flipNarrow) - zpd) * scale;
                dst.putDouble(dstOffsetBytes + (i << 3), y);
            }
        }
    }

    /**
     * Dequantizes {@code count} values of {@code q} and adds them to {@code acc}: exactly {@link #dequantizeInto}
     * followed by an element-wise add in the source type ({@code AVG} accumulates a sum; the division comes later).
     *
     * @param op {@code SUM} or {@code AVG}
     * @param acc accumulator of the source type
     * @param accOffsetBytes absolute byte index of the first accumulator value
     * @param q quantized values
     * @param qOffsetBytes absolute byte index of the first quantized value
     * @param count number of values, {@code >= 0}
     * @param meta the scale and zero point {@code q} was quantized with
     * @throws PcclException {@code INVALID_ARGUMENT} for another op, a mismatched meta or a bad buffer or range
     */
    @Override
    public void dequantizeAccumulate(final ReduceOp op, final ByteBuffer acc, final int accOffsetBytes,
                                     final ByteBuffer q, final int qOffsetBytes, final int count,
                                     final ZeroPointScaleMeta meta) {
        checkOp(op);
        checkMeta(meta);
        QuantArgs.checkRange("q", q, qOffsetBytes, count, qBytes, false);
        QuantArgs.checkRange("acc", acc, accOffsetBytes, count, sourceType.sizeBytes(), true);
        final double scale = meta.scale();
        final long zs = meta.zeroPoint() - middle;
        final long flip = middle;
        if (wide) {
            for (int i = 0; i < count; i++) {
                final double y = wideDiff(q.getLong(qOffsetBytes + (i << 3)) ^ flip, zs) * scale;
                if (float32) {
                    final int index = accOffsetBytes + (i << 2);
                    acc.putFloat(index, acc.getFloat(index) + (float) y);
                } else {
                    final int index = accOffsetBytes + (i << 3);
                    acc.putDouble(index, acc.getDouble(index) + y);
                }
            }
            return;
        }
        final double zpd = zs;
        final int flipNarrow = (int) flip;
        if (float32) {
            for (int i = 0; i < count; i++) {
                final double y = (loadNarrow(q, qOffsetBytes + i * qBytes, flipNarrow) - zpd) * scale;
                final int index = accOffsetBytes + (i << 2);
                acc.putFloat(index, acc.getFloat(index) + (float) y);
            }
        } else {
            for (int i = 0; i < count; i++) {
                final double y = (loadNarrow(q, qOffsetBytes + i * qBytes, flipNarrow) - zpd) * scale;
                final int index = accOffsetBytes + (i << 3);
                acc.putDouble(index, acc.getDouble(index) + y);
            }
        }
    }

    /** The signed-domain code NaN quantizes to: the zero point clamped into the type's range. */
    private long nanCode(final long zs) {
        if (wide) {
            return zs; // every 64-bit value is a code of the type
        }
        return zs < loS ? loS : (zs > hiS ? hiS : zs);
    }

    /**
     * {@code q - zeroPoint} for 64-bit types, both in the signed domain: the exact 65-bit difference rounded to
     * double once.
     */
    private static double wideDiff(final long code, final long zs) {
        final long d = code - zs; // exact modulo 2^64, and exact outright unless it overflows
        if (((code ^ zs) & (code ^ d)) >= 0) {
            return d;
        }
        return code > zs ? unsignedToDouble(d) : -unsignedToDouble(zs - code); // |q - zeroPoint| >= 2^63
    }

    /** Unsigned 64-bit integer to double with correct rounding (halve with a sticky bit, convert, double). */
    private static double unsignedToDouble(final long v) {
        return v >= 0 ? (double) v : (double) ((v >>> 1) | (v & 1)) * 2.0;
    }

    /**
     * A narrow code in the signed domain, as an int: int loads and int-to-double conversions measured about 3x
     * faster than long ones (JDK 17, C2).
     */
    private int loadNarrow(final ByteBuffer q, final int index, final int flip) {
        switch (qBytes) {
            case 1:
                return (byte) (q.get(index) ^ flip);
            case 2:
                return (short) (q.getShort(index) ^ flip);
            default:
                return q.getInt(index) ^ flip;
        }
    }

    /** Stores the low {@code qBytes} bytes of a code's bit pattern. */
    private void storeQ(final ByteBuffer dst, final int index, final long bits) {
        switch (qBytes) {
            case 1:
                dst.put(index, (byte) bits);
                break;
            case 2:
                dst.putShort(index, (short) bits);
                break;
            case 4:
                dst.putInt(index, (int) bits);
                break;
            default:
                dst.putLong(index, bits);
        }
    }

    private void checkMeta(final ZeroPointScaleMeta meta) {
        if (meta == null) {
            throw QuantArgs.invalid("meta is null");
        }
        if (meta.sourceType() != sourceType) {
            throw QuantArgs.invalid("meta belongs to " + meta.sourceType() + " values, this quantizer's source type is "
                    + sourceType);
        }
    }

    @Override
    public ZeroPointScaleMeta newMeta() {
        return new ZeroPointScaleMeta(sourceType);
    }

    @Override
    public int metaBytes() {
        return ZeroPointScaleMeta.SIZE_BYTES;
    }

    @Override
    public void writeMeta(final ZeroPointScaleMeta meta, final ByteBuffer dst, final int offsetBytes) {
        meta.writeTo(dst, offsetBytes);
    }

    @Override
    public void readMeta(final ZeroPointScaleMeta meta, final ByteBuffer src, final int offsetBytes) {
        meta.readFrom(src, offsetBytes);
    }

    @Override
    public String toString() {
        return "ZeroPointScaleQuantizer[" + sourceType + " -> " + quantizedType + "]";
    }
}
