package io.pccl.internal.p2p;

import io.netty.channel.Channel;

/**
 * What the ring engine sees of the peer-to-peer connections: the outgoing pool to the ring successor (the engine
 * sends on it) and the incoming pool from the ring predecessor (the engine receives on it). A collective with
 * master sequence number {@code seq} uses {@code outgoing(successor())[seq % length]} and
 * {@code incoming(predecessor())[seq % length]}; both sides get the same index because an incoming pool has the
 * dialer's pool size.
 *
 * <p>Ownership: every channel returned here stays owned by the communicator (the pools close them on topology
 * changes and on close); the engine must not close them, it only reads and writes. The arrays are snapshots
 * replaced (never mutated) on changes; callers must not modify them.
 *
 * <p>Thread-safe.
 */
public interface P2PConnections {
    /** Returned by {@link #successor()} and {@link #predecessor()} when the ring has no other peer. */
    long NO_PEER = -1L;

    /**
     * The ring successor adopted at the last establishment.
     *
     * @return the successor's peer id, or {@link #NO_PEER}
     */
    long successor();

    /**
     * The ring predecessor adopted at the last establishment.
     *
     * @return the predecessor's peer id, or {@link #NO_PEER}
     */
    long predecessor();

    /**
     * The outgoing pool to {@code peerId}, indexed by connection index.
     *
     * @param peerId the peer
     * @return the channels (length = {@code connectionsPerPeer}), or an empty array when there is no pool
     */
    Channel[] outgoing(long peerId);

    /**
     * The incoming pool from {@code peerId}, indexed by the dialer's connection index. Entries are null for
     * indexes not (or no longer) connected.
     *
     * @param peerId the peer
     * @return the channels (length = the dialer's pool size), or an empty array when there is no pool
     */
    Channel[] incoming(long peerId);
}
