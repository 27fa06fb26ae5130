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
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.pccl.quant.QuantTestBuffers.get;
import static io.pccl.quant.QuantTestBuffers.le;
import static io.pccl.quant.QuantTestBuffers.put;
import static io.pccl.quant.QuantTestBuffers.randomValues;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Round-trip bounds, rounding, edge cases and two-peer bit identity of {@link MinMaxQuantizer}. */
class MinMaxQuantizerTest {
    private static final long SEED = 0xC0FFEEL;
    private static final DataType[] WIRE = {DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64};

    static Stream<Arguments> typePairs() {
        return QuantTestBuffers.typePairs(WIRE);
    }

    private static double tmax(final DataType wire) {
        return wire == DataType.UINT64 ? 0x1p64 : Math.pow(2, 8 * wire.sizeBytes()) - 1;
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldReconstructWithinHalfAStep(final DataType source, final DataType wire) {
        final long seed = SEED + source.ordinal() * 16L + wire.ordinal();
        System.out.println("MinMaxQuantizerTest " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(source, wire);
        final double[][] ranges = {{-1, 1}, {-250, -3}, {1e3, 1e3 + 7}, {-1e-20, 5e-21}, {0, 1e30}};
        for (final double[] r : ranges) {
            final int count = 3001;
            final ByteBuffer src = randomValues(random, source, count, r[0], r[1]);
            final MinMaxMeta meta = new MinMaxMeta(source);
            quantizer.computeMeta(src, 0, count, meta);
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) {
                min = Math.min(min, get(source, src, i));
                max = Math.max(max, get(source, src, i));
            }
            assertEquals(min, meta.min(), "min of " + r[0] + ".." + r[1]);
            assertEquals(max, meta.max(), "max of " + r[0] + ".." + r[1] + " (not widened for negative data)");
            final ByteBuffer q = le(count * wire.sizeBytes(), random.nextBoolean());
            quantizer.quantize(src, 0, q, 0, count, meta);
            final ByteBuffer back = le(count * source.sizeBytes(), random.nextBoolean());
            quantizer.dequantizeInto(q, 0, back, 0, count, meta);
            // One ulp (in the source type) of the largest magnitude the arithmetic meets: min, max or the range.
            final double magnitude = Math.max(Math.max(Math.abs(min), Math.abs(max)), max - min);
            final double ulp = source == DataType.FLOAT32 ? Math.ulp((float) magnitude) : Math.ulp(magnitude);
            final double bound = (max - min) / (2 * tmax(wire)) + ulp;
            for (int i = 0; i < count; i++) {
                final double x = get(source, src, i);
                final double error = Math.abs(x - get(source, back, i));
                assertTrue(error <= bound, "value " + x + " error " + error + " > bound " + bound);
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldMapMinToZeroAndMaxToTmaxWithoutOverflow(final DataType source, final DataType wire) {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(source, wire);
        final ByteBuffer src = le(3 * source.sizeBytes(), false);
        put(source, src, 0, -3.5);
        put(source, src, 1, 12.25);
        put(source, src, 2, 0.0);
        final MinMaxMeta meta = new MinMaxMeta(source);
        quantizer.computeMeta(src, 0, 3, meta);
        final ByteBuffer q = le(3 * wire.sizeBytes(), true);
        quantizer.quantize(src, 0, q, 0, 3, meta);
        assertEquals(0L, readQ(wire, q, 0));
        final long allOnes = wire == DataType.UINT64 ? -1L : (1L << (8 * wire.sizeBytes())) - 1;
        assertEquals(allOnes, readQ(wire, q, 1), "the maximum quantizes to Tmax");
        final ByteBuffer back = le(3 * source.sizeBytes(), false);
        quantizer.dequantizeInto(q, 0, back, 0, 3, meta);
        assertEquals(-3.5, get(source, back, 0));
        assertEquals(12.25, get(source, back, 1), 1e-12 * 16);
    }

    private static long readQ(final DataType wire, final ByteBuffer q, final int i) {
        switch (wire) {
            case UINT8: return q.get(i) & 0xFFL;
            case UINT16: return q.getShort(i * 2) & 0xFFFFL;
            case UINT32: return q.getInt(i * 4) & 0xFFFF_FFFFL;
            default: return q.getLong(i * 8);
        }
    }

    @Test
    void shouldRoundToNearestNotTruncate() {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8);
        final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT32).set(0, 255);
        final ByteBuffer src = le(16, false).putFloat(0, 1.4f).putFloat(4, 1.6f).putFloat(8, 254.7f)
                .putFloat(12, 2.5f);
        final ByteBuffer q = le(4, false);
        quantizer.quantize(src, 0, q, 0, 4, meta);
        assertEquals(1, q.get(0) & 0xFF);
        assertEquals(2, q.get(1) & 0xFF);
        assertEquals(255, q.get(2) & 0xFF);
        assertEquals(2, q.get(3) & 0xFF, "ties to even");
    }

    @Test
    void shouldHandleEmptyAndConstantChunks() {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT64, DataType.UINT16);
        final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT64).set(5, 9);
        final ByteBuffer empty = le(0, true);
        quantizer.computeMeta(empty, 0, 0, meta);
        assertEquals(0.0, meta.min());
        assertEquals(0.0, meta.max());
        quantizer.quantize(empty, 0, empty, 0, 0, meta);
        quantizer.dequantizeAccumulate(ReduceOp.SUM, empty, 0, empty, 0, 0, meta);
        final ByteBuffer wireMeta = le(meta.sizeBytes(), false);
        meta.writeTo(wireMeta, 0);
        final MinMaxMeta received = new MinMaxMeta(DataType.FLOAT64).readFrom(wireMeta, 0);
        assertEquals(0.0, received.min());
        assertEquals(0.0, received.max());

        final ByteBuffer constant = le(5 * 8, false);
        for (int i = 0; i < 5; i++) {
            constant.putDouble(i * 8, -42.125);
        }
        quantizer.computeMeta(constant, 0, 5, meta);
        final ByteBuffer q = le(10, false);
        quantizer.quantize(constant, 0, q, 0, 5, meta);
        final ByteBuffer back = le(40, true);
        quantizer.dequantizeInto(q, 0, back, 0, 5, meta);
        for (int i = 0; i < 5; i++) {
            assertEquals(0, q.getShort(i * 2));
            assertEquals(-42.125, back.getDouble(i * 8));
        }
    }

