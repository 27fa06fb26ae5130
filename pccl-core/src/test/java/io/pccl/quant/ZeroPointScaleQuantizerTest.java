package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.pccl.quant.QuantTestBuffers.assertSameBytes;
import static io.pccl.quant.QuantTestBuffers.copy;
import static io.pccl.quant.QuantTestBuffers.get;
import static io.pccl.quant.QuantTestBuffers.le;
import static io.pccl.quant.QuantTestBuffers.put;
import static io.pccl.quant.QuantTestBuffers.randomValues;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Metadata, round-trip bounds, clamping, non-finite values, the fused pass and two-peer bit identity of
 * {@link ZeroPointScaleQuantizer} over every source x quantized type pair.
 */
class ZeroPointScaleQuantizerTest {
    private static final long SEED = 0x5EEDF00DL;
    private static final DataType[] WIRE = {DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16,
        DataType.UINT32, DataType.INT32, DataType.UINT64, DataType.INT64};

    static Stream<Arguments> typePairs() {
        return QuantTestBuffers.typePairs(WIRE);
    }

    private static ByteBuffer values(final DataType source, final boolean direct, final double... v) {
        final ByteBuffer buf = le(v.length * source.sizeBytes(), direct);
        for (int i = 0; i < v.length; i++) {
            put(source, buf, i, v[i]);
        }
        return buf;
    }

    /** The quantized value i as a long: sign- or zero-extended, UINT64 as its raw bits. */
    private static long readQ(final DataType wire, final ByteBuffer q, final int i) {
        switch (wire) {
            case UINT8: return q.get(i) & 0xFFL;
            case INT8: return q.get(i);
            case UINT16: return q.getShort(i * 2) & 0xFFFFL;
            case INT16: return q.getShort(i * 2);
            case UINT32: return q.getInt(i * 4) & 0xFFFF_FFFFL;
            case INT32: return q.getInt(i * 4);
            default: return q.getLong(i * 8);
        }
    }

    private static long tmin(final DataType wire) {
        return wire.isSigned() ? -1L << (8 * wire.sizeBytes() - 1) : 0L;
    }

    private static long tmax(final DataType wire) {
        if (wire == DataType.UINT64) {
            return -1L;
        }
        return wire.isSigned() ? ~tmin(wire) : (1L << (8 * wire.sizeBytes())) - 1;
    }

    private static long middle(final DataType wire) {
        return wire.isSigned() ? 0L : 1L << (8 * wire.sizeBytes() - 1);
    }

    private static double tmaxAsDouble(final DataType wire) {
        return wire == DataType.UINT64 ? 0x1p64 : (double) tmax(wire);
    }

    private static double asDouble(final DataType wire, final long bits) {
        if (wire == DataType.UINT64 && bits < 0) {
            return (bits >>> 1) * 2.0 + (bits & 1);
        }
        return bits;
    }

