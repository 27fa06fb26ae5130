package io.pccl.reduce;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks {@link HalfFloats} against independent (slow, exhaustive or search-based) references. */
class HalfFloatsTest {
    private static final long SEED = 0x5EED_F16L;

    /** Independent decoding of a float16 through double scaling. */
    private static float referenceF16ToFloat(final int h) {
        final int sign = (h >>> 15) & 1;
        final int exp = (h >>> 10) & 0x1F;
        final int mant = h & 0x3FF;
        final double magnitude;
        if (exp == 0x1F) {
            magnitude = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (exp == 0) {
            magnitude = Math.scalb((double) mant, -24);
        } else {
            magnitude = Math.scalb(1.0 + mant / 1024.0, exp - 15);
        }
        return (float) (sign == 1 ? -magnitude : magnitude);
    }

    @Test
    void shouldWidenEveryFloat16Exactly() {
        for (int h = 0; h < 0x10000; h++) {
            final float expected = referenceF16ToFloat(h);
            final float actual = HalfFloats.float16ToFloat((short) h);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), "half 0x" + Integer.toHexString(h));
                // NaN payload survives the round trip.
                assertEquals(h | 0x0200, HalfFloats.floatToFloat16(actual) & 0xFFFF,
                        "half 0x" + Integer.toHexString(h));
            } else {
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                        "half 0x" + Integer.toHexString(h));
                assertEquals(h, HalfFloats.floatToFloat16(actual) & 0xFFFF,
                        "round trip of 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void shouldRoundFloatsToNearestEvenFloat16() {
        // Sorted non-negative finite halves 0x0000..0x7BFF, found by binary search as the reference.
        final float[] values = new float[0x7C00];
        for (int h = 0; h < values.length; h++) {
            values[h] = referenceF16ToFloat(h);
        }
        final SplittableRandom random = new SplittableRandom(SEED);
        System.out.println("HalfFloatsTest seed " + SEED);
        for (int n = 0; n < 200_000; n++) {
            // Uniform over float bit patterns in the half range and a bit beyond (covers subnormals and overflow).
            final int bits = random.nextInt(0x2F00_0000, 0x4790_0000) | (random.nextBoolean() ? 0x8000_0000 : 0);
            final float f = Float.intBitsToFloat(bits);
            assertEquals(referenceF32ToF16(values, f), HalfFloats.floatToFloat16(f) & 0xFFFF, "float " + f);
        }
        final float[] edges = {0f, -0f, 65504f, 65519.996f, 65520f, -65520f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f,
            0x1.8p-24f, 0x1p-14f, 0x1.ffcp-15f, 1.0009766f, 1.0004883f, 1.0014648f, Float.MIN_VALUE,
            Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (final float f : edges) {
            assertEquals(referenceF32ToF16(values, f), HalfFloats.floatToFloat16(f) & 0xFFFF, "float " + f);
        }
        assertEquals(0x7E00, HalfFloats.floatToFloat16(Float.NaN) & 0xFFFF);
        assertEquals(0xFE01, HalfFloats.floatToFloat16(Float.intBitsToFloat(0xFF80_2000)) & 0xFFFF);
        final short signallingNaN = HalfFloats.floatToFloat16(Float.intBitsToFloat(0x7F80_0001));
        assertTrue(Float.isNaN(HalfFloats.float16ToFloat(signallingNaN)));
    }

    private static int referenceF32ToF16(final float[] values, final float f) {
        final int sign = f < 0 || (f == 0 && 1 / f < 0) ? 0x8000 : 0;
        final double x = Math.abs((double) f);
        if (x >= 65520.0) {
            return sign | 0x7C00;
        }
        int idx = Arrays.binarySearch(values, (float) x);
        if (idx >= 0) {
            return sign | idx;
        }
        final int hi = -idx - 1;
        final int lo = hi - 1;
        final double dLo = x - values[lo];
        final double dHi = hi < values.length ? values[hi] - x : Double.POSITIVE_INFINITY;
        if (dLo < dHi) {
            return sign | lo;
        }
        if (dHi < dLo) {
            return sign | hi;
        }
        return sign | ((lo & 1) == 0 ? lo : hi);
    }

    @Test
    void shouldConvertBfloat16() {
        for (int h = 0; h < 0x10000; h++) {
            final float f = HalfFloats.bfloat16ToFloat((short) h);
            assertEquals(h << 16, Float.floatToRawIntBits(f), "bfloat 0x" + Integer.toHexString(h));
            final int back = HalfFloats.floatToBfloat16(f) & 0xFFFF;
            if (Float.isNaN(f)) {
                assertEquals(h | 0x40, back, "NaN bfloat 0x" + Integer.toHexString(h));
            } else {
                assertEquals(h, back, "round trip of bfloat 0x" + Integer.toHexString(h));
            }
        }
        final SplittableRandom random = new SplittableRandom(SEED + 1);
        System.out.println("HalfFloatsTest bfloat seed " + (SEED + 1));
        for (int n = 0; n < 200_000; n++) {
            final int bits = random.nextInt();
            final float f = Float.intBitsToFloat(bits);
            final int actual = HalfFloats.floatToBfloat16(f) & 0xFFFF;
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(HalfFloats.bfloat16ToFloat((short) actual)), "NaN bits " + bits);
                assertEquals(bits >>> 31, actual >>> 15, "NaN sign");
                continue;
            }
            if (Float.isInfinite(f)) {
                assertEquals(bits >>> 16, actual, "infinity");
                continue;
            }
            final int lo = bits >>> 16;
            final double loValue = Float.intBitsToFloat(lo << 16);
            final double hiValue = Float.intBitsToFloat((lo + 1) << 16);
            final double x = f;
            final double dLo = Math.abs(x - loValue);
            final double dHi = Math.abs(hiValue - x);
            // At the top of the float range the "hi" neighbour is infinity; treat it like a finite next value
            // 2^128 for the distance, which is what round-to-nearest-even on the bit pattern implies.
            final double dHiFinite = Double.isInfinite(hiValue) && !Double.isInfinite(loValue)
                    ? Math.abs(Math.copySign(0x1p128, x) - x) : dHi;
            final int expected = dLo < dHiFinite ? lo : dHiFinite < dLo ? (lo + 1) & 0xFFFF
                    : (lo & 1) == 0 ? lo : (lo + 1) & 0xFFFF;
            assertEquals(expected, actual, "float bits 0x" + Integer.toHexString(bits));
        }
    }
}