    @Test
    void shouldKeepNonFiniteValuesOutOfTheRange() {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8);
        final ByteBuffer src = le(20, false).putFloat(0, Float.NaN).putFloat(4, Float.POSITIVE_INFINITY)
                .putFloat(8, Float.NEGATIVE_INFINITY).putFloat(12, -2f).putFloat(16, 6f);
        final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT32);
        quantizer.computeMeta(src, 0, 5, meta);
        assertEquals(-2.0, meta.min());
        assertEquals(6.0, meta.max());
        final ByteBuffer q = le(5, false);
        quantizer.quantize(src, 0, q, 0, 5, meta);
        assertEquals(0, q.get(0) & 0xFF, "NaN");
        assertEquals(255, q.get(1) & 0xFF, "+Inf");
        assertEquals(0, q.get(2) & 0xFF, "-Inf");
        assertEquals(0, q.get(3) & 0xFF);
        assertEquals(255, q.get(4) & 0xFF);
    }

    @Test
    void shouldNotOverflowWhenTheFloat64RangeExceedsDouble() {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT64, DataType.UINT16);
        final double[] values = {-1.5e308, 1.6e308, 0.0, 1e307, -Double.MAX_VALUE, Double.MAX_VALUE};
        final ByteBuffer src = le(values.length * 8, false);
        for (int i = 0; i < values.length; i++) {
            src.putDouble(i * 8, values[i]);
        }
        final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT64);
        quantizer.computeMeta(src, 0, values.length, meta);
        final ByteBuffer q = le(values.length * 2, false);
        quantizer.quantize(src, 0, q, 0, values.length, meta);
        final ByteBuffer back = le(values.length * 8, false);
        quantizer.dequantizeInto(q, 0, back, 0, values.length, meta);
        final double bound = (Double.MAX_VALUE / 65535) * 1.0001;
        for (int i = 0; i < values.length; i++) {
            final double v = back.getDouble(i * 8);
            assertTrue(Double.isFinite(v) && Math.abs(v - values[i]) <= bound, values[i] + " came back as " + v);
        }
        assertEquals(Double.MAX_VALUE, back.getDouble(5 * 8));
        assertEquals(-Double.MAX_VALUE, back.getDouble(4 * 8));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldDequantizeBitIdenticallyOnTwoPeers(final DataType source, final DataType wire) {
        final long seed = SEED * 31 + source.ordinal() * 16L + wire.ordinal();
        System.out.println("MinMaxQuantizerTest peers " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final int count = 1023;
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(source, wire);
        // Peer A owns the chunk: quantizes it, sends bytes + metadata, overwrites its own copy for parity.
        final ByteBuffer chunkA = randomValues(random, source, count, -17.3, 123.9);
        final MinMaxMeta metaA = new MinMaxMeta(source);
        quantizer.computeMeta(chunkA, 0, count, metaA);
        final int qBytes = count * wire.sizeBytes();
        final ByteBuffer frame = le(metaA.sizeBytes() + qBytes, true);
        metaA.writeTo(frame, 0);
        quantizer.quantize(chunkA, 0, frame, metaA.sizeBytes(), count, metaA);
        quantizer.dequantizeInto(frame, metaA.sizeBytes(), chunkA, 0, count, metaA);
        // Peer B receives a copy of the frame (heap this time) and materialises the chunk from it.
        final ByteBuffer received = le(frame.capacity(), false);
        for (int i = 0; i < frame.capacity(); i++) {
            received.put(i, frame.get(i));
        }
        final MinMaxMeta metaB = new MinMaxMeta(source).readFrom(received, 0);
        final ByteBuffer chunkB = le(count * source.sizeBytes(), true);
        quantizer.dequantizeInto(received, metaB.sizeBytes(), chunkB, 0, count, metaB);
        for (int i = 0; i < chunkA.capacity(); i++) {
            assertEquals(chunkA.get(i), chunkB.get(i), "byte " + i + " differs between peers");
        }
        // dequantizeAccumulate == dequantizeInto followed by the reduce kernel, for every op.
        for (final ReduceOp op : ReduceOp.values()) {
            final ByteBuffer acc = randomValues(random, source, count, -5, 5);
            final ByteBuffer expected = le(acc.capacity(), false);
            for (int i = 0; i < acc.capacity(); i++) {
                expected.put(i, acc.get(i));
            }
            final ByteBuffer deq = le(acc.capacity(), false);
            quantizer.dequantizeInto(received, metaB.sizeBytes(), deq, 0, count, metaB);
            ReduceKernels.accumulate(source, op, expected, 0, deq, 0, count);
            quantizer.dequantizeAccumulate(op, acc, 0, received, metaB.sizeBytes(), count, metaB);
            for (int i = 0; i < acc.capacity(); i++) {
                assertEquals(expected.get(i), acc.get(i), op + " byte " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldQuantizeAndDecodeInOnePassExactlyAsInTwo(final DataType source, final DataType wire) {
        final long seed = SEED * 37 + source.ordinal() * 16L + wire.ordinal();
        System.out.println("MinMaxQuantizerTest fused " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(source, wire);
        final double big = source == DataType.FLOAT32 ? Float.MAX_VALUE : Double.MAX_VALUE;
        // Ordinary data, a constant chunk, non-finite values, and (float64) a range that overflows double.
        final double[][] cases = {null, {2.5, 2.5, 2.5}, {Double.NaN, 1, Double.POSITIVE_INFINITY, -3,
            Double.NEGATIVE_INFINITY}, {-big, big, 0, big / 3}};
        for (final double[] fixed : cases) {
            final int count = fixed == null ? 777 : fixed.length;
            final ByteBuffer src = fixed == null ? randomValues(random, source, count, -40, 9)
                    : le(count * source.sizeBytes(), random.nextBoolean());
            for (int i = 0; fixed != null && i < count; i++) {
                put(source, src, i, fixed[i]);
            }
            final MinMaxMeta meta = new MinMaxMeta(source);
            quantizer.computeMeta(src, 0, count, meta);
            final ByteBuffer q2 = le(count * wire.sizeBytes(), false);
            final ByteBuffer twoPasses = le(src.capacity(), false);
            quantizer.quantize(src, 0, q2, 0, count, meta);
            quantizer.dequantizeInto(q2, 0, twoPasses, 0, count, meta);
            // In place, as the owner of a chunk does it.
            final ByteBuffer q1 = le(count * wire.sizeBytes(), true);
            quantizer.quantizeAndDecode(src, 0, q1, 0, count, meta, src, 0);
            for (int i = 0; i < q1.capacity(); i++) {
                assertEquals(q2.get(i), q1.get(i), meta + ": quantized byte " + i);
            }
            for (int i = 0; i < src.capacity(); i++) {
                assertEquals(twoPasses.get(i), src.get(i), meta + ": decoded byte " + i);
            }
        }
    }

    @Test
    void shouldFindTheRangeWithAndWithoutInfinitiesInTheChunk() {
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8);
        final float[][] chunks = {{3, -2, 7, Float.NaN}, {Float.POSITIVE_INFINITY, 1, -1}, {Float.NEGATIVE_INFINITY,
            5}, {Float.NaN, Float.POSITIVE_INFINITY}, {-0.5f}};
        final double[][] ranges = {{-2, 7}, {-1, 1}, {5, 5}, {0, 0}, {-0.5, -0.5}};
        for (int c = 0; c < chunks.length; c++) {
            final ByteBuffer buf = le(chunks[c].length * 4, c % 2 == 0);
            for (int i = 0; i < chunks[c].length; i++) {
                buf.putFloat(i * 4, chunks[c][i]);
            }
            final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT32);
            quantizer.computeMeta(buf, 0, chunks[c].length, meta);
            assertEquals(ranges[c][0], meta.min(), "min of chunk " + c);
            assertEquals(ranges[c][1], meta.max(), "max of chunk " + c);
        }
    }

    @Test
    void shouldWidenFloat32BoundsOutward() {
        final MinMaxMeta meta = new MinMaxMeta(DataType.FLOAT32).set(0.1, 0.3);
        assertTrue(meta.min() <= 0.1 && meta.min() == (float) meta.min());
        assertTrue(meta.max() >= 0.3 && meta.max() == (float) meta.max());
    }

    @Test
    void shouldRejectInvalidArguments() {
        assertInvalid(() -> MinMaxQuantizer.of(DataType.FLOAT16, DataType.UINT8));
        assertInvalid(() -> MinMaxQuantizer.of(DataType.FLOAT32, DataType.INT8));
        assertSame(MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8),
                MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8));
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(DataType.FLOAT32, DataType.UINT8);
        final MinMaxMeta wrongType = new MinMaxMeta(DataType.FLOAT64);
        final ByteBuffer buf = le(16, false);
        assertInvalid(() -> quantizer.computeMeta(buf, 0, 1, wrongType));
        assertInvalid(() -> quantizer.quantize(ByteBuffer.allocate(16), 0, buf, 0, 1,
                new MinMaxMeta(DataType.FLOAT32)));
        assertInvalid(() -> quantizer.quantize(buf, 0, buf, 0, 5, new MinMaxMeta(DataType.FLOAT32)));
        assertInvalid(() -> new MinMaxMeta(DataType.FLOAT32).set(2, 1));
        assertInvalid(() -> new MinMaxMeta(DataType.FLOAT32).set(0, Double.NaN));
        assertInvalid(() -> new MinMaxMeta(DataType.FLOAT32).set(0, 1e300));
        final ByteBuffer bad = le(8, false).putFloat(0, 3f).putFloat(4, 1f);
        final PcclException e = assertThrows(PcclException.class,
                () -> new MinMaxMeta(DataType.FLOAT32).readFrom(bad, 0));
        assertEquals(PcclException.Code.PROTOCOL_VIOLATION, e.code());
    }

    private static void assertInvalid(final Runnable call) {
        final PcclException e = assertThrows(PcclException.class, call::run);
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
    }
}
