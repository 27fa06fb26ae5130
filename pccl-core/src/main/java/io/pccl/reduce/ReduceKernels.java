package io.pccl.reduce;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Element-wise reduction kernels: {@link #accumulate} folds one slice into an accumulator
 * ({@code acc[i] = op(acc[i], in[i])}), {@link #combine} writes the combination of two inputs to a third buffer
 * ({@code dst[i] = op(a[i], b[i])}, bit-identical to a copy followed by an accumulate), and {@link #finishAverage}
 * divides the result of an {@link ReduceOp#AVG} sum by the world size.
 *
 * <p>Semantics, identical on every peer so that ring results are bit-identical:
 * <ul>
 *   <li>Integers wrap on overflow ({@code SUM}, {@code AVG}, {@code PROD}); {@code MIN}/{@code MAX} compare signed
 *       for signed types and unsigned for unsigned types.</li>
 *   <li>{@code FLOAT32}/{@code FLOAT64} use Java arithmetic; {@code MIN}/{@code MAX} follow {@link Math#min}/
 *       {@link Math#max}: a NaN operand gives NaN and {@code -0.0 < +0.0}.</li>
 *   <li>{@code FLOAT16}/{@code BFLOAT16} are widened to float32 (exact), combined in float32 and rounded back to
 *       nearest, ties to even ({@link HalfFloats}).</li>
 *   <li>{@code AVG} accumulates like {@code SUM}; the division happens once, in {@link #finishAverage}.</li>
 * </ul>
 *
 * <p>Buffers may be heap or direct but must be {@link ByteOrder#LITTLE_ENDIAN}-ordered views. Offsets are absolute
 * byte indexes; positions and limits are neither used nor modified: the touched bytes must lie within each
 * buffer's {@code capacity()}. A written range and a read range may be the same memory only if the two ranges are
 * identical or disjoint (checked). Arguments are validated up front and reported as
 * {@link PcclException.Code#INVALID_ARGUMENT}; the loops themselves allocate nothing.
 *
 * <p>Implementation: one straight loop per (type, op) over a destination and two inputs; {@link #accumulate} passes
 * the accumulator as destination and first input. Where {@link RawMemory} is available (HotSpot on x86-64 or
 * aarch64) the loops use raw loads and stores after the up-front bounds check; JMH
 * ({@code io.pccl.bench.kernels.KernelVariantsBenchmark}) measured them 2-4x faster than {@code ByteBuffer.getFloat}
 * loops on JDK 17. Float32 calls of 1 KiB and more stage 2 KiB blocks through per-thread {@code float[]} scratch so
 * that C2 vectorizes them ({@link StagedFloatLoops}; the scratch is allocated once per thread). Elsewhere the same
 * loops run over the {@code ByteBuffer} API.
 *
 * <p>Thread-safe; concurrent calls on overlapping buffer ranges are the caller's race.
 */
public final class ReduceKernels {
    private ReduceKernels() {
    }

    /**
     * Folds {@code count} elements of {@code in} into {@code acc}: {@code acc[i] = op(acc[i], in[i])}.
     *
     * @param type element type of both buffers
     * @param op reduction; {@link ReduceOp#AVG} accumulates a sum
     * @param acc accumulator, little-endian, writable
     * @param accOffsetBytes absolute byte index of {@code acc[0]}
     * @param in input, little-endian
     * @param inOffsetBytes absolute byte index of {@code in[0]}
     * @param count number of elements, {@code >= 0}
     * @throws PcclException {@code INVALID_ARGUMENT} on a null argument, wrong byte order, read-only accumulator,
     *                       negative value or a range beyond a buffer's capacity
     */
    public static void accumulate(final DataType type, final ReduceOp op, final ByteBuffer acc,
                                  final int accOffsetBytes, final ByteBuffer in, final int inOffsetBytes,
                                  final int count) {
        if (op == null) {
            throw invalid("op is null");
        }
        checkRange("acc", type, acc, accOffsetBytes, count, true);
        checkRange("in", type, in, inOffsetBytes, count, false);
        if (count == 0) {
            return;
        }
        checkNoPartialOverlap("acc", acc, accOffsetBytes, "in", in, inOffsetBytes, (long) count * type.sizeBytes());
        if (RawMemory.AVAILABLE) {
            combineRaw(type, op, acc, accOffsetBytes, acc, accOffsetBytes, in, inOffsetBytes, count);
        } else {
            combinePortable(type, op, acc, accOffsetBytes, acc, accOffsetBytes, in, inOffsetBytes, count);
        }
    }

    /**
     * Combines two inputs into a third buffer: {@code dst[i] = op(a[i], b[i])}. The result is bit-identical to
     * copying {@code a}'s range into {@code dst} and then calling {@link #accumulate} with {@code b}, in one pass
     * instead of two (for the ring engine's out-of-place reduce-scatter). Allocates nothing after the calling
     * thread's first float32 call (see {@link StagedFloatLoops}).
     *
     * <p>{@code dst} may be exactly the same memory range as {@code a} (then this is {@link #accumulate}) or as
     * {@code b}; otherwise it must not overlap either of them. {@code a} and {@code b} are only read and may overlap
     * each other in any way. Overlap is detected on the raw path, and on the portable path where the buffers expose
     * their memory (the same buffer object or the same backing array).
     *
     * @param type element type of all three buffers
     * @param op reduction; {@link ReduceOp#AVG} combines like {@link ReduceOp#SUM}
     * @param dst destination, little-endian, writable
     * @param dstOffsetBytes absolute byte index of {@code dst[0]}
     * @param a first input, little-endian
     * @param aOffsetBytes absolute byte index of {@code a[0]}
     * @param b second input, little-endian
     * @param bOffsetBytes absolute byte index of {@code b[0]}
     * @param count number of elements, {@code >= 0}
     * @throws PcclException {@code INVALID_ARGUMENT} on a null argument, wrong byte order, read-only destination,
     *                       negative value, a range beyond a buffer's capacity, or a destination range that partially
     *                       overlaps an input range
     */
    public static void combine(final DataType type, final ReduceOp op, final ByteBuffer dst, final int dstOffsetBytes,
                               final ByteBuffer a, final int aOffsetBytes, final ByteBuffer b, final int bOffsetBytes,
                               final int count) {
        if (op == null) {
            throw invalid("op is null");
        }
        checkRange("dst", type, dst, dstOffsetBytes, count, true);
        checkRange("a", type, a, aOffsetBytes, count, false);
        checkRange("b", type, b, bOffsetBytes, count, false);
        if (count == 0) {
            return;
        }
        final long lengthBytes = (long) count * type.sizeBytes();
        checkNoPartialOverlap("dst", dst, dstOffsetBytes, "a", a, aOffsetBytes, lengthBytes);
        checkNoPartialOverlap("dst", dst, dstOffsetBytes, "b", b, bOffsetBytes, lengthBytes);
        if (RawMemory.AVAILABLE) {
            combineRaw(type, op, dst, dstOffsetBytes, a, aOffsetBytes, b, bOffsetBytes, count);
        } else {
            combinePortable(type, op, dst, dstOffsetBytes, a, aOffsetBytes, b, bOffsetBytes, count);
        }
    }

    /**
     * Divides {@code count} elements in place by {@code divisor}, in the element type: integers truncate toward
     * zero (unsigned division for unsigned types), floats divide in their own precision, half types divide in
     * float32 and round back to nearest-even. Used after an {@link ReduceOp#AVG} sum.
     *
     * @param type element type
     * @param buf the buffer, little-endian, writable
     * @param offsetBytes absolute byte index of {@code buf[0]}
     * @param count number of elements, {@code >= 0}
     * @param divisor the world size, {@code >= 1}
     * @throws PcclException {@code INVALID_ARGUMENT} on a null argument, wrong byte order, read-only buffer, negative
     *                       value, divisor below 1 or a range beyond the buffer's capacity
     */
    public static void finishAverage(final DataType type, final ByteBuffer buf, final int offsetBytes,
                                     final int count, final int divisor) {
        checkRange("buf", type, buf, offsetBytes, count, true);
        if (divisor < 1) {
            throw invalid("divisor " + divisor + " must be >= 1");
        }
        if (count == 0 || divisor == 1) {
            return;
        }
        if (RawMemory.AVAILABLE) {
            divideRaw(type, buf, offsetBytes, count, divisor);
        } else {
            dividePortable(type, buf, offsetBytes, count, divisor);
        }
    }

    private static void combineRaw(final DataType type, final ReduceOp op, final ByteBuffer dstBuffer,
                                   final int dstOffset, final ByteBuffer aBuffer, final int aOffset,
                                   final ByteBuffer bBuffer, final int bOffset, final int count) {
        final Object db = RawMemory.base(dstBuffer);
        final long d = RawMemory.address(dstBuffer) + dstOffset;
        final Object ab = RawMemory.base(aBuffer);
        final long a = RawMemory.address(aBuffer) + aOffset;
        final Object bb = RawMemory.base(bBuffer);
        final long b = RawMemory.address(bBuffer) + bOffset;
        try {
            switch (type) {
                case INT8:
                case UINT8:
                    RawIntegerLoops.combine8(op, type == DataType.UINT8, db, d, ab, a, bb, b, count);
                    break;
                case INT16:
                case UINT16:
                    RawIntegerLoops.combine16(op, type == DataType.UINT16, db, d, ab, a, bb, b, count);
                    break;
                case INT32:
                case UINT32:
                    RawIntegerLoops.combine32(op, type == DataType.UINT32, db, d, ab, a, bb, b, count);
                    break;
                case INT64:
                case UINT64:
                    RawIntegerLoops.combine64(op, type == DataType.UINT64, db, d, ab, a, bb, b, count);
                    break;
                case FLOAT32:
                    StagedFloatLoops.combineF32(op, db, d, ab, a, bb, b, count);
                    break;
                case FLOAT64:
                    RawFloatLoops.combineF64(op, db, d, ab, a, bb, b, count);
                    break;
                case FLOAT16:
                    RawFloatLoops.combineF16(op, db, d, ab, a, bb, b, count);
                    break;
                case BFLOAT16:
                    RawFloatLoops.combineBf16(op, db, d, ab, a, bb, b, count);
                    break;
                default:
                    throw new PcclException(PcclException.Code.INTERNAL, "no reduce kernel for data type " + type);
            }
        } finally {
            // Direct memory must not be freed while raw accesses run.
            Reference.reachabilityFence(dstBuffer);
            Reference.reachabilityFence(aBuffer);
            Reference.reachabilityFence(bBuffer);
        }
    }

    /**
     * The {@code ByteBuffer} path, used when {@link RawMemory} is unavailable; arguments already validated.
     * {@code dst} may be the same buffer as {@code a} or {@code b} (an accumulate passes the accumulator twice).
     */
    static void combinePortable(final DataType type, final ReduceOp op, final ByteBuffer dstBuffer,
                                final int dstOffset, final ByteBuffer aBuffer, final int aOffset,
                                final ByteBuffer bBuffer, final int bOffset, final int count) {
        final ByteBuffer dst = wholeView(dstBuffer);
        final ByteBuffer a = aBuffer == dstBuffer ? dst : wholeView(aBuffer);
        final ByteBuffer b = bBuffer == dstBuffer ? dst : wholeView(bBuffer);
        final int d = dstOffset;
        switch (type) {
            case INT8:
            case UINT8:
                IntegerLoops.combine8(op, type == DataType.UINT8, dst, d, a, aOffset, b, bOffset, count);
                break;
            case INT16:
            case UINT16:
                IntegerLoops.combine16(op, type == DataType.UINT16, dst, d, a, aOffset, b, bOffset, count);
                break;
            case INT32:
            case UINT32:
                IntegerLoops.combine32(op, type == DataType.UINT32, dst, d, a, aOffset, b, bOffset, count);
                break;
            case INT64:
            case UINT64:
                IntegerLoops.combine64(op, type == DataType.UINT64, dst, d, a, aOffset, b, bOffset, count);
                break;
            case FLOAT32:
                FloatLoops.combineF32(op, dst, d, a, aOffset, b, bOffset, count);
                break;
            case FLOAT64:
                FloatLoops.combineF64(op, dst, d, a, aOffset, b, bOffset, count);
                break;
            case FLOAT16:
                FloatLoops.combineHalf(op, false, dst, d, a, aOffset, b, bOffset, count);
                break;
            case BFLOAT16:
                FloatLoops.combineHalf(op, true, dst, d, a, aOffset, b, bOffset, count);
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no reduce kernel for data type " + type);
        }
    }

    private static void divideRaw(final DataType type, final ByteBuffer buf, final int offset, final int count,
                                  final int divisor) {
        final Object ab = RawMemory.base(buf);
        final long a = RawMemory.address(buf) + offset;
        try {
            switch (type) {
                case INT8:
                case UINT8:
                    RawIntegerLoops.divide8(type == DataType.UINT8, ab, a, count, divisor);
                    break;
                case INT16:
                case UINT16:
                    RawIntegerLoops.divide16(type == DataType.UINT16, ab, a, count, divisor);
                    break;
                case INT32:
                case UINT32:
                    RawIntegerLoops.divide32(type == DataType.UINT32, ab, a, count, divisor);
                    break;
                case INT64:
                case UINT64:
                    RawIntegerLoops.divide64(type == DataType.UINT64, ab, a, count, divisor);
                    break;
                case FLOAT32:
                    RawFloatLoops.divideF32(ab, a, count, divisor);
                    break;
                case FLOAT64:
                    RawFloatLoops.divideF64(ab, a, count, divisor);
                    break;
                case FLOAT16:
                case BFLOAT16:
                    RawFloatLoops.divideHalf(type == DataType.BFLOAT16, ab, a, count, divisor);
                    break;
                default:
                    throw new PcclException(PcclException.Code.INTERNAL, "no average kernel for data type " + type);
            }
        } finally {
            Reference.reachabilityFence(buf);
        }
    }

    /** The {@code ByteBuffer} path of {@link #finishAverage}; arguments already validated. */
    static void dividePortable(final DataType type, final ByteBuffer buffer, final int offset, final int count,
                               final int divisor) {
        final ByteBuffer buf = wholeView(buffer);
        switch (type) {
            case INT8:
            case UINT8:
                IntegerLoops.divide8(type == DataType.UINT8, buf, offset, count, divisor);
                break;
            case INT16:
            case UINT16:
                IntegerLoops.divide16(type == DataType.UINT16, buf, offset, count, divisor);
                break;
            case INT32:
            case UINT32:
                IntegerLoops.divide32(type == DataType.UINT32, buf, offset, count, divisor);
                break;
            case INT64:
            case UINT64:
                IntegerLoops.divide64(type == DataType.UINT64, buf, offset, count, divisor);
                break;
            case FLOAT32:
                FloatLoops.divideF32(buf, offset, count, divisor);
                break;
            case FLOAT64:
                FloatLoops.divideF64(buf, offset, count, divisor);
                break;
            case FLOAT16:
            case BFLOAT16:
                FloatLoops.divideHalf(type == DataType.BFLOAT16, buf, offset, count, divisor);
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no average kernel for data type " + type);
        }
    }

    private static void checkRange(final String name, final DataType type, final ByteBuffer buf,
                                   final int offsetBytes, final int count, final boolean writable) {
        if (type == null) {
            throw invalid("type is null");
        }
        if (buf == null) {
            throw invalid(name + " buffer is null");
        }
        if (buf.order() != ByteOrder.LITTLE_ENDIAN) {
            throw invalid(name + " buffer order is " + buf.order() + ", must be LITTLE_ENDIAN");
        }
        if (writable && buf.isReadOnly()) {
            throw invalid(name + " buffer is read-only");
        }
        if (offsetBytes < 0 || count < 0) {
            throw invalid(name + " offset " + offsetBytes + " and count " + count + " must be >= 0");
        }
        final long endBytes = offsetBytes + (long) count * type.sizeBytes();
        if (endBytes > buf.capacity()) {
            throw invalid(name + " range [" + offsetBytes + ", " + endBytes + ") of " + count + " " + type
                    + " elements exceeds the buffer capacity " + buf.capacity());
        }
    }

    /**
     * Rejects a writable range that partially overlaps a read range of the same length: identical ranges (in place)
     * and disjoint ranges are fine. Memory is identified by raw address where {@link RawMemory} is available, else
     * by buffer object or backing array; ranges whose memory cannot be identified are assumed disjoint.
     */
    private static void checkNoPartialOverlap(final String dstName, final ByteBuffer dst, final int dstOffset,
                                              final String srcName, final ByteBuffer src, final int srcOffset,
                                              final long lengthBytes) {
        final long dstStart;
        final long srcStart;
        if (RawMemory.AVAILABLE) {
            if (RawMemory.base(dst) != RawMemory.base(src)) {
                return;
            }
            dstStart = RawMemory.address(dst) + dstOffset;
            srcStart = RawMemory.address(src) + srcOffset;
        } else if (dst == src) {
            dstStart = dstOffset;
            srcStart = srcOffset;
        } else if (dst.hasArray() && src.hasArray() && dst.array() == src.array()) {
            dstStart = dst.arrayOffset() + (long) dstOffset;
            srcStart = src.arrayOffset() + (long) srcOffset;
        } else {
            return;
        }
        if (dstStart != srcStart && dstStart < srcStart + lengthBytes && srcStart < dstStart + lengthBytes) {
            final long shift = srcStart - dstStart;
            throw invalid(dstName + " range [" + dstOffset + ", " + (dstOffset + lengthBytes) + ") partially overlaps "
                    + srcName + " range [" + srcOffset + ", " + (srcOffset + lengthBytes) + ") (the " + srcName
                    + " range starts " + shift + " bytes from the " + dstName
                    + " range in the same memory); they must be identical or disjoint");
        }
    }

    /**
     * The buffer itself when its limit is its capacity, else a duplicate whose limit is the capacity, so that the
     * {@code ByteBuffer} loops can reach every byte. Allocates only on the portable path, and only for buffers
     * whose limit is below their capacity.
     */
    private static ByteBuffer wholeView(final ByteBuffer buf) {
        if (buf.limit() == buf.capacity()) {
            return buf;
        }
        return buf.duplicate().limit(buf.capacity()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static PcclException invalid(final String message) {
        return new PcclException(PcclException.Code.INVALID_ARGUMENT, message);
    }
}
