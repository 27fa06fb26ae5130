package io.pccl.ring;

/**
 * What the ring engine needs from the network for one ring topology: links to the successor (a pool of
 * connections, operation {@code seq} uses connection {@code seq mod poolSize}) and the router that delivers the
 * predecessor's frames. A transport is bound to one ring; once a neighbour is lost it stays failed and the caller
 * builds a new one after the topology update.
 *
 * <p>Implementations are thread-safe.
 */
public interface RingTransport {
    /**
     * Number of connections to the successor.
     *
     * @return pool size, {@code >= 1}
     */
    int poolSize();

    /**
     * The successor link an operation uses.
     *
     * @param seq the operation's sequence number
     * @return connection {@code Long.remainderUnsigned(seq, poolSize())}
     */
    RingLink successor(long seq);

    /**
     * The router of frames arriving from the predecessor.
     *
     * @return the router, never null
     */
    InboundRouter inbound();

    /**
     * Pool index an operation's frames use; both ends compute the same value.
     *
     * @param seq the operation's sequence number
     * @param poolSize connections per neighbour pair
     * @return {@code seq mod poolSize}, treating {@code seq} as unsigned
     */
    static int connectionIndex(final long seq, final int poolSize) {
        return (int) Long.remainderUnsigned(seq, poolSize);
    }
}
