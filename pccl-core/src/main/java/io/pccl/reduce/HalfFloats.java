package io.pccl.reduce;

/**
 * Conversions between the 16-bit floating-point formats and {@code float}: IEEE 754 binary16 ("float16": 1 sign,
 * 5 exponent, 10 mantissa bits) and bfloat16 (1 sign, 8 exponent, 7 mantissa bits, the upper half of a float32).
 * Widening is exact. Narrowing rounds to nearest, ties to even; values beyond the largest finite half become
 * infinity; subnormals are produced and read. Infinities keep their sign; NaNs stay NaN (quiet) and keep their sign
 * and the upper bits of their payload.
 *
 * <p>Half values are carried as {@code short} holding the raw bit pattern. No method allocates.
 *
 * <p>Thread-safe (stateless).
 */
public final class HalfFloats {
    /** Smallest float that rounds to float16 infinity: 65520 (halfway between 65504 and 65536, ties go up). */
    private static final int F16_OVERFLOW_BITS = 0x477F_F000;
    /** Smallest normal float16 value, 2^-14, as float32 bits. */
    private static final int F16_MIN_NORMAL_BITS = 0x3880_0000;
    private static final int F32_EXP_MASK = 0x7F80_0000;
    private static final int F32_ABS_MASK = 0x7FFF_FFFF;

    private HalfFloats() {
    }

    /**
     * Widens a float16 to float32 (exact).
     *
     * @param half the float16 bit pattern
     * @return the same value as a float
     */
    public static float float16ToFloat(final short half) {
        final int h = half & 0xFFFF;
        final int sign = (h & 0x8000) << 16;
        final int exp = (h >>> 10) & 0x1F;
        final int mant = h & 0x3FF;
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exact in float32.
            final float magnitude = mant * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exp == 0x1F) {
            // Infinity or NaN: keep the payload.
            return Float.intBitsToFloat(sign | F32_EXP_MASK | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
    }

    /**
     * Narrows a float32 to float16, rounding to nearest, ties to even.
     *
     * @param value the float
     * @return the float16 bit pattern
     */
    public static short floatToFloat16(final float value) {
        final int bits = Float.floatToRawIntBits(value);
        final int sign = (bits >>> 16) & 0x8000;
        final int abs = bits & F32_ABS_MASK;
        if (abs >= F32_EXP_MASK) {
            if (abs == F32_EXP_MASK) {
                return (short) (sign | 0x7C00);
            }
            // NaN: quiet bit set, upper payload bits kept.
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
        }
        if (abs >= F16_OVERFLOW_BITS) {
            return (short) (sign | 0x7C00);
        }
        if (abs < F16_MIN_NORMAL_BITS) {
            // Subnormal or zero: the result is round(|value| * 2^24); scaling by a power of two is exact.
            final int q = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f);
            return (short) (sign | q);
        }
        final int mant = abs & 0x7F_FFFF;
        int half = (((abs >>> 23) - (127 - 15)) << 10) | (mant >>> 13);
        final int rest = mant & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // a carry into the exponent is the correct rounding
        }
        return (short) (sign | half);
    }

    /**
     * Widens a bfloat16 to float32 (exact).
     *
     * @param half the bfloat16 bit pattern
     * @return the same value as a float
     */
    public static float bfloat16ToFloat(final short half) {
        return Float.intBitsToFloat((half & 0xFFFF) << 16);
    }

    /**
     * Narrows a float32 to bfloat16, rounding to nearest, ties to even.
     *
     * @param value the float
     * @return the bfloat16 bit pattern
     */
    public static short floatToBfloat16(final float value) {
        final int bits = Float.floatToRawIntBits(value);
        if ((bits & F32_ABS_MASK) > F32_EXP_MASK) {
            // NaN: keep sign and upper payload, force the quiet bit so the truncated payload cannot become zero.
            return (short) ((bits >>> 16) | 0x0040);
        }
        final int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
