package io.pccl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.DataType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The array-to-type mapping: every type has exactly one array class, and only primitive arrays are supported. */
class PrimitiveArraysTest {
    private static final List<Object> ARRAYS = List.of(new float[1], new double[1], new int[1], new long[1],
            new short[1], new byte[1]);

    @Test
    void shouldGiveEveryDataTypeExactlyOneArrayClassOfItsElementSize() {
        for (final DataType type : DataType.values()) {
            Object holder = null;
            int holders = 0;
            for (final Object array : ARRAYS) {
                if (PrimitiveArrays.holds(array, type)) {
                    holder = array;
                    holders++;
                }
            }
            assertEquals(1, holders, type + " is held by " + holders + " array classes");
            final int elementBytes = switch (holder.getClass().getSimpleName()) {
                case "double[]", "long[]" -> 8;
                case "float[]", "int[]" -> 4;
                case "short[]" -> 2;
                default -> 1;
            };
            assertEquals(type.sizeBytes(), elementBytes, type + " in " + holder.getClass().getSimpleName());
        }
    }

    @Test
    void shouldSupportTheSixPrimitiveArraysOnly() {
        for (final Object array : ARRAYS) {
            assertTrue(PrimitiveArrays.isSupported(array), array.getClass().getSimpleName());
        }
        assertFalse(PrimitiveArrays.isSupported(new char[1]));
        assertFalse(PrimitiveArrays.isSupported(new Float[1]));
        assertFalse(PrimitiveArrays.isSupported("not an array"));
    }
}
