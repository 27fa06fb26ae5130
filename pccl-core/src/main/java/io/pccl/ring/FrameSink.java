package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.pccl.PcclException;

/**
 * Receives the data frames of one operation from the {@link InboundRouter}.
 *
 * <p>Implementations are thread-safe: methods are called on transport threads (event loops) and must neither
 * block nor throw.
 */
public interface FrameSink {
    /**
     * One frame of this operation, in the order the predecessor sent it.
     *
     * @param frame header + payload ({@code DataFrameFlyweight} layout) at the reader index, possibly a composite
     *              of several buffers; ownership passes to the sink, which must release it
     * @param credit the sink calls {@code credit.release(bytes)} with the frame's readable bytes once it consumed
     *               or dropped the frame (any thread)
     */
    void onFrame(ByteBuf frame, FrameCredit credit);

    /**
     * The predecessor was lost; no more frames will come.
     *
     * @param cause why
     */
    void onInboundFailed(PcclException cause);

    /**
     * Offers to read the payload of the frame whose (complete, validated) header is given straight into this
     * operation's memory. Called on a transport thread while the router's lock is held, before any payload byte was
     * read; if a buffer is returned, the frame is later delivered to {@link #onFrame} as a bare header flagged
     * {@code FLAG_PLACED}, after the payload was written into that buffer.
     *
     * @param header the frame's header at its reader index
     * @return a buffer with exactly the payload length writable from index 0 (a reference the caller owns), or
     *         null to receive the frame normally
     */
    default ByteBuf placement(final ByteBuf header) {
        return null;
    }

    /**
     * A placement this operation cancelled by unregistering is over: its connection will not write into the
     * operation's memory again. Called on any thread, under the router's lock; must only enqueue.
     */
    default void onPlacementReleased() {
    }

    /**
     * Called on the transport thread that read a placed frame, right after {@link #onFrame} took its bare header,
     * with the router's lock released: the sink may do the frame's work here, while the payload this thread just
     * wrote is still in its cache, instead of waking another thread for it. Must not block.
     */
    default void afterPlacedFrame() {
    }
}
