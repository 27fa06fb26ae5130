package io.pccl.internal.p2p;

import io.netty.channel.Channel;

/**
 * The hook through which the ring engine takes over a {@code ROLE_P2P_DATA} connection once its handshake is done.
 * When it is called, the control codec has already been removed from the channel's pipeline; the initializer
 * adds its data-frame handlers with {@code channel.pipeline().addLast(...)}. Bytes the peer sent right after the
 * handshake are delivered to the first inbound handler added here.
 *
 * <p>Both methods run on the channel's event loop: they must only configure the pipeline, never block.
 * Ownership stays with the pools ({@link P2PConnections}).
 *
 * <p>Implementations must be thread-safe (called from several event loops).
 */
public interface DataPlaneInitializer {
    /**
     * A connection this peer dialed to its successor is ready for sending data frames.
     *
     * @param peerId the successor's peer id
     * @param connectionIndex index in the pool
     * @param poolSize the pool size
     * @param channel the channel
     */
    void initOutgoing(long peerId, int connectionIndex, int poolSize, Channel channel);

    /**
     * A connection the predecessor dialed to this peer is ready for receiving data frames.
     *
     * @param peerId the dialer's peer id (as it stated in its hello)
     * @param connectionIndex index in the dialer's pool
     * @param poolSize the dialer's pool size
     * @param channel the channel
     */
    void initIncoming(long peerId, int connectionIndex, int poolSize, Channel channel);
}
