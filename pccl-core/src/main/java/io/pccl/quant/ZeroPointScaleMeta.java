package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.PcclException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The metadata of one ZeroPointScale-quantized chunk: the float32 {@code scale} (the value of one quantization step,
 * finite and {@code > 0}) and the int64 {@code zeroPoint} (the integer that stands for the value 0), so that a
 * quantized value {@code q} decodes to {@code (q - zeroPoint) * scale} (see {@link ZeroPointScaleQuantizer}). A
 * reusable holder: the engine keeps one per stage and overwrites it, so the hot path allocates nothing.
 *
 * <p>The zero point is not confined to the quantized type's range: for a chunk whose values lie far from 0 the integer
 * that stands for 0 lies outside it. With a {@code UINT64} quantized type its 64 bits are read as an unsigned integer,
 * like the quantized values themselves (the middle of that range, 2^63, does not fit a signed long); with every other
 * type it is a signed long.
 *
 * <p>Wire layout ({@link #SIZE_BYTES} bytes, little-endian whatever the buffer's byte order):
 * <pre>
 *   0               4                               12
 *   +---------------+-------------------------------+
 *   | scale (f32)   | zero point (i64)              |
 *   +---------------+-------------------------------+
 * </pre>
 * A new holder has {@code scale == 1, zeroPoint == 0}.
 *
 * <p>Not thread-safe: confined to the thread running the stage that owns it.
 */
public final class ZeroPointScaleMeta {
    /** Bytes on the wire: a float32 scale followed by an int64 zero point. */
    public static final int SIZE_BYTES = 12;

    private final DataType sourceType;
    private float scale = 1.0f;
    private long zeroPoint;

    /**
     * Creates metadata with {@code scale == 1, zeroPoint == 0}.
     *
     * @param sourceType the type of the quantized values' source, {@code FLOAT32} or {@code FLOAT64}
     * @throws PcclException {@code INVALID_ARGUMENT} for any other type
     */
    public ZeroPointScaleMeta(final DataType sourceType) {
        ZeroPointScaleQuantizer.checkSourceType(sourceType);
        this.sourceType = sourceType;
    }

    /**
     * Sets the scale and zero point.
     *
     * @param scale value of one quantization step, finite and {@code > 0}
     * @param zeroPoint integer that stands for 0 (read as unsigned with a {@code UINT64} quantized type)
     * @return this
     * @throws PcclException {@code INVALID_ARGUMENT} if the scale is not finite or not {@code > 0}
     */
    public ZeroPointScaleMeta set(final float scale, final long zeroPoint) {
        if (!isValidScale(scale)) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT,
                    "ZeroPointScale scale " + scale + " must be finite and > 0");
        }
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        return this;
    }

    /** Sets an already validated scale. */
    void setExact(final float scale, final long zeroPoint) {
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    /** @return the source type this metadata belongs to */
    public DataType sourceType() {
        return sourceType;
    }

    /** @return the value of one quantization step, finite and {@code > 0} */
    public float scale() {
        return scale;
    }

    /** @return the integer that stands for 0 (its bits read as unsigned with a {@code UINT64} quantized type) */
    public long zeroPoint() {
        return zeroPoint;
    }

    /** @return bytes on the wire, {@link #SIZE_BYTES} */
    public int sizeBytes() {
        return SIZE_BYTES;
    }

    /**
     * Writes {@code scale, zeroPoint} little-endian at an absolute index; the position is not changed.
     *
     * @param dst destination
     * @param offsetBytes absolute byte index
     * @throws PcclException {@code INVALID_ARGUMENT} if the bytes do not fit below the limit
     */
    public void writeTo(final ByteBuffer dst, final int offsetBytes) {
        checkRoom(dst, offsetBytes);
        final boolean le = dst.order() == ByteOrder.LITTLE_ENDIAN;
        final int scaleBits = Float.floatToRawIntBits(scale);
        dst.putInt(offsetBytes, le ? scaleBits : Integer.reverseBytes(scaleBits));
        dst.putLong(offsetBytes + 4, le ? zeroPoint : Long.reverseBytes(zeroPoint));
    }

    /**
     * Reads {@code scale, zeroPoint} little-endian from an absolute index (as written by a peer's {@link #writeTo});
     * the position is not changed.
     *
     * @param src source
     * @param offsetBytes absolute byte index
     * @return this
     * @throws PcclException {@code PROTOCOL_VIOLATION} if the scale is not finite and {@code > 0};
     *                       {@code INVALID_ARGUMENT} if the bytes are not below the limit
     */
    public ZeroPointScaleMeta readFrom(final ByteBuffer src, final int offsetBytes) {
        checkRoom(src, offsetBytes);
        final boolean le = src.order() == ByteOrder.LITTLE_ENDIAN;
        final int rawScale = src.getInt(offsetBytes);
        final long rawZeroPoint = src.getLong(offsetBytes + 4);
        final float s = Float.intBitsToFloat(le ? rawScale : Integer.reverseBytes(rawScale));
        if (!isValidScale(s)) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "received ZeroPointScale scale " + s
                    + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(s)) + ") is not finite and > 0");
        }
        this.scale = s;
        this.zeroPoint = le ? rawZeroPoint : Long.reverseBytes(rawZeroPoint);
        return this;
    }

    private static boolean isValidScale(final float scale) {
        return scale > 0.0f && scale <= Float.MAX_VALUE; // false for NaN
    }

    private static void checkRoom(final ByteBuffer buf, final int offsetBytes) {
        if (buf == null) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "ZeroPointScale metadata buffer is null");
        }
        if (offsetBytes < 0 || (long) offsetBytes + SIZE_BYTES > buf.limit()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "ZeroPointScale metadata of " + SIZE_BYTES
                    + " bytes at offset " + offsetBytes + " does not fit below the limit " + buf.limit());
        }
    }

    @Override
    public String toString() {
        return "ZeroPointScaleMeta[" + sourceType + " scale " + scale + ", zero point " + zeroPoint + "]";
    }
}
