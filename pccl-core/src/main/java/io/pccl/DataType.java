package io.pccl;

/**
 * Element types pccl can reduce, transfer and hash. All data is little-endian on the wire and in buffers.
 * Half types ({@link #FLOAT16}, {@link #BFLOAT16}) accumulate in float32 internally and travel in their own type.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public enum DataType {
    UINT8(1, false, false),
    INT8(1, true, false),
    UINT16(2, false, false),
    INT16(2, true, false),
    UINT32(4, false, false),
    INT32(4, true, false),
    UINT64(8, false, false),
    INT64(8, true, false),
    FLOAT16(2, true, true),
    BFLOAT16(2, true, true),
    FLOAT32(4, true, true),
    FLOAT64(8, true, true);

    private final int sizeBytes;
    private final boolean signed;
    private final boolean floatingPoint;

    DataType(final int sizeBytes, final boolean signed, final boolean floatingPoint) {
        this.sizeBytes = sizeBytes;
        this.signed = signed;
        this.floatingPoint = floatingPoint;
    }

    /**
     * Size of one element.
     *
     * @return bytes per element
     */
    public int sizeBytes() {
        return sizeBytes;
    }

    /**
     * Whether the type holds negative values.
     *
     * @return true for signed integers and floating-point types
     */
    public boolean isSigned() {
        return signed;
    }

    /**
     * Whether the type is a floating-point type.
     *
     * @return true for FLOAT16, BFLOAT16, FLOAT32 and FLOAT64
     */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }
}
