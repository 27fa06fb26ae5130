package io.pccl.ring;

import io.netty.util.internal.PlatformDependent;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Inputs of one ring all-reduce.
 *
 * <p>The operand occupies {@code descriptor.sizeBytes()} bytes from the current position of {@code send} and of
 * {@code recv}; positions and limits are not modified. {@code send == recv} (or the same memory) runs in place: a
 * backup restores the input if the operation fails. Otherwise {@code send} is only read and {@code recv} holds
 * garbage after a failure.
 *
 * <p>Immutable apart from the buffers, which belong to the caller and must not be touched until the operation's
 * future completes. Thread-safe to pass between threads.
 *
 * @param ring peer ids in ring order (this peer's successor follows it), length = world size
 * @param rank this peer's index in {@code ring}
 * @param seq master-assigned operation sequence number (selects the pool connection)
 * @param descriptor count, type, op, tag and quantization
 * @param send input
 * @param recv output (may be {@code send})
 * @param transport the ring's transport
 */
public record RingOpContext(long[] ring, int rank, long seq, ReduceDescriptor descriptor, ByteBuffer send,
                            ByteBuffer recv, RingTransport transport) {
    /**
     * Validates the arguments.
     *
     * @throws PcclException {@code INVALID_ARGUMENT} naming the bad value
     */
    public RingOpContext {
        Objects.requireNonNull(ring, "ring");
        Objects.requireNonNull(descriptor, "descriptor");
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(recv, "recv");
        Objects.requireNonNull(transport, "transport");
        if (ring.length < 1 || rank < 0 || rank >= ring.length) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT,
                    "rank " + rank + " outside ring of size " + ring.length);
        }
        final long size = descriptor.sizeBytes();
        if (size > Integer.MAX_VALUE) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "operand of " + size
                    + " bytes exceeds the ByteBuffer limit of " + Integer.MAX_VALUE + " bytes");
        }
        if (send.remaining() < size || recv.remaining() < size) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "operand of " + size + " bytes ("
                    + descriptor + ") exceeds send.remaining() " + send.remaining() + " or recv.remaining() "
                    + recv.remaining());
        }
        if (recv.isReadOnly()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "recv buffer is read-only");
        }
    }

    /**
     * @return world size
     */
    public int worldSize() {
        return ring.length;
    }

    /**
     * @return the operation's tag
     */
    public long tag() {
        return descriptor.tag();
    }

    /**
     * Whether two buffers' operands start at the same memory (the operation then runs in place).
     *
     * @param a one buffer
     * @param b the other
     * @return true if both views start at the same address of the same memory
     */
    public static boolean sameMemory(final ByteBuffer a, final ByteBuffer b) {
        if (a == b) {
            return true;
        }
        if (a.isDirect() && b.isDirect()) {
            return PlatformDependent.hasUnsafe()
                    && PlatformDependent.directBufferAddress(a) + a.position()
                    == PlatformDependent.directBufferAddress(b) + b.position();
        }
        return a.hasArray() && b.hasArray() && a.array() == b.array()
                && a.arrayOffset() + a.position() == b.arrayOffset() + b.position();
    }
}
