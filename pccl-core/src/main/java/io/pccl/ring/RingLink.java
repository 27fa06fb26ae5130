package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.pccl.PcclException;

/**
 * One connection from this peer to its ring successor, as the engine sees it: a frame sink with backpressure,
 * an ordering fence and failure notification. Frames sent on one link arrive in order.
 *
 * <p>Implementations are thread-safe: {@link #trySend} is called from engine threads, listeners may be called
 * from any thread and must not block.
 */
public interface RingLink {
    /** {@link #trySend} result: the frame was accepted (queued or written). */
    int SEND_OK = 0;
    /** {@link #trySend} result: the link is closed; the operation must fail. The payload was released. */
    int SEND_CLOSED = -1;

    /**
     * Queues one data frame (header built from the arguments, then {@code payload}). Accepts the frame even when
     * the link is not writable; producers are expected to check {@link #isWritable()} first.
     *
     * @param seq operation sequence number
     * @param tag operation tag
     * @param stage {@code DataFrameFlyweight.STAGE_*}
     * @param step ring step
     * @param chunkIndex chunk index
     * @param chunkOffsetBytes payload offset within the chunk
     * @param payload the payload; ownership passes to the link in every case (it releases it once written,
     *                copied or discarded)
     * @return {@link #SEND_OK} or {@link #SEND_CLOSED}
     */
    int trySend(long seq, long tag, int stage, int step, int chunkIndex, long chunkOffsetBytes, ByteBuf payload);

    /**
     * Whether the producer may queue more frames. When this turns true again every listener gets
     * {@link Listener#onLinkWritable()}.
     *
     * @return false while the link's outbound buffer is above its high-water mark
     */
    boolean isWritable();

    /**
     * Calls {@code listener} once every payload previously accepted by {@link #trySend} on this link has been
     * written to the network (or copied), or discarded because the link failed.
     *
     * @param listener the callback; may be called on any thread, possibly before this method returns
     */
    void fence(FenceListener listener);

    /**
     * Registers a listener for writability and failure. A listener added to a failed link is told at once.
     *
     * @param listener the listener
     */
    void addListener(Listener listener);

    /**
     * Removes a listener added with {@link #addListener}.
     *
     * @param listener the listener
     */
    void removeListener(Listener listener);

    /** Callbacks from a link. Called on any thread; must not block or throw. */
    interface Listener {
        /** The link became writable again. */
        void onLinkWritable();

        /**
         * The link failed (successor lost); it stays failed.
         *
         * @param cause why, usually a {@link io.pccl.PeerLostException}
         */
        void onLinkFailed(PcclException cause);
    }

    /** Completion of a {@link #fence}. Called on any thread; must not block or throw. */
    interface FenceListener {
        /**
         * Everything sent before the fence has left this peer's memory.
         *
         * @param written true when it was all written, false when the link failed first
         */
        void onFenced(boolean written);
    }
}
