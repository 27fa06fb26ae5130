package io.pccl.quant;

import io.pccl.ReduceOp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The float32 loops behind {@link MinMaxQuantizer} for calls of {@link #MIN_STAGED} values and more: each block of
 * {@link #BLOCK} values is staged through per-thread heap scratch with bulk copies (one {@code ByteBuffer} call per
 * block instead of one accessor call per value), computed there, and copied back in bulk. The arithmetic gives the
 * same bits as the scalar loops in {@link MinMaxQuantizer} (float32 sources always have scale factor 1):
 * <ul>
 *   <li>range: element-wise {@link Math#min}/{@link Math#max} per block position (a loop C2 vectorizes), reduced
 *       at the end; exact for finite values except for the sign of a zero bound, so a chunk whose bounds come out
 *       non-finite (it holds NaN or an infinity) or zero is left to the scalar scan ({@link #range} returns
 *       false);</li>
 *   <li>quantize: the same clamp, then rounding by adding 2^52 and taking the low bits (for {@code 0 <= v < 2^52}
 *       the double sum {@code v + 2^52} is {@code 2^52 + rint(v)}, ties to even; clamping to integer bounds before
 *       or after rounding gives the same code); {@code UINT64} keeps {@code Math.rint} and its saturation, with a
 *       conversion that never takes C2's slow path for values of 2^63 and more;</li>
 *   <li>decode: {@code UINT8} looks the value up in a table of the 256 decoded values built per call with the
 *       scalar formula; wider codes are converted exactly to double ({@code UINT32} as a signed int plus 2^31,
 *       {@code UINT64} with the scalar loop's rounding, without a branch) and run through the same formula.</li>
 * </ul>
 * Source and destination bytes of one block are all read before any are written, so a destination may be exactly
 * the memory of the source (same offset), as the quantizer allows.
 *
 * <p>Allocation: each thread allocates its scratch (about 13 KiB) on its first staged call and keeps it for the
 * thread's lifetime; later calls allocate nothing.
 *
 * <p>Thread-safe: stateless apart from the scratch, which is confined to its thread; arguments are validated by the
 * caller.
 */
final class MinMaxF32Loops {
    /** Values per staged block (2 KiB of float32, as in {@code io.pccl.reduce.StagedFloatLoops}). */
    static final int BLOCK = 512;
    /** Calls with fewer values run the scalar loops (the table and per-thread lookup do not pay below this). */
    static final int MIN_STAGED = 256;

    private static final double MAGIC = 0x1p52;
    private static final double TWO_31 = 0x1p31;
    private static final long ONE_BITS = Double.doubleToRawLongBits(1.0);
    private static final long TWO_63_BITS = Double.doubleToRawLongBits(0x1p63);
    private static final int UINT8_CODES = 256;
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MinMaxF32Loops() {
    }

    /**
     * The smallest and largest value of a chunk when both are finite and nonzero.
     *
     * @param src source values
     * @param offsetBytes absolute byte index of the first value
     * @param count values, at least {@link #MIN_STAGED}
     * @param meta receives the range when this returns true
     * @return false (meta untouched) when the chunk needs the scalar scan: a bound is NaN, infinite or zero
     */
    static boolean range(final ByteBuffer src, final int offsetBytes, final int count, final MinMaxMeta meta) {
        final Scratch s = SCRATCH.get();
        final float[] f = s.values;
        final float[] lanesLo = s.lanesLo;
        final float[] lanesHi = s.lanesHi;
        Arrays.fill(lanesLo, Float.POSITIVE_INFINITY);
        Arrays.fill(lanesHi, Float.NEGATIVE_INFINITY);
        for (int start = 0; start < count; start += BLOCK) {
            final int n = Math.min(BLOCK, count - start);
            s.stageFloats(src, offsetBytes + (start << 2), n);
            lanes(f, n, lanesLo, lanesHi);
        }
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < BLOCK; i++) {
            lo = Math.min(lo, lanesLo[i]);
            hi = Math.max(hi, lanesHi[i]);
        }
        // NaN propagates through min and max, an infinity ends up as a bound: both are caught here.
        if (!(Math.abs(lo) <= Float.MAX_VALUE && Math.abs(hi) <= Float.MAX_VALUE) || lo == 0.0f || hi == 0.0f) {
            return false;
        }
        meta.setExact(lo, hi);
        return true;
    }

    /**
     * Element-wise running minimum and maximum per position of the block: an element-wise loop that C2 vectorizes,
     * where a reduction into one variable runs one dependent min per value. Positions past {@code n} keep their
     * values.
     */
    private static void lanes(final float[] f, final int n, final float[] lo, final float[] hi) {
        for (int i = 0; i < n; i++) {
            lo[i] = Math.min(lo[i], f[i]);
            hi[i] = Math.max(hi[i], f[i]);
        }
    }

    /**
     * Quantizes {@code count} values: {@code clamp(rint((x - min) * inv), 0, top)}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives the codes
     * @param dstOffsetBytes absolute byte index of the first code
     * @param count values, at least {@link #MIN_STAGED}
     * @param qBytes bytes per code
     * @param min the range's minimum
     * @param inv {@code Tmax / (max - min)}, 0 for an empty range
     * @param top Tmax as a double
     */
    static void quantize(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                         final int dstOffsetBytes, final int count, final int qBytes, final double min,
                         final double inv, final double top) {
        final Scratch s = SCRATCH.get();
        for (int start = 0; start < count; start += BLOCK) {
            final int n = Math.min(BLOCK, count - start);
            s.stageFloats(src, srcOffsetBytes + (start << 2), n);
            codes(s.values, n, qBytes, s.out, min, inv, top);
            dst.put(dstOffsetBytes + start * qBytes, s.out, 0, n * qBytes);
        }
    }

    /** Quantizes {@code n} values of {@code f} into codes of {@code qBytes} in {@code out}. */
    private static void codes(final float[] f, final int n, final int qBytes, final byte[] out, final double min,
                              final double inv, final double top) {
        switch (qBytes) {
            case 1:
                codes8(f, n, out, min, inv, top);
                break;
            case 2:
                codes16(f, n, out, min, inv, top);
                break;
            case 4:
                codes32(f, n, out, min, inv, top);
                break;
            default:
                codes64(f, n, out, min, inv, top);
        }
    }

    /** {@code clamp(v, 0, top)} with NaN to 0: the quantizer's clamp. */
    private static double clamp(final double v, final double top) {
        final double low = v >= 0.0 ? v : 0.0;
        return low <= top ? low : top;
    }

    /** {@code rint(v)} as a long, for {@code 0 <= v < 2^52} (the low 52 bits of {@code v + 2^52}). */
    private static long round(final double v) {
        return Double.doubleToRawLongBits(v + MAGIC);
    }

    private static void codes8(final float[] f, final int n, final byte[] out, final double min, final double inv,
                               final double top) {
        for (int i = 0; i < n; i++) {
            out[i] = (byte) round(clamp((f[i] - min) * inv, top));
        }
    }

    private static void codes16(final float[] f, final int n, final byte[] out, final double min, final double inv,
                                final double top) {
        for (int i = 0; i < n; i++) {
            SHORT.set(out, i << 1, (short) round(clamp((f[i] - min) * inv, top)));
        }
    }

    private static void codes32(final float[] f, final int n, final byte[] out, final double min, final double inv,
                                final double top) {
        for (int i = 0; i < n; i++) {
            INT.set(out, i << 2, (int) round(clamp((f[i] - min) * inv, top)));
        }
    }

    private static void codes64(final float[] f, final int n, final byte[] out, final double min, final double inv,
                                final double top) {
        for (int i = 0; i < n; i++) {
            LONG.set(out, i << 3, code64(Math.rint(clamp((f[i] - min) * inv, top))));
        }
    }

    /** The bits of an integer {@code v} in [0, 2^64], 2^64 saturating to all ones (as the scalar store). */
    private static long code64(final double v) {
        // Without a branch on the data (and without C2's slow path for conversions of 2^63 and more): big = -1 when
        // v >= 2^63 (positive doubles order as their bits); the conversion then sees v - 2^63 < 2^63, except for the
        // top, 2^64, which saturates to all ones as in the scalar loop. (-0.0 has the sign bit set, so it takes the
        // big branch: -2^63 converts to Long.MIN_VALUE, and the flip gives code 0 as (long) -0.0 does.)
        final long big = (TWO_63_BITS - 1 - Double.doubleToRawLongBits(v)) >> 63;
        final double low = v - Double.longBitsToDouble(TWO_63_BITS & big);
        return (long) low ^ (Long.MIN_VALUE & big);
    }

    /**
     * Quantizes {@code count} values and writes what a receiver decodes from them, as
     * {@link MinMaxQuantizer#quantizeAndDecode}.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives the codes
     * @param dstOffsetBytes absolute byte index of the first code
     * @param count values, at least {@link #MIN_STAGED}
     * @param qBytes bytes per code
     * @param min the range's minimum
     * @param max the range's maximum
     * @param inv {@code Tmax / (max - min)}, 0 for an empty range
     * @param top Tmax as a double
     * @param decoded receives the decoded values; may be {@code src} at the same offset
     * @param decodedOffsetBytes absolute byte index of the first decoded value
     */
    static void quantizeAndDecode(final ByteBuffer src, final int srcOffsetBytes, final ByteBuffer dst,
                                  final int dstOffsetBytes, final int count, final int qBytes, final double min,
                                  final double max, final double inv, final double top, final ByteBuffer decoded,
                                  final int decodedOffsetBytes) {
        final double step = (max - min) / top;
        final Scratch s = decodeScratch(qBytes, min, max, step);
        for (int start = 0; start < count; start += BLOCK) {
            final int n = Math.min(BLOCK, count - start);
            s.stageFloats(src, srcOffsetBytes + (start << 2), n);
            if (qBytes == 1) {
                codes8(s.values, n, s.out, min, inv, top);
                // The codes just stored are what a receiver loads back, so their decode is the receiver's.
                decode(s, s.out, s.in, n, qBytes, min, max, step);
            } else {
                fusedWide(s.values, n, qBytes, s.out, s.in, min, max, inv, top, step);
            }
            dst.put(dstOffsetBytes + start * qBytes, s.out, 0, n * qBytes);
            decoded.put(decodedOffsetBytes + (start << 2), s.in, 0, n << 2);
        }
    }

    /**
     * Codes of 2, 4 or 8 bytes into {@code codes} and their decoded float32 values into {@code out}, decoding the
     * rounded value itself (for {@code UINT64} 2^64 where the stored code is all ones, which a receiver reads back
     * as 2^64).
     */
    private static void fusedWide(final float[] f, final int n, final int qBytes, final byte[] codes,
                                  final byte[] out, final double min, final double max, final double inv,
                                  final double top, final double step) {
        for (int i = 0; i < n; i++) {
            final double v = clamp((f[i] - min) * inv, top);
            final double r;
            if (qBytes == 8) {
                r = Math.rint(v);
                LONG.set(codes, i << 3, code64(r));
            } else {
                final double biased = v + MAGIC;
                final long bits = Double.doubleToRawLongBits(biased);
                if (qBytes == 2) {
                    SHORT.set(codes, i << 1, (short) bits);
                } else {
                    INT.set(codes, i << 2, (int) bits);
                }
                r = biased - MAGIC; // rint(v), exactly
            }
            FLOAT.set(out, i << 2, decodeOne(r, min, max, step));
        }
    }

    /**
     * Overwrites {@code count} values with the decoded codes, as {@link MinMaxQuantizer#dequantizeInto}.
     *
     * @param q codes
     * @param qOffsetBytes absolute byte index of the first code
     * @param dst receives float32 values
     * @param dstOffsetBytes absolute byte index of the first value
     * @param count values, at least {@link #MIN_STAGED}
     * @param qBytes bytes per code
     * @param min the range's minimum
     * @param max the range's maximum
     * @param top Tmax as a double
     */
    static void dequantizeInto(final ByteBuffer q, final int qOffsetBytes, final ByteBuffer dst,
                               final int dstOffsetBytes, final int count, final int qBytes, final double min,
                               final double max, final double top) {
        final double step = (max - min) / top;
        final Scratch s = decodeScratch(qBytes, min, max, step);
        for (int start = 0; start < count; start += BLOCK) {
            final int n = Math.min(BLOCK, count - start);
            q.get(qOffsetBytes + start * qBytes, s.in, 0, n * qBytes);
            decode(s, s.in, s.out, n, qBytes, min, max, step);
            dst.put(dstOffsetBytes + (start << 2), s.out, 0, n << 2);
        }
    }

    /**
     * Decodes {@code count} codes and folds them into float32 accumulators with {@code op} ({@code AVG} adds), as
     * {@link MinMaxQuantizer#dequantizeAccumulate}.
     *
     * @param op reduction
     * @param acc accumulator
     * @param accOffsetBytes absolute byte index of the first accumulator value
     * @param q codes
     * @param qOffsetBytes absolute byte index of the first code
     * @param count values, at least {@link #MIN_STAGED}
     * @param qBytes bytes per code
     * @param min the range's minimum
     * @param max the range's maximum
     * @param top Tmax as a double
     */
    static void dequantizeAccumulate(final ReduceOp op, final ByteBuffer acc, final int accOffsetBytes,
                                     final ByteBuffer q, final int qOffsetBytes, final int count, final int qBytes,
                                     final double min, final double max, final double top) {
        final double step = (max - min) / top;
        final Scratch s = decodeScratch(qBytes, min, max, step);
        for (int start = 0; start < count; start += BLOCK) {
            final int n = Math.min(BLOCK, count - start);
            q.get(qOffsetBytes + start * qBytes, s.in, 0, n * qBytes);
            decode(s, s.in, s.out, n, qBytes, min, max, step);
            final int accIndex = accOffsetBytes + (start << 2);
            s.stageFloats(acc, accIndex, n);
            fold(op, s.values, s.out, n);
            acc.put(accIndex, s.out, 0, n << 2);
        }
    }

    /** {@code out[i] = op(acc[i], out[i])} over float32 values: the decoded block becomes the folded block. */
    private static void fold(final ReduceOp op, final float[] acc, final byte[] out, final int n) {
        switch (op) {
            case SUM:
            case AVG:
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, acc[i] + (float) FLOAT.get(out, i << 2));
                }
                break;
            case PROD:
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, acc[i] * (float) FLOAT.get(out, i << 2));
                }
                break;
            case MAX:
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, Math.max(acc[i], (float) FLOAT.get(out, i << 2)));
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, Math.min(acc[i], (float) FLOAT.get(out, i << 2)));
                }
        }
    }

    /** The thread's scratch, with the {@code UINT8} decode table filled for this range when codes are bytes. */
    private static Scratch decodeScratch(final int qBytes, final double min, final double max, final double step) {
        final Scratch s = SCRATCH.get();
        if (qBytes == 1) {
            fillTable(s.table, min, max, step);
        }
        return s;
    }

    /** The decoded value of every UINT8 code, by the scalar formula. */
    private static void fillTable(final float[] table, final double min, final double max, final double step) {
        for (int c = 0; c < UINT8_CODES; c++) {
            table[c] = decodeOne(c, min, max, step);
        }
    }

    /** {@code (float) min(min + q * step, max)}: the scalar decode of one code (scale factor 1). */
    private static float decodeOne(final double code, final double min, final double max, final double step) {
        final double w = min + code * step;
        return (float) (w <= max ? w : max);
    }

    /** Decodes {@code n} codes of {@code in} into float32 bytes in {@code out} (another array). */
    private static void decode(final Scratch s, final byte[] in, final byte[] out, final int n, final int qBytes,
                               final double min, final double max, final double step) {
        switch (qBytes) {
            case 1:
                final float[] table = s.table;
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, table[in[i] & 0xFF]);
                }
                break;
            case 2:
                for (int i = 0; i < n; i++) {
                    final int code = (short) SHORT.get(in, i << 1) & 0xFFFF;
                    FLOAT.set(out, i << 2, decodeOne(code, min, max, step));
                }
                break;
            case 4:
                for (int i = 0; i < n; i++) {
                    // The unsigned code, exactly: as a signed int shifted down by 2^31, then 2^31 added back.
                    final double code = (double) ((int) INT.get(in, i << 2) ^ Integer.MIN_VALUE) + TWO_31;
                    FLOAT.set(out, i << 2, decodeOne(code, min, max, step));
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    FLOAT.set(out, i << 2, decodeOne(unsignedToDouble((long) LONG.get(in, i << 3)), min, max, step));
                }
        }
    }

    /**
     * An unsigned 64-bit code to double with correct rounding, without a branch on the data: codes of 2^63 and more
     * are halved with a sticky bit, converted and doubled (the scalar loop's formula); smaller ones are converted
     * as they are ({@code s = 0}: shift by 0, no sticky bit, times 1).
     */
    private static double unsignedToDouble(final long v) {
        final long s = v >>> 63;
        return (double) ((v >>> s) | (v & s)) * Double.longBitsToDouble(ONE_BITS + (s << 52));
    }

    /** One thread's staging buffers. Confined to its thread. */
    private static final class Scratch {
        /** Staged input bytes (source values or codes); the decoded block in quantizeAndDecode. */
        final byte[] in = new byte[BLOCK * Long.BYTES];
        /** Output bytes: codes or float32 values. */
        final byte[] out = new byte[BLOCK * Long.BYTES];
        /** Staged float32 values (source values or accumulators). */
        final float[] values = new float[BLOCK];
        final FloatBuffer inFloats = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        /** Running minimum and maximum per block position, for {@link #range}. */
        final float[] lanesLo = new float[BLOCK];
        final float[] lanesHi = new float[BLOCK];
        /** Decoded value of each UINT8 code for the current call. */
        final float[] table = new float[UINT8_CODES];

        /** Copies {@code n} float32 values at {@code offsetBytes} of {@code buf} into {@link #values}. */
        void stageFloats(final ByteBuffer buf, final int offsetBytes, final int n) {
            buf.get(offsetBytes, in, 0, n << 2);
            inFloats.get(0, values, 0, n);
        }
    }
}
