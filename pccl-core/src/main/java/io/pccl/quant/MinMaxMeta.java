package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.PcclException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The metadata of one MinMax-quantized chunk: its minimum and maximum, held exactly in the source type
 * ({@code FLOAT32} or {@code FLOAT64}) so that what travels on the wire ({@link #writeTo}, {@link #readFrom}) is
 * exactly what the sender used. A reusable holder: the engine keeps one per stage and overwrites it, so the hot path
 * allocates nothing.
 *
 * <p>Wire layout: {@code min} then {@code max}, each in the source type, little-endian ({@link #sizeBytes()} bytes).
 * An empty chunk has {@code min == max == 0}.
 *
 * <p>Not thread-safe: confined to the thread running the stage that owns it.
 */
public final class MinMaxMeta {
    private final DataType sourceType;
    private double min;
    private double max;

    /**
     * Creates metadata for an empty chunk ({@code min == max == 0}).
     *
     * @param sourceType {@code FLOAT32} or {@code FLOAT64}
     * @throws PcclException {@code INVALID_ARGUMENT} for any other type
     */
    public MinMaxMeta(final DataType sourceType) {
        MinMaxQuantizer.checkSourceType(sourceType);
        this.sourceType = sourceType;
    }

    /**
     * Sets the range. For a {@code FLOAT32} source the bounds are widened to the nearest floats outward, so that
     * every value in {@code [min, max]} stays inside the stored range.
     *
     * @param min smallest value, finite
     * @param max largest value, finite, {@code >= min}
     * @return this
     * @throws PcclException {@code INVALID_ARGUMENT} if a bound is not finite or {@code min > max}
     */
    public MinMaxMeta set(final double min, final double max) {
        if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT,
                    "MinMax range [" + min + ", " + max + "] must be finite with min <= max");
        }
        if (sourceType == DataType.FLOAT32) {
            float lo = (float) min;
            float hi = (float) max;
            if (lo > min) {
                lo = Math.nextDown(lo);
            }
            if (hi < max) {
                hi = Math.nextUp(hi);
            }
            if (Float.isInfinite(lo) || Float.isInfinite(hi)) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT,
                        "MinMax range [" + min + ", " + max + "] exceeds the float32 range");
            }
            this.min = lo;
            this.max = hi;
        } else {
            this.min = min;
            this.max = max;
        }
        return this;
    }

    /** Sets already validated bounds (exact in the source type). */
    void setExact(final double min, final double max) {
        this.min = min;
        this.max = max;
    }

    /** @return the source type the bounds are held in */
    public DataType sourceType() {
        return sourceType;
    }

    /** @return the smallest value of the chunk */
    public double min() {
        return min;
    }

    /** @return the largest value of the chunk */
    public double max() {
        return max;
    }

    /** @return bytes on the wire: two values of the source type */
    public int sizeBytes() {
        return 2 * sourceType.sizeBytes();
    }

    /**
     * Writes {@code min, max} little-endian at an absolute index; the position is not changed.
     *
     * @param dst destination
     * @param offsetBytes absolute byte index
     * @throws PcclException {@code INVALID_ARGUMENT} if the bytes do not fit below the limit
     */
    public void writeTo(final ByteBuffer dst, final int offsetBytes) {
        checkRoom(dst, offsetBytes);
        if (sourceType == DataType.FLOAT32) {
            putFloatLe(dst, offsetBytes, (float) min);
            putFloatLe(dst, offsetBytes + 4, (float) max);
        } else {
            putDoubleLe(dst, offsetBytes, min);
            putDoubleLe(dst, offsetBytes + 8, max);
        }
    }

    /**
     * Reads {@code min, max} little-endian from an absolute index (as written by a peer's {@link #writeTo}).
     *
     * @param src source
     * @param offsetBytes absolute byte index
     * @return this
     * @throws PcclException {@code PROTOCOL_VIOLATION} if the values are not finite or {@code min > max};
     *                       {@code INVALID_ARGUMENT} if the bytes are not below the limit
     */
    public MinMaxMeta readFrom(final ByteBuffer src, final int offsetBytes) {
        checkRoom(src, offsetBytes);
        final double lo;
        final double hi;
        if (sourceType == DataType.FLOAT32) {
            lo = Float.intBitsToFloat(getIntLe(src, offsetBytes));
            hi = Float.intBitsToFloat(getIntLe(src, offsetBytes + 4));
        } else {
            lo = Double.longBitsToDouble(getLongLe(src, offsetBytes));
            hi = Double.longBitsToDouble(getLongLe(src, offsetBytes + 8));
        }
        if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION,
                    "received MinMax metadata [" + lo + ", " + hi + "] is not a finite range with min <= max");
        }
        this.min = lo;
        this.max = hi;
        return this;
    }

    private void checkRoom(final ByteBuffer buf, final int offsetBytes) {
        if (offsetBytes < 0 || (long) offsetBytes + sizeBytes() > buf.limit()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "MinMax metadata of " + sizeBytes()
                    + " bytes at offset " + offsetBytes + " does not fit below the limit " + buf.limit());
        }
    }

    // The metadata is little-endian whatever the buffer's order.
    private static int getIntLe(final ByteBuffer buf, final int index) {
        final int raw = buf.getInt(index);
        return buf.order() == ByteOrder.LITTLE_ENDIAN ? raw : Integer.reverseBytes(raw);
    }

    private static long getLongLe(final ByteBuffer buf, final int index) {
        final long raw = buf.getLong(index);
        return buf.order() == ByteOrder.LITTLE_ENDIAN ? raw : Long.reverseBytes(raw);
    }

    private static void putFloatLe(final ByteBuffer buf, final int index, final float value) {
        final int bits = Float.floatToRawIntBits(value);
        buf.putInt(index, buf.order() == ByteOrder.LITTLE_ENDIAN ? bits : Integer.reverseBytes(bits));
    }

    private static void putDoubleLe(final ByteBuffer buf, final int index, final double value) {
        final long bits = Double.doubleToRawLongBits(value);
        buf.putLong(index, buf.order() == ByteOrder.LITTLE_ENDIAN ? bits : Long.reverseBytes(bits));
    }

    @Override
    public String toString() {
        return "MinMaxMeta[" + sourceType + " " + min + ", " + max + "]";
    }
}
