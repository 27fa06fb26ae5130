package io.pccl.ring;

/**
 * Receive-side flow control: whoever finally consumes or drops a routed frame returns its bytes to the credit it
 * came with, so the connection that read it can resume reading once the receiver caught up (see
 * {@link io.pccl.ring.tcp.DataFrameInboundHandler}).
 *
 * <p>Implementations are thread-safe and never block: {@link #release} is called from engine threads and event
 * loops.
 */
@FunctionalInterface
public interface FrameCredit {
    /** A credit that accounts nothing (in-memory transports, tests). */
    FrameCredit NONE = bytes -> { };

    /**
     * The frame was consumed or dropped.
     *
     * @param frameBytes the frame's readable bytes (header + payload) when it was routed
     */
    void release(int frameBytes);
}
