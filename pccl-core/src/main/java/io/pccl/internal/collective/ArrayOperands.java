package io.pccl.internal.collective;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.internal.PrimitiveArrays;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;

/**
 * The primitive-array overloads of the all-reduce: checks the array type against the descriptor's data type and
 * the count against the lengths, copies the input into a little-endian staging buffer, runs the operation on it
 * and copies the result into {@code recv} only on success (so a failed in-place operation leaves the array as it
 * was). {@code byte[]} operands are wrapped without copying.
 *
 * <p>Thread-safe (stateless).
 */
public final class ArrayOperands {
    private ArrayOperands() {
    }

    /**
     * Launches an all-reduce over arrays.
     *
     * @param c the collectives
     * @param send a {@code float[] double[] int[] long[] short[]} or {@code byte[]}
     * @param recv an array of the same kind; {@code send} itself for in place
     * @param d what to reduce
     * @return the future; completes after the result was copied into {@code recv}
     */
    public static CompletableFuture<ReduceInfo> launch(final Collectives c, final Object send, final Object recv,
                                                       final ReduceDescriptor d) {
        final int n = check(send, recv, d);
        if (send instanceof byte[]) {
            return c.launch(ByteBuffer.wrap((byte[]) send), ByteBuffer.wrap((byte[]) recv), d, true);
        }
        final ByteBuffer staging = stage(send, n, d);
        return c.launch(staging, staging, d, false).thenApply(info -> {
            copyOut(staging, recv, n);
            return info;
        });
    }

    /**
     * Runs an all-reduce over arrays and blocks until it finished ({@link Collectives#allReduce}); the result is
     * copied into {@code recv} on the calling thread.
     *
     * @param c the collectives
     * @param send a {@code float[] double[] int[] long[] short[]} or {@code byte[]}
     * @param recv an array of the same kind; {@code send} itself for in place
     * @param d what to reduce
     * @return world size and bytes moved
     */
    public static ReduceInfo allReduce(final Collectives c, final Object send, final Object recv,
                                       final ReduceDescriptor d) {
        final int n = check(send, recv, d);
        if (send instanceof byte[]) {
            return c.allReduce(ByteBuffer.wrap((byte[]) send), ByteBuffer.wrap((byte[]) recv), d, true);
        }
        final ByteBuffer staging = stage(send, n, d);
        final ReduceInfo info = c.allReduce(staging, staging, d, false);
        copyOut(staging, recv, n);
        return info;
    }

    private static ByteBuffer stage(final Object send, final int n, final ReduceDescriptor d) {
        final ByteBuffer staging = ByteBuffer.allocate(n * d.dataType().sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        copyIn(send, staging, n);
        return staging;
    }

    /** Checks the operands against the descriptor; returns the element count. */
    private static int check(final Object send, final Object recv, final ReduceDescriptor d) {
        if (send == null || recv == null || d == null) {
            throw new NullPointerException(send == null ? "send" : recv == null ? "recv" : "descriptor");
        }
        if (send.getClass() != recv.getClass()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduce(tag " + d.tag() + "): send is "
                    + send.getClass().getSimpleName() + " but recv is " + recv.getClass().getSimpleName());
        }
        checkType(send, d);
        final int sendLength = Array.getLength(send);
        final int recvLength = Array.getLength(recv);
        if (d.count() > sendLength || d.count() > recvLength) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduce(tag " + d.tag() + "): count "
                    + d.count() + " exceeds the array length (send " + sendLength + ", recv " + recvLength + ") of "
                    + send.getClass().getSimpleName());
        }
        return (int) d.count();
    }

    private static void checkType(final Object array, final ReduceDescriptor d) {
        final DataType t = d.dataType();
        if (!PrimitiveArrays.isSupported(array)) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduce(tag " + d.tag() + "): "
                    + array.getClass().getSimpleName() + " is not a supported operand");
        }
        if (!PrimitiveArrays.holds(array, t)) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduce(tag " + d.tag() + "): data type "
                    + t + " does not match a " + array.getClass().getSimpleName() + " operand");
        }
    }

    private static void copyIn(final Object a, final ByteBuffer b, final int n) {
        if (a instanceof float[]) {
            b.asFloatBuffer().put((float[]) a, 0, n);
        } else if (a instanceof double[]) {
            b.asDoubleBuffer().put((double[]) a, 0, n);
        } else if (a instanceof int[]) {
            b.asIntBuffer().put((int[]) a, 0, n);
        } else if (a instanceof long[]) {
            b.asLongBuffer().put((long[]) a, 0, n);
        } else {
            b.asShortBuffer().put((short[]) a, 0, n);
        }
    }

    private static void copyOut(final ByteBuffer b, final Object a, final int n) {
        if (a instanceof float[]) {
            b.asFloatBuffer().get((float[]) a, 0, n);
        } else if (a instanceof double[]) {
            b.asDoubleBuffer().get((double[]) a, 0, n);
        } else if (a instanceof int[]) {
            b.asIntBuffer().get((int[]) a, 0, n);
        } else if (a instanceof long[]) {
            b.asLongBuffer().get((long[]) a, 0, n);
        } else {
            b.asShortBuffer().get((short[]) a, 0, n);
        }
    }
}
