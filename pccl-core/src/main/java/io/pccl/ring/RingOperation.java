package io.pccl.ring;

import io.pccl.PcclException;
import io.pccl.ReduceInfo;

import java.util.concurrent.CompletableFuture;

/**
 * Handle of one running ring all-reduce.
 *
 * <p>Thread-safe.
 */
public interface RingOperation {
    /**
     * @return the master-assigned operation sequence number
     */
    long seq();

    /**
     * @return the operation's tag
     */
    long tag();

    /**
     * Completes with the world size and byte counts, or exceptionally with a {@link PcclException}:
     * {@link io.pccl.PeerLostException} (retryable) when a neighbour was lost, the operation was aborted or made no
     * progress within the progress timeout; {@code PROTOCOL_VIOLATION} when the predecessor sent a frame that does
     * not fit the schedule; {@code CLOSED} when the engine closed. An in-place input is restored before the future
     * completes exceptionally. Never completes on a Netty event loop.
     *
     * @return the future
     */
    CompletableFuture<ReduceInfo> future();

    /**
     * Aborts the operation (e.g. the master's {@code CollectiveAbort}). No effect once completed.
     *
     * @param cause the failure the future completes with
     */
    void abort(PcclException cause);

    /**
     * @return payload bytes sent so far
     */
    long txBytes();

    /**
     * @return payload bytes received so far
     */
    long rxBytes();
}
