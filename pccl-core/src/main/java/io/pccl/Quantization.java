package io.pccl;

/**
 * How the ring transfers values: as they are, or quantized to a smaller integer type per transmitted chunk.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public enum Quantization {
    /** Values travel in the operand's own type. */
    NONE,
    /**
     * Each slice is scaled into {@code [0, Tmax]} of an unsigned integer type ({@code UINT8}..{@code UINT64}) using
     * the slice's min and max; the operand must be {@code FLOAT32} or {@code FLOAT64}.
     */
    MIN_MAX,
    /**
     * Each slice is mapped with a zero point and a scale derived from its mean and standard deviation, to any
     * integer type; the operand must be {@code FLOAT32} or {@code FLOAT64} and the op {@code SUM} or {@code AVG}.
     */
    ZERO_POINT_SCALE
}
