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
    /** Each chunk is scaled into [0, max] of an unsigned integer type using the chunk's min and max. */
    MIN_MAX,
    /** Each chunk is mapped with a zero point and a scale derived from its mean and standard deviation. */
    ZERO_POINT_SCALE
}
