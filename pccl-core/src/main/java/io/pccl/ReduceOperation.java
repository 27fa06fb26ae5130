package io.pccl;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One all-reduce of a batch run by {@link Communicator#allReduceMultipleWithRetry}: the same inputs as
 * {@link Communicator#allReduce(ByteBuffer, ByteBuffer, ReduceDescriptor)}.
 *
 * <p>Immutable apart from the buffers, which belong to the caller and must not be touched while the batch runs;
 * thread-safe to pass between threads.
 *
 * @param send input buffer (the operand starts at its position)
 * @param recv output buffer; {@code send} itself for an in-place operation
 * @param descriptor count, type, op and tag; tags must differ within a batch
 * @since 0.1
 */
public record ReduceOperation(ByteBuffer send, ByteBuffer recv, ReduceDescriptor descriptor) {
    /**
     * Checks for nulls.
     *
     * @throws NullPointerException naming the missing component
     */
    public ReduceOperation {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(recv, "recv");
        Objects.requireNonNull(descriptor, "descriptor");
    }
}
