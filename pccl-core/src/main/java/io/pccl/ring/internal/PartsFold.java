package io.pccl.ring.internal;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Folds a payload that arrived in several buffers (a composite frame assembled from socket reads, zero copy) into
 * an accumulator with {@link ReduceKernels#accumulate}. Read boundaries need not fall on elements: an element split
 * across two buffers is gathered in a caller-owned 8-byte scratch buffer first. Allocates nothing.
 *
 * <p>Thread-safe (stateless); the scratch buffer is the caller's.
 */
final class PartsFold {
    private PartsFold() {
    }

    /**
     * {@code acc[dst ...] = op(acc[dst ...], concat(parts))}.
     *
     * @param type element type
     * @param op the reduction
     * @param acc accumulator, little-endian
     * @param dst absolute byte index of the first accumulated element in {@code acc}
     * @param parts the payload's buffers in order, from position to limit; their total is whole elements. Their
     *              byte order is set to little-endian
     * @param straddle scratch of at least 8 bytes, little-endian
     */
    static void accumulate(final DataType type, final ReduceOp op, final ByteBuffer acc, final int dst,
                           final ByteBuffer[] parts, final ByteBuffer straddle) {
        final int elementBytes = type.sizeBytes();
        int d = dst;
        int carry = 0;
        for (final ByteBuffer part : parts) {
            part.order(ByteOrder.LITTLE_ENDIAN);
            int pos = part.position();
            int rem = part.remaining();
            if (carry > 0) {
                final int take = Math.min(elementBytes - carry, rem);
                for (int i = 0; i < take; i++) {
                    straddle.put(carry + i, part.get(pos + i));
                }
                carry += take;
                pos += take;
                rem -= take;
                if (carry < elementBytes) {
                    continue; // this part ended inside the split element
                }
                ReduceKernels.accumulate(type, op, acc, d, straddle, 0, 1);
                d += elementBytes;
                carry = 0;
            }
            final int n = rem / elementBytes;
            if (n > 0) {
                ReduceKernels.accumulate(type, op, acc, d, part, pos, n);
                d += n * elementBytes;
                pos += n * elementBytes;
                rem -= n * elementBytes;
            }
            for (int i = 0; i < rem; i++) {
                straddle.put(i, part.get(pos + i));
            }
            carry = rem;
        }
    }
}
