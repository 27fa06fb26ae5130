package io.pccl.ring;

import io.pccl.DataType;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * Exposes the package-private test helpers of {@code io.pccl.ring} to tests in sub-packages.
 *
 * <p>Thread-safe (stateless).
 */
public final class RingTestAccess {
    private RingTestAccess() {
    }

    public static ByteBuffer[] inputs(final DataType type, final long count, final int w, final long seed) {
        return RingReference.inputs(type, count, w, seed);
    }

    public static ByteBuffer expected(final DataType type, final ReduceOp op, final ByteBuffer[] in,
                                      final long count) {
        return RingReference.expected(type, op, in, count);
    }

    public static ByteBuffer[] quantizedInputs(final DataType type, final long count, final int w, final double lo,
                                               final double hi, final long seed) {
        return QuantizedRingReference.inputs(type, count, w, lo, hi, seed);
    }

    public static ByteBuffer quantizedExpected(final DataType type, final DataType wire, final ReduceOp op,
                                               final ByteBuffer[] in, final long count, final int sliceBytes) {
        return QuantizedRingReference.expected(type, wire, op, in, count, sliceBytes);
    }

    public static long quantizedTxBytes(final DataType type, final DataType wire, final long count, final int w,
                                        final int rank, final int sliceBytes) {
        return QuantizedRingReference.txBytes(type, wire, count, w, rank, sliceBytes);
    }

    public static ByteBuffer copyOf(final ByteBuffer src) {
        return RingAllReduceTest.copyOf(src);
    }

    public static void awaitUntil(final BooleanSupplier condition, final String what) {
        RingAllReduceTest.awaitUntil(condition, what);
    }
}
