package io.pccl.reduce;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Element-wise reduction kernels: {@link #accumulate} folds one slice into an accumulator
 * ({@code acc[i] = op(acc[i], in[i])}) and {@link #finishAverage} divides the result of an {@link ReduceOp#AVG}
 * sum by the world size.
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
 * byte indexes; positions are neither used nor modified, and the touched bytes must lie below each buffer's
 * {@code limit()}. {@code acc} and {@code in} may be the same buffer only if the two ranges are identical or
 * disjoint. Arguments are validated up front and reported as {@link PcclException.Code#INVALID_ARGUMENT}; the loops
 * themselves allocate nothing.
 *
 * <p>Thread-safe (stateless); concurrent calls on overlapping buffer ranges are the caller's race.
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
     *                       negative value or a range beyond a buffer's limit
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
        switch (type) {
            case INT8:
            case UINT8:
                IntegerLoops.accumulate8(op, type == DataType.UINT8, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case INT16:
            case UINT16:
                IntegerLoops.accumulate16(op, type == DataType.UINT16, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case INT32:
            case UINT32:
                IntegerLoops.accumulate32(op, type == DataType.UINT32, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case INT64:
            case UINT64:
                IntegerLoops.accumulate64(op, type == DataType.UINT64, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case FLOAT32:
                FloatLoops.accumulateF32(op, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case FLOAT64:
                FloatLoops.accumulateF64(op, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case FLOAT16:
                FloatLoops.accumulateHalf(op, false, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            case BFLOAT16:
                FloatLoops.accumulateHalf(op, true, acc, accOffsetBytes, in, inOffsetBytes, count);
                break;
            default:
                throw new PcclException(PcclException.Code.INTERNAL, "no reduce kernel for data type " + type);
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
     *                       value, divisor below 1 or a range beyond the buffer's limit
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
        switch (type) {
            case INT8:
            case UINT8:
                IntegerLoops.divide8(type == DataType.UINT8, buf, offsetBytes, count, divisor);
                break;
            case INT16:
            case UINT16:
                IntegerLoops.divide16(type == DataType.UINT16, buf, offsetBytes, count, divisor);
                break;
            case INT32:
            case UINT32:
                IntegerLoops.divide32(type == DataType.UINT32, buf, offsetBytes, count, divisor);
                break;
            case INT64:
            case UINT64:
                IntegerLoops.divide64(type == DataType.UINT64, buf, offsetBytes, count, divisor);
                break;
            case FLOAT32:
                FloatLoops.divideF32(buf, offsetBytes, count, divisor);
                break;
            case FLOAT64:
                FloatLoops.divideF64(buf, offsetBytes, count, divisor);
                break;
            case FLOAT16:
                FloatLoops.divideHalf(false, buf, offsetBytes, count, divisor);
                break;
            case BFLOAT16:
                FloatLoops.divideHalf(true, buf, offsetBytes, count, divisor);
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
        if (endBytes > buf.limit()) {
            throw invalid(name + " range [" + offsetBytes + ", " + endBytes + ") of " + count + " " + type
                    + " elements exceeds the buffer limit " + buf.limit());
        }
    }

    private static PcclException invalid(final String message) {
        return new PcclException(PcclException.Code.INVALID_ARGUMENT, message);
    }
}
