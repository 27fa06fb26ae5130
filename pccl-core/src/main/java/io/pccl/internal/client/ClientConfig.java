package io.pccl.internal.client;

import io.pccl.transport.ConnectionSecurity;

import java.net.InetSocketAddress;

/**
 * Validated settings of one communicator, built by {@code Communicator.Builder}.
 *
 * <p>Thread-safe (immutable).
 *
 * @param master the master's address
 * @param peerGroup the peer group
 * @param connectionsPerPeer connections per outgoing p2p pool
 * @param peerBasePort first peer port tried (0 = ephemeral)
 * @param peerPortAttempts consecutive ports tried from the base
 * @param bindHost address the peer port binds to
 * @param connectTimeoutNs bound of {@code connect()} (including the wait for acceptance)
 * @param topologyTimeoutNs bound of {@code updateTopology()} and {@code arePeersPending()}
 * @param p2pHandshakeTimeoutNs bound of dialing one pool (and of an inbound hello)
 * @param heartbeatIntervalNs heartbeat period on the master connection
 * @param heartbeatTimeoutNs master silence after which it counts as lost
 * @param ioThreads event-loop threads
 * @param security how every connection opens: shared key, TLS, both or neither
 */
public record ClientConfig(InetSocketAddress master, int peerGroup, int connectionsPerPeer, int peerBasePort,
                           int peerPortAttempts, String bindHost, long connectTimeoutNs, long topologyTimeoutNs,
                           long p2pHandshakeTimeoutNs, long heartbeatIntervalNs, long heartbeatTimeoutNs,
                           int ioThreads, ConnectionSecurity security) {
}
