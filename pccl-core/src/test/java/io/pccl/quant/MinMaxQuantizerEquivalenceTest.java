package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static io.pccl.quant.QuantTestBuffers.assertSameBytes;
import static io.pccl.quant.QuantTestBuffers.copy;
import static io.pccl.quant.QuantTestBuffers.le;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link MinMaxQuantizer} gives exactly the bytes of the scalar loops it had before staging
 * ({@link MinMaxScalarModel}): metadata, codes, fused and separate decodes, and every accumulate op, for random
 * chunks of many lengths (around the staging threshold and block size too), unaligned offsets, heap and direct
 * buffers, and values that include NaN, infinities, signed zeros, subnormals, the type's extremes, exact ties between
 * two codes and values outside the range.
 */
class MinMaxQuantizerEquivalenceTest {
    private static final long SEED = 0x5EED_F00DL;
    private static final DataType[] WIRE = {DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64};
    private static final int[] COUNTS = {0, 1, 7, 255, 256, 257, 511, 512, 513, 1000, 1024, 1537, 4099};
    private static final int ROUNDS = 12;

    static Stream<Arguments> typePairs() {
        return QuantTestBuffers.typePairs(WIRE);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("typePairs")
    void shouldMatchTheScalarLoopsBitForBit(final DataType source, final DataType wire) {
        final long seed = SEED + source.ordinal() * 16L + wire.ordinal();
        System.out.println("MinMaxQuantizerEquivalenceTest " + source + " -> " + wire + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        final MinMaxQuantizer quantizer = MinMaxQuantizer.of(source, wire);
        final MinMaxScalarModel model = new MinMaxScalarModel(source, wire);
        for (int round = 0; round < ROUNDS; round++) {
            for (final int count : COUNTS) {
                final Chunk chunk = new Chunk(random, source, count, round % Chunk.KINDS);
                checkChunk(random, quantizer, model, source, wire, chunk, round + " " + chunk.kind + " n=" + count);
            }
        }
    }

    private static void checkChunk(final SplittableRandom random, final MinMaxQuantizer quantizer,
                                   final MinMaxScalarModel model, final DataType source, final DataType wire,
                                   final Chunk chunk, final String what) {
        final int size = source.sizeBytes();
        final int count = chunk.count;
        final MinMaxMeta meta = new MinMaxMeta(source);
        quantizer.computeMeta(chunk.buf, chunk.off, count, meta);
        final double[] range = model.range(chunk.buf, chunk.off, count);
        assertEquals(Double.doubleToRawLongBits(range[0]), Double.doubleToRawLongBits(meta.min()), what + " min");
        assertEquals(Double.doubleToRawLongBits(range[1]), Double.doubleToRawLongBits(meta.max()), what + " max");
        // Also a range narrower than the data (saturation) or exactly [0, Tmax] (ties between codes).
        final MinMaxMeta[] metas = {meta, narrowed(source, meta), tieRange(source, wire)};
        for (final MinMaxMeta m : metas) {
            final String with = what + " " + m;
            final int qOff = random.nextInt(9);
            final ByteBuffer expectedQ = le(qOff + count * wire.sizeBytes(), random.nextBoolean());
            model.quantize(chunk.buf, chunk.off, expectedQ, qOff, count, m);
            final ByteBuffer q = le(expectedQ.capacity(), random.nextBoolean());
            quantizer.quantize(chunk.buf, chunk.off, q, qOff, count, m);
            assertSameBytes(expectedQ, q, with + " quantize");

            final int dOff = random.nextInt(9);
            final ByteBuffer expectedD = le(dOff + count * size, random.nextBoolean());
            model.dequantizeInto(expectedQ, qOff, expectedD, dOff, count, m);
            final ByteBuffer d = le(expectedD.capacity(), random.nextBoolean());
            quantizer.dequantizeInto(q, qOff, d, dOff, count, m);
            assertSameBytes(expectedD, d, with + " dequantizeInto");

            final ByteBuffer fusedQ = le(q.capacity(), random.nextBoolean());
            final ByteBuffer fusedD = le(d.capacity(), random.nextBoolean());
            quantizer.quantizeAndDecode(chunk.buf, chunk.off, fusedQ, qOff, count, m, fusedD, dOff);
            assertSameBytes(expectedQ, fusedQ, with + " quantizeAndDecode codes");
            assertSameBytes(expectedD, fusedD, with + " quantizeAndDecode values");
            // In place, as the owner of a chunk runs it.
            final ByteBuffer own = copy(chunk.buf, random.nextBoolean());
            quantizer.quantizeAndDecode(own, chunk.off, fusedQ, qOff, count, m, own, chunk.off);
            for (int i = 0; i < count * size; i++) {
                assertEquals(expectedD.get(dOff + i), own.get(chunk.off + i), with + " in place, byte " + i);
            }

            for (final ReduceOp op : ReduceOp.values()) {
                final Chunk acc = new Chunk(random, source, count, random.nextInt(Chunk.KINDS));
                final ByteBuffer expectedAcc = copy(acc.buf, random.nextBoolean());
                model.dequantizeAccumulate(op, expectedAcc, acc.off, expectedQ, qOff, count, m);
                quantizer.dequantizeAccumulate(op, acc.buf, acc.off, q, qOff, count, m);
                assertSameBytes(expectedAcc, acc.buf, with + " " + op);
            }
        }
    }

    /** The middle half of a range: values beyond it saturate. */
    private static MinMaxMeta narrowed(final DataType source, final MinMaxMeta meta) {
        final double quarter = meta.max() / 4 - meta.min() / 4;
        return new MinMaxMeta(source).set(meta.min() + quarter, meta.max() - quarter);
    }

    /** {@code [0, Tmax]} (capped at 2^24 so that float32 holds it): a step of exactly 1 for UINT8 and UINT16. */
    private static MinMaxMeta tieRange(final DataType source, final DataType wire) {
        final double top = Math.min(0x1p24, Math.pow(2, 8 * wire.sizeBytes()) - 1);
        return new MinMaxMeta(source).set(0, top);
    }

    /** A random chunk of one of {@link #KINDS} value mixes at a random (often unaligned) offset. */
    private static final class Chunk {
        static final int KINDS = 6;
        private static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0,
            -0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE,
            -Float.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, 1.0, -1.0, 0.5, 127.5, 128.5, 255.5, 65534.5};

        final ByteBuffer buf;
        final int off;
        final int count;
        final String kind;

        Chunk(final SplittableRandom random, final DataType source, final int count, final int kind) {
            this.count = count;
            this.off = random.nextInt(9);
            this.buf = le(off + count * source.sizeBytes(), random.nextBoolean());
            final String[] names = {"gaussian", "specials", "non-negative with zeros", "half steps", "subnormal",
                "positive"};
            this.kind = names[kind];
            for (int i = 0; i < count; i++) {
                final double x;
                switch (kind) {
                    case 0:
                        x = random.nextGaussian() * 3 + 1;
                        break;
                    case 1:
                        x = random.nextInt(4) == 0 ? SPECIAL[random.nextInt(SPECIAL.length)]
                                : random.nextGaussian();
                        break;
                    case 2:
                        x = random.nextInt(3) == 0 ? (random.nextBoolean() ? 0.0 : -0.0) : random.nextDouble(0, 9);
                        break;
                    case 3:
                        x = random.nextInt(1 << 17) / 2.0 - (random.nextInt(8) == 0 ? 100 : 0);
                        break;
                    case 4:
                        x = (random.nextDouble() - 0.5) * (random.nextBoolean() ? 1e-40 : 4e-310);
                        break;
                    default:
                        x = 5 + random.nextDouble() * 1e-3;
                }
                putAt(source, x, i);
            }
        }

        private void putAt(final DataType source, final double x, final int i) {
            if (source == DataType.FLOAT32) {
                buf.putFloat(off + i * 4, (float) x);
            } else {
                buf.putDouble(off + i * 8, x);
            }
        }
    }
}
