package io.pccl.internal;

import io.pccl.DataType;

/**
 * Which primitive arrays hold which {@link DataType}s as their element type: {@code float[]} FLOAT32,
 * {@code double[]} FLOAT64, {@code int[]} INT32 and UINT32, {@code long[]} INT64 and UINT64, {@code short[]} the
 * 16-bit types (integer and half-precision float), {@code byte[]} INT8 and UINT8. One mapping for the collectives'
 * array overloads and the shared-state array entries (which also take a {@code byte[]} as the raw bytes of any
 * type).
 *
 * <p>Thread-safe (stateless).
 */
public final class PrimitiveArrays {
    private PrimitiveArrays() {
    }

    /**
     * Whether {@code array} is one of the six primitive array classes above.
     *
     * @param array any object
     * @return true for the {@code float[]}, {@code double[]}, {@code int[]}, {@code long[]}, {@code short[]} and
     *     {@code byte[]} classes
     */
    public static boolean isSupported(final Object array) {
        return array instanceof float[] || array instanceof double[] || array instanceof int[]
                || array instanceof long[] || array instanceof short[] || array instanceof byte[];
    }

    /**
     * Whether {@code array}'s elements are values of {@code type}.
     *
     * @param array any object
     * @param type the element type
     * @return true if the array class holds that type by the mapping above
     */
    public static boolean holds(final Object array, final DataType type) {
        switch (type) {
            case FLOAT32:
                return array instanceof float[];
            case FLOAT64:
                return array instanceof double[];
            case INT32:
            case UINT32:
                return array instanceof int[];
            case INT64:
            case UINT64:
                return array instanceof long[];
            case INT16:
            case UINT16:
            case FLOAT16:
            case BFLOAT16:
                return array instanceof short[];
            case INT8:
            case UINT8:
                return array instanceof byte[];
            default:
                return false;
        }
    }
}