    private static double ulp(final DataType source, final double magnitude) {
        return source == DataType.FLOAT32 ? Math.ulp((float) magnitude) : Math.ulp(magnitude);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldSumTheReferenceExampleToExactly85(final DataType source, final DataType wire) {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final int count = 1024;
        final int qBytes = count * wire.sizeBytes();
        final int m = ZeroPointScaleMeta.SIZE_BYTES;
        final ByteBuffer peerA = le(count * source.sizeBytes(), true);
        final ByteBuffer peerB = le(count * source.sizeBytes(), false);
        for (int i = 0; i < count; i++) {
            put(source, peerA, i, 42);
            put(source, peerB, i, 43);
        }
        // Reduce-scatter: A quantizes its 42s and sends them, B decodes and adds its own 43s.
        final ZeroPointScaleMeta metaA = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(peerA, 0, count, metaA);
        final ByteBuffer frame = le(m + qBytes, true);
        metaA.writeTo(frame, 0);
        quantizer.quantize(peerA, 0, frame, m, count, metaA);
        final ByteBuffer received = copy(frame, false);
        final ZeroPointScaleMeta metaB = new ZeroPointScaleMeta(source).readFrom(received, 0);
        quantizer.dequantizeAccumulate(ReduceOp.SUM, peerB, 0, received, m, count, metaB);
        // All-gather: B owns the sum, sends it quantized and keeps exactly what A decodes.
        final ZeroPointScaleMeta sumMeta = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(peerB, 0, count, sumMeta);
        final ByteBuffer frame2 = le(m + qBytes, false);
        sumMeta.writeTo(frame2, 0);
        quantizer.quantizeAndDecode(peerB, 0, frame2, m, count, sumMeta, peerB, 0);
        final ByteBuffer received2 = copy(frame2, true);
        quantizer.dequantizeInto(received2, m, peerA, 0, count, new ZeroPointScaleMeta(source).readFrom(received2, 0));
        for (int i = 0; i < count; i++) {
            assertEquals(85.0, get(source, peerA, i), "peer A element " + i + " with " + metaA + ", " + sumMeta);
            assertEquals(85.0, get(source, peerB, i), "peer B element " + i);
        }
        // sigma = 0: the scale is |mean| 2^-50 (exact here), the zero point the middle minus 2^50.
        assertEquals(42 * 0x1p-50f, metaA.scale());
        assertEquals(middle(wire) - (1L << 50), metaA.zeroPoint());
        assertEquals(85 * 0x1p-50f, sumMeta.scale());
    }

    @Test
    void shouldComputeScaleAndZeroPointOfASmallChunkByHand() {
        // mean 2.5, sample standard deviation sqrt(5/3) = 1.2909944...
        final ByteBuffer src = values(DataType.FLOAT32, false, 1, 2, 3, 4);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(DataType.FLOAT32);
        ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.UINT8).computeMeta(src, 0, 4, meta);
        assertEquals((float) (12 * Math.sqrt(5.0 / 3) / 255), meta.scale());
        assertEquals(128 - 41, meta.zeroPoint(), "2.5 / 0.0607527 = 41.15");
        ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.INT8).computeMeta(src, 0, 4, meta);
        assertEquals((float) (12 * Math.sqrt(5.0 / 3) / 127), meta.scale());
        assertEquals(-20, meta.zeroPoint(), "2.5 / 0.1219829 = 20.49");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldComputeScaleAndZeroPointFromMeanAndSampleStdDev(final DataType source, final DataType wire) {
        final long seed = SEED + source.ordinal() * 16L + wire.ordinal();
        System.out.println("ZeroPointScaleQuantizerTest meta " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final double[][] ranges = {{-1, 1}, {-3, 0.5}, {2, 9}, {-250, -3}, {-1e-3, 1e-3}};
        for (final double[] r : ranges) {
            final int count = 2049;
            final ByteBuffer src = randomValues(random, source, count, r[0], r[1]);
            double sum = 0;
            double sumAbs = 0;
            for (int i = 0; i < count; i++) {
                sum += get(source, src, i);
                sumAbs += Math.abs(get(source, src, i));
            }
            final double mean = sum / count;
            double squares = 0;
            for (int i = 0; i < count; i++) {
                final double d = get(source, src, i) - mean;
                squares += d * d;
            }
            final double sigma = Math.sqrt(squares / (count - 1));
            final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
            quantizer.computeMeta(src, 0, count, meta);
            final double expectedScale = Math.max(12 * sigma / tmaxAsDouble(wire), Math.abs(mean) * 0x1p-50);
            assertEquals(expectedScale, meta.scale(), expectedScale * 1e-6, "scale of " + r[0] + ".." + r[1]);
            // The quantizer sums differently (shifted), so its mean may differ in the last bits, which a scale far
            // below the mean (64-bit types) turns into a few steps of the zero point.
            final long expectedZeroPoint = middle(wire) - (long) Math.rint(mean / meta.scale());
            final double tolerance = 1 + sumAbs / count * 1e-12 / meta.scale();
            assertTrue(Math.abs(meta.zeroPoint() - expectedZeroPoint) <= tolerance, "zero point of " + r[0] + ".."
                    + r[1] + ": " + meta.zeroPoint() + ", expected " + expectedZeroPoint + " +- " + tolerance);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldReconstructWithinHalfAStep(final DataType source, final DataType wire) {
        final long seed = SEED * 31 + source.ordinal() * 16L + wire.ordinal();
        System.out.println("ZeroPointScaleQuantizerTest round trip " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        // Around 0, one-sided, far from 0 (mean >> sigma: the zero point lies outside the type's range), tiny, huge.
        final double[][] ranges = {{-1, 1}, {-250, -3}, {1e3, 1e3 + 7}, {-5e6 - 1, -5e6}, {-1e-20, 5e-21},
            {0, 1e30}};
        final boolean wide = wire.sizeBytes() == 8;
        for (final double[] r : ranges) {
            final int count = 3001;
            final ByteBuffer src = randomValues(random, source, count, r[0], r[1]);
            final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
            quantizer.computeMeta(src, 0, count, meta);
            final double scale = meta.scale();
            final double zp = asDouble(wire, meta.zeroPoint());
            final double low = (tmin(wire) - zp) * scale;
            final double high = (tmaxAsDouble(wire) - zp) * scale;
            final ByteBuffer q = le(count * wire.sizeBytes(), random.nextBoolean());
            quantizer.quantize(src, 0, q, 0, count, meta);
            final ByteBuffer back = le(count * source.sizeBytes(), random.nextBoolean());
            quantizer.dequantizeInto(q, 0, back, 0, count, meta);
            for (int i = 0; i < count; i++) {
                final double x = get(source, src, i);
                assertTrue(x >= low && x <= high, x + " outside the representable [" + low + ", " + high + "]");
                final double magnitude = Math.abs(x);
                final double bound = 0.5 * scale + magnitude * 0x1p-51 + (wide ? 0x1p11 * scale : 0)
                        + ulp(source, magnitude + scale);
                final double error = Math.abs(x - get(source, back, i));
                assertTrue(error <= bound, meta + ": value " + x + " error " + error + " > bound " + bound);
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldDecodeConstantAndNearlyConstantChunks(final DataType source, final DataType wire) {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final double[] constants = {0.3, -1e20, 1000, 85, 1e-30, -7.25e-3, 3e38};
        for (final double c : constants) {
            final double v = source == DataType.FLOAT32 ? (float) c : c;
            final ByteBuffer src = values(source, false, v, v, v, v, v, v, v);
            final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
            quantizer.computeMeta(src, 0, 7, meta);
            quantizer.quantizeAndDecode(src, 0, le(7 * wire.sizeBytes(), true), 0, 7, meta, src, 0);
            for (int i = 0; i < 7; i++) {
                if (source == DataType.FLOAT32) {
                    assertEquals(v, get(source, src, i), meta + ": constant " + v);
                } else {
                    assertEquals(v, get(source, src, i), Math.abs(v) * 0x1p-49 + Float.MIN_VALUE, meta + ": " + v);
                }
            }
        }
        // 0.1 with a few ulps of noise: the sum of squares cancels to a tiny (or negative) variance.
        final int count = 1000;
        final ByteBuffer src = le(count * source.sizeBytes(), true);
        for (int i = 0; i < count; i++) {
            put(source, src, i, source == DataType.FLOAT32 ? Math.nextUp(0.1f) - (i % 3) * Math.ulp(0.1f)
                    : 0.1 + (i % 3) * Math.ulp(0.1));
        }
        final ByteBuffer original = copy(src, false);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(src, 0, count, meta);
        quantizer.quantizeAndDecode(src, 0, le(count * wire.sizeBytes(), false), 0, count, meta, src, 0);
        for (int i = 0; i < count; i++) {
            final double x = get(source, original, i);
            assertEquals(x, get(source, src, i), 4 * ulp(source, x), meta + ": nearly constant chunk, element " + i);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldGiveScaleOneAndTheMiddleToChunksWithoutNonzeroValues(final DataType source, final DataType wire) {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source).set(3f, 17);
        final ByteBuffer empty = le(0, true);
        quantizer.computeMeta(empty, 0, 0, meta);
        assertEquals(1.0f, meta.scale());
        assertEquals(middle(wire), meta.zeroPoint(), "empty chunk");
        quantizer.quantize(empty, 0, empty, 0, 0, meta);
        quantizer.quantizeAndDecode(empty, 0, empty, 0, 0, meta, empty, 0);
        quantizer.dequantizeInto(empty, 0, empty, 0, 0, meta);
        quantizer.dequantizeAccumulate(ReduceOp.AVG, empty, 0, empty, 0, 0, meta);

        final ByteBuffer zeros = values(source, false, 0, -0.0, Double.NaN, 0, Double.POSITIVE_INFINITY);
        meta.set(3f, 17);
        quantizer.computeMeta(zeros, 0, 5, meta);
        assertEquals(1.0f, meta.scale());
        assertEquals(middle(wire), meta.zeroPoint(), "all zero (or not finite)");
        final ByteBuffer q = le(5 * wire.sizeBytes(), false);
        quantizer.quantize(zeros, 0, q, 0, 5, meta);
        final ByteBuffer back = le(5 * source.sizeBytes(), true);
        quantizer.dequantizeInto(q, 0, back, 0, 5, meta);
        for (int i = 0; i < 4; i++) {
            assertEquals(middle(wire), readQ(wire, q, i), "code of element " + i);
            assertEquals(0.0, get(source, back, i), "element " + i);
        }
        assertEquals(tmax(wire), readQ(wire, q, 4), "+Inf");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldClampOutsideTheRepresentableRange(final DataType source, final DataType wire) {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        // Scale 0.5 around the middle: representable [(Tmin - middle) / 2, (Tmax - middle) / 2].
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source).set(0.5f, middle(wire));
        final double low = (tmin(wire) - asDouble(wire, middle(wire))) * 0.5;
        final double high = (tmaxAsDouble(wire) - asDouble(wire, middle(wire))) * 0.5;
        final ByteBuffer src = values(source, true, 1e30, -1e30, high * 4, low * 4, 1.5, -2);
        final ByteBuffer q = le(6 * wire.sizeBytes(), false);
        quantizer.quantize(src, 0, q, 0, 6, meta);
        assertEquals(tmax(wire), readQ(wire, q, 0));
        assertEquals(tmin(wire), readQ(wire, q, 1));
        assertEquals(tmax(wire), readQ(wire, q, 2));
        assertEquals(tmin(wire), readQ(wire, q, 3));
        assertEquals(middle(wire) + 3, readQ(wire, q, 4));
        assertEquals(middle(wire) - 4, readQ(wire, q, 5));
        final ByteBuffer back = le(6 * source.sizeBytes(), false);
        quantizer.dequantizeInto(q, 0, back, 0, 6, meta);
        final double tolerance = wire.sizeBytes() == 8 ? Math.abs(high) * 0x1p-50 : 0;
        assertEquals(high, get(source, back, 0), ulp(source, high) + tolerance);
        assertEquals(low, get(source, back, 1), ulp(source, low) + tolerance);
        assertEquals(1.5, get(source, back, 4));
        assertEquals(-2.0, get(source, back, 5));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldKeepNonFiniteValuesOutOfTheMetaAndMapThemToFixedCodes(final DataType source, final DataType wire) {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final ByteBuffer src = values(source, false, Double.NaN, Double.POSITIVE_INFINITY, 1,
                Double.NEGATIVE_INFINITY, 3);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(src, 0, 5, meta);
        final ZeroPointScaleMeta finiteOnly = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(values(source, true, 1, 3), 0, 2, finiteOnly);
        assertEquals(finiteOnly.scale(), meta.scale());
        assertEquals(finiteOnly.zeroPoint(), meta.zeroPoint());
        final ByteBuffer q = le(5 * wire.sizeBytes(), true);
        quantizer.quantize(src, 0, q, 0, 5, meta);
        assertEquals(meta.zeroPoint(), readQ(wire, q, 0), "NaN");
        assertEquals(tmax(wire), readQ(wire, q, 1), "+Inf");
        assertEquals(tmin(wire), readQ(wire, q, 3), "-Inf");
        final ByteBuffer back = le(5 * source.sizeBytes(), false);
        quantizer.dequantizeInto(q, 0, back, 0, 5, meta);
        assertEquals(0.0, get(source, back, 0), "NaN decodes to 0");
        if (wire.sizeBytes() < 8) {
            // A zero point outside the type's range: NaN takes the nearest code.
            final ByteBuffer nan = values(source, false, Double.NaN);
            final ByteBuffer code = le(wire.sizeBytes(), false);
            quantizer.quantize(nan, 0, code, 0, 1, new ZeroPointScaleMeta(source).set(1f, tmax(wire) + 1000));
            assertEquals(tmax(wire), readQ(wire, code, 0));
            quantizer.quantize(nan, 0, code, 0, 1, new ZeroPointScaleMeta(source).set(1f, tmin(wire) - 1000));
            assertEquals(tmin(wire), readQ(wire, code, 0));
        }
    }

    @Test
    void shouldUseTheLargestScaleWhenTheFloat64SumsOverflow() {
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(DataType.FLOAT64, DataType.INT16);
        final ByteBuffer src = values(DataType.FLOAT64, false, -Double.MAX_VALUE, Double.MAX_VALUE, 0, 1e300);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(DataType.FLOAT64);
        quantizer.computeMeta(src, 0, 4, meta);
        assertEquals(Float.MAX_VALUE, meta.scale(), meta.toString());
        final ByteBuffer q = le(8, false);
        quantizer.quantize(src, 0, q, 0, 4, meta);
        assertEquals(Short.MIN_VALUE, q.getShort(0));
        assertEquals(Short.MAX_VALUE, q.getShort(2));
        final ByteBuffer back = le(32, false);
        quantizer.dequantizeInto(q, 0, back, 0, 4, meta);
        assertEquals((Short.MAX_VALUE - meta.zeroPoint()) * (double) Float.MAX_VALUE, back.getDouble(8));
    }

    @Test
    void shouldComputeSixtyFourBitDifferencesWithoutOverflow() {
        final ByteBuffer q = le(16, false);
        final ByteBuffer out = le(16, false);
        final ZeroPointScaleQuantizer int64 = ZeroPointScaleQuantizer.of(DataType.FLOAT64, DataType.INT64);
        q.putLong(0, Long.MAX_VALUE).putLong(8, Long.MIN_VALUE);
        int64.dequantizeInto(q, 0, out, 0, 2, new ZeroPointScaleMeta(DataType.FLOAT64).set(1f, Long.MIN_VALUE));
        assertEquals(0x1p64, out.getDouble(0), "2^64 - 1 rounds once to 2^64");
        assertEquals(0.0, out.getDouble(8));
        int64.dequantizeInto(q, 0, out, 0, 2, new ZeroPointScaleMeta(DataType.FLOAT64).set(0.5f, Long.MAX_VALUE));
        assertEquals(0.0, out.getDouble(0));
        assertEquals(-0x1p63, out.getDouble(8), "(-(2^64 - 1)) / 2");
        final ZeroPointScaleQuantizer uint64 = ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.UINT64);
        q.putLong(0, -1L).putLong(8, 5L);
        uint64.dequantizeInto(q, 0, out, 0, 2, new ZeroPointScaleMeta(DataType.FLOAT32).set(1f, 0));
        assertEquals(0x1p64f, out.getFloat(0), "unsigned 2^64 - 1");
        assertEquals(5f, out.getFloat(4));
        uint64.dequantizeInto(q, 0, out, 0, 2, new ZeroPointScaleMeta(DataType.FLOAT32).set(1f, -1L));
        assertEquals(0f, out.getFloat(0));
        assertEquals(-0x1p64f, out.getFloat(4), "5 - (2^64 - 1)");
        uint64.dequantizeInto(q, 0, out, 0, 2, new ZeroPointScaleMeta(DataType.FLOAT32).set(2f, Long.MIN_VALUE));
        assertEquals(0x1p64f, out.getFloat(0), "(2^64 - 1 - 2^63) * 2");
        assertEquals(-0x1p64f, out.getFloat(4), "(5 - 2^63) * 2");
        // A zero point no quantizer produces still decodes deterministically for narrow types.
        final ZeroPointScaleQuantizer uint8 = ZeroPointScaleQuantizer.of(DataType.FLOAT64, DataType.UINT8);
        q.put(0, (byte) 200);
        uint8.dequantizeInto(q, 0, out, 0, 1, new ZeroPointScaleMeta(DataType.FLOAT64).set(1f, Long.MAX_VALUE));
        assertEquals(200 - 0x1p63, out.getDouble(0));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldQuantizeAndDecodeInOnePassExactlyAsInTwo(final DataType source, final DataType wire) {
        final long seed = SEED * 37 + source.ordinal() * 16L + wire.ordinal();
        System.out.println("ZeroPointScaleQuantizerTest fused " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        final double big = source == DataType.FLOAT32 ? Float.MAX_VALUE : Double.MAX_VALUE;
        // Ordinary data, far from 0, constant, non-finite values, huge values, and two hand-set metas (a zero point
        // outside the type's range, a huge scale).
        final double[][] cases = {null, {1e4, 1e4 + 1, 1e4 + 3}, {2.5, 2.5, 2.5}, {Double.NaN, 1,
            Double.POSITIVE_INFINITY, -3, Double.NEGATIVE_INFINITY}, {-big, big, 0, big / 3}, {-1, 0, 1e9},
            {-1e38, 5, 1e38}};
        final ZeroPointScaleMeta[] fixedMetas = {null, null, null, null, null,
            new ZeroPointScaleMeta(source).set(0.25f, tmax(wire) + 7), new ZeroPointScaleMeta(source).set(
                    Float.MAX_VALUE, middle(wire))};
        for (int c = 0; c < cases.length; c++) {
            final double[] fixed = cases[c];
            final int count = fixed == null ? 777 : fixed.length;
            final ByteBuffer src = fixed == null ? randomValues(random, source, count, -40, 9)
                    : values(source, random.nextBoolean(), fixed);
            final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(source);
            if (fixedMetas[c] == null) {
                quantizer.computeMeta(src, 0, count, meta);
            } else {
                meta.set(fixedMetas[c].scale(), fixedMetas[c].zeroPoint());
            }
            final ByteBuffer q2 = le(count * wire.sizeBytes(), false);
            final ByteBuffer twoPasses = le(src.capacity(), false);
            quantizer.quantize(src, 0, q2, 0, count, meta);
            quantizer.dequantizeInto(q2, 0, twoPasses, 0, count, meta);
            // Out of place, then in place as the owner of a chunk does it.
            final ByteBuffer q1 = le(count * wire.sizeBytes(), true);
            final ByteBuffer decoded = le(src.capacity(), true);
            quantizer.quantizeAndDecode(src, 0, q1, 0, count, meta, decoded, 0);
            assertSameBytes(q2, q1, meta + " quantized");
            assertSameBytes(twoPasses, decoded, meta + " decoded");
            q1.clear();
            quantizer.quantizeAndDecode(src, 0, q1, 0, count, meta, src, 0);
            assertSameBytes(q2, q1, meta + " quantized in place");
            assertSameBytes(twoPasses, src, meta + " decoded in place");
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldDequantizeBitIdenticallyOnTwoPeers(final DataType source, final DataType wire) {
        final long seed = SEED * 41 + source.ordinal() * 16L + wire.ordinal();
        System.out.println("ZeroPointScaleQuantizerTest peers " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final int count = 1023;
        final int m = ZeroPointScaleMeta.SIZE_BYTES;
        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(source, wire);
        // Peer A owns the chunk: quantizes it after the metadata at an offset, keeps the decoded values for parity.
        final ByteBuffer chunkA = randomValues(random, source, count, -17.3, 123.9);
        final ZeroPointScaleMeta metaA = new ZeroPointScaleMeta(source);
        quantizer.computeMeta(chunkA, 0, count, metaA);
        final int at = 5;
        final ByteBuffer frame = le(at + m + count * wire.sizeBytes(), true);
        metaA.writeTo(frame, at);
        quantizer.quantizeAndDecode(chunkA, 0, frame, at + m, count, metaA, chunkA, 0);
        assertEquals(0, frame.position());
        // Peer B receives a heap copy of the frame and materialises the chunk from it.
        final ByteBuffer received = copy(frame, false);
        final ZeroPointScaleMeta metaB = new ZeroPointScaleMeta(source).readFrom(received, at);
        assertEquals(metaA.scale(), metaB.scale());
        assertEquals(metaA.zeroPoint(), metaB.zeroPoint());
        final ByteBuffer chunkB = le(count * source.sizeBytes(), true);
        quantizer.dequantizeInto(received, at + m, chunkB, 0, count, metaB);
        assertSameBytes(chunkA, chunkB, "peer A vs peer B");
        // dequantizeAccumulate == dequantizeInto followed by the SUM kernel, for SUM and AVG.
        for (final ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.AVG}) {
            final ByteBuffer acc = randomValues(random, source, count, -5, 5);
            final ByteBuffer expected = copy(acc, false);
            final ByteBuffer deq = le(acc.capacity(), false);
            quantizer.dequantizeInto(received, at + m, deq, 0, count, metaB);
            ReduceKernels.accumulate(source, ReduceOp.SUM, expected, 0, deq, 0, count);
            quantizer.dequantizeAccumulate(op, acc, 0, received, at + m, count, metaB);
            assertSameBytes(expected, acc, op.toString());
        }
    }

    @Test
    void shouldWriteTheMetaLittleEndianWhateverTheBufferOrder() {
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(DataType.FLOAT64).set(0.75f, 0x0102030405060708L);
        final ByteBuffer big = ByteBuffer.allocate(20).order(ByteOrder.BIG_ENDIAN);
        big.position(3);
        meta.writeTo(big, 4);
        assertEquals(3, big.position());
        final int scaleBits = Float.floatToRawIntBits(0.75f);
        for (int i = 0; i < 4; i++) {
            assertEquals((byte) (scaleBits >>> (8 * i)), big.get(4 + i), "scale byte " + i);
        }
        for (int i = 0; i < 8; i++) {
            assertEquals((byte) (8 - i), big.get(8 + i), "zero point byte " + i);
        }
        final ByteBuffer little = le(16, true);
        little.put(4, big.array(), 4, 12);
        final ZeroPointScaleMeta read = new ZeroPointScaleMeta(DataType.FLOAT64).readFrom(little, 4);
        assertEquals(0.75f, read.scale());
        assertEquals(0x0102030405060708L, read.zeroPoint());
        assertEquals(meta.zeroPoint(), new ZeroPointScaleMeta(DataType.FLOAT64).readFrom(big, 4).zeroPoint());
        assertEquals(12, read.sizeBytes());
    }

    @Test
    void shouldRejectInvalidArguments() {
        assertInvalid(() -> ZeroPointScaleQuantizer.of(DataType.FLOAT16, DataType.UINT8), "FLOAT16", "UINT8");
        assertInvalid(() -> ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.FLOAT32), "FLOAT32");
        assertInvalid(() -> ZeroPointScaleQuantizer.of(DataType.FLOAT64, DataType.BFLOAT16), "FLOAT64", "BFLOAT16");
        assertInvalid(() -> ZeroPointScaleQuantizer.of(DataType.FLOAT64, null), "FLOAT64", "null");
        assertInvalid(() -> new ZeroPointScaleMeta(DataType.INT8), "INT8");
        assertSame(ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.INT16),
                ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.INT16));
        for (final ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PROD, null}) {
            assertInvalid(() -> ZeroPointScaleQuantizer.checkOp(op), String.valueOf(op), "SUM and AVG");
        }
        ZeroPointScaleQuantizer.checkOp(ReduceOp.SUM);
        ZeroPointScaleQuantizer.checkOp(ReduceOp.AVG);

        final ZeroPointScaleQuantizer quantizer = ZeroPointScaleQuantizer.of(DataType.FLOAT32, DataType.INT8);
        final ZeroPointScaleMeta meta = new ZeroPointScaleMeta(DataType.FLOAT32);
        final ByteBuffer buf = le(16, false);
        assertInvalid(() -> quantizer.computeMeta(buf, 0, 1, new ZeroPointScaleMeta(DataType.FLOAT64)), "FLOAT64");
        assertInvalid(() -> quantizer.computeMeta(buf, 0, 1, null), "null");
        assertInvalid(() -> quantizer.quantize(ByteBuffer.allocate(16), 0, buf, 0, 1, meta), "BIG_ENDIAN");
        assertInvalid(() -> quantizer.quantize(buf, 0, buf, 0, 5, meta), "20", "16");
        assertInvalid(() -> quantizer.quantize(buf, -1, buf, 0, 1, meta), "-1");
        assertInvalid(() -> quantizer.quantize(buf, 0, buf.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), 0, 1,
                meta), "read-only");
        assertInvalid(() -> quantizer.quantizeAndDecode(buf, 0, buf, 0, 4, meta, buf, 4), "decoded", "20");
        assertInvalid(() -> quantizer.dequantizeInto(buf, 0, buf, 0, -1, meta), "-1");
        assertInvalid(() -> quantizer.dequantizeInto(buf, 12, buf, 0, 5, meta), "17");
        assertInvalid(() -> quantizer.dequantizeAccumulate(ReduceOp.MAX, buf, 0, buf, 0, 1, meta), "MAX");
        assertInvalid(() -> quantizer.dequantizeAccumulate(ReduceOp.SUM, buf, 8, buf, 0, 3, meta), "acc", "20");
        buf.limit(8);
        assertInvalid(() -> quantizer.computeMeta(buf, 0, 3, meta), "12", "8");

        for (final float bad : new float[] {0f, -0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertInvalid(() -> new ZeroPointScaleMeta(DataType.FLOAT32).set(bad, 0), String.valueOf(bad));
            final ByteBuffer wire = le(12, false).putFloat(0, bad).putLong(4, 3);
            final PcclException e = assertThrows(PcclException.class,
                    () -> new ZeroPointScaleMeta(DataType.FLOAT32).readFrom(wire, 0));
            assertEquals(PcclException.Code.PROTOCOL_VIOLATION, e.code(), e.getMessage());
        }
        assertInvalid(() -> meta.readFrom(le(12, false), 1), "offset 1", "12");
        assertInvalid(() -> meta.writeTo(le(11, false), 0), "11");
        assertEquals(1.0f, meta.scale(), "a failed read leaves the meta as it was");
    }

    private static void assertInvalid(final Runnable call, final String... inMessage) {
        final PcclException e = assertThrows(PcclException.class, call::run);
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        for (final String s : inMessage) {
            assertTrue(e.getMessage().contains(s), "'" + e.getMessage() + "' should name " + s);
        }
    }
}
