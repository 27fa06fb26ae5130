package io.pccl.ring;

import io.pccl.DataType;
import io.pccl.Quantization;
import io.pccl.ReduceOp;
import io.pccl.quant.MinMaxQuantizer;
import io.pccl.quant.SliceQuantizer;
import io.pccl.quant.ZeroPointScaleQuantizer;
import io.pccl.ring.internal.RingSchedule;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Scalar model of a quantized ring all-reduce ({@code MIN_MAX} or {@code ZERO_POINT_SCALE}), for tests: per chunk
 * and per slice of {@code sliceBytes} (slices start at the chunk's start), the partial sum is quantized and decoded
 * at every reduce-scatter hop and folded with the next rank's input in ring order, and the final sum is quantized
 * once and decoded (what every peer ends with), then {@code AVG} divides. The engine must match it bit for bit.
 *
 * <p>Thread-safe (stateless).
 */
final class QuantizedRingReference {
    private QuantizedRingReference() {
    }

    /**
     * Inputs uniform in {@code [lo, hi)}, one little-endian buffer per rank (direct and heap alternating).
     *
     * @param type FLOAT32 or FLOAT64
     * @param count elements
     * @param w ranks
     * @param lo smallest value
     * @param hi bound above the largest value
     * @param seed random seed
     * @return the inputs
     */
    static ByteBuffer[] inputs(final DataType type, final long count, final int w, final double lo, final double hi,
                               final long seed) {
        final Random random = new Random(seed);
        final ByteBuffer[] in = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            final int bytes = (int) (count * type.sizeBytes());
            in[r] = (r % 2 == 0 ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                final double x = lo + (hi - lo) * random.nextDouble();
                if (type == DataType.FLOAT32) {
                    in[r].putFloat(i * 4, (float) x);
                } else {
                    in[r].putDouble(i * 8, x);
                }
            }
        }
        return in;
    }

    /**
     * The result every peer must hold.
     *
     * @param type source type
     * @param wire quantized type
     * @param op reduction
     * @param in one input per rank
     * @param count elements
     * @param sliceBytes the engine's slice size (a multiple of the element size)
     * @return the expected result
     */
    static ByteBuffer expected(final DataType type, final DataType wire, final ReduceOp op, final ByteBuffer[] in,
                               final long count, final int sliceBytes) {
        return expected(Quantization.MIN_MAX, type, wire, op, in, count, sliceBytes);
    }

    /**
     * The result every peer must hold, for either algorithm.
     *
     * @param algorithm {@code MIN_MAX} or {@code ZERO_POINT_SCALE}
     * @param type source type
     * @param wire quantized type
     * @param op reduction
     * @param in one input per rank
     * @param count elements
     * @param sliceBytes the engine's slice size (a multiple of the element size)
     * @return the expected result
     */
    static ByteBuffer expected(final Quantization algorithm, final DataType type, final DataType wire,
                               final ReduceOp op, final ByteBuffer[] in, final long count, final int sliceBytes) {
        final RoundTrip trip = roundTrip(algorithm, type, wire);
        final int size = type.sizeBytes();
        final int w = in.length;
        final ReduceOp fold = op == ReduceOp.AVG ? ReduceOp.SUM : op;
        final int sliceElements = sliceBytes / size;
        final ByteBuffer out = ByteBuffer.allocate((int) (count * size)).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer acc = ByteBuffer.allocate(sliceBytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer q = ByteBuffer.allocate(sliceElements * wire.sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer decoded = ByteBuffer.allocate(sliceBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int c = 0; c < w; c++) {
            final int start = (int) RingSchedule.chunkStartElement(count, w, c);
            final int n = (int) RingSchedule.chunkElements(count, w, c);
            for (int s = 0; s < n; s += sliceElements) {
                final int len = Math.min(sliceElements, n - s);
                for (int i = 0; i < len; i++) {
                    RingReference.put(type, acc, i, RingReference.get(type, in[c], start + s + i));
                }
                for (int k = 1; k < w; k++) {
                    trip.apply(acc, q, decoded, len);
                    for (int i = 0; i < len; i++) {
                        final long own = RingReference.get(type, in[(c + k) % w], start + s + i);
                        RingReference.put(type, acc, i,
                                RingReference.combine(type, fold, own, RingReference.get(type, decoded, i)));
                    }
                }
                trip.apply(acc, q, decoded, len);
                for (int i = 0; i < len; i++) {
                    long v = RingReference.get(type, decoded, i);
                    if (op == ReduceOp.AVG) {
                        v = RingReference.divide(type, v, w);
                    }
                    RingReference.put(type, out, start + s + i, v);
                }
            }
        }
        return out;
    }

    /** Quantizes {@code len} values of {@code src} with fresh metadata and decodes them into {@code decoded}. */
    @FunctionalInterface
    private interface RoundTrip {
        void apply(ByteBuffer src, ByteBuffer q, ByteBuffer decoded, int len);
    }

    private static RoundTrip roundTrip(final Quantization algorithm, final DataType type, final DataType wire) {
        if (algorithm == Quantization.ZERO_POINT_SCALE) {
            return roundTrip(ZeroPointScaleQuantizer.of(type, wire));
        }
        return roundTrip(MinMaxQuantizer.of(type, wire));
    }

    private static <M> RoundTrip roundTrip(final SliceQuantizer<M> quantizer) {
        final M meta = quantizer.newMeta();
        return (src, q, decoded, len) -> {
            quantizer.computeMeta(src, 0, len, meta);
            quantizer.quantize(src, 0, q, 0, len, meta);
            quantizer.dequantizeInto(q, 0, decoded, 0, len, meta);
        };
    }

    /**
     * Bytes a rank sends: every slice of every chunk it sends, as range plus quantized values.
     *
     * @param type source type
     * @param wire quantized type
     * @param count elements
     * @param w ranks
     * @param rank the sender
     * @param sliceBytes the engine's slice size
     * @return wire bytes
     */
    static long txBytes(final DataType type, final DataType wire, final long count, final int w, final int rank,
                        final int sliceBytes) {
        return txBytes(2 * type.sizeBytes(), type, wire, count, w, rank, sliceBytes);
    }

    /**
     * Bytes a rank sends with {@code metaBytes} of metadata per slice.
     *
     * @param metaBytes metadata per slice
     * @param type source type
     * @param wire quantized type
     * @param count elements
     * @param w ranks
     * @param rank the sender
     * @param sliceBytes the engine's slice size
     * @return wire bytes
     */
    static long txBytes(final int metaBytes, final DataType type, final DataType wire, final long count, final int w,
                        final int rank, final int sliceBytes) {
        final int sliceElements = sliceBytes / type.sizeBytes();
        long tx = 0;
        for (int t = 0; t < 2 * (w - 1); t++) {
            final long n = RingSchedule.chunkElements(count, w, Math.floorMod(rank - t, w));
            final long slices = (n + sliceElements - 1) / sliceElements;
            tx += slices * metaBytes + n * wire.sizeBytes();
        }
        return tx;
    }
}
