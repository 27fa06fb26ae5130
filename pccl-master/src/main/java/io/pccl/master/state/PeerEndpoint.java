package io.pccl.master.state;

/**
 * Where a peer can be reached: its master-assigned id, the address the master sees it at and its listen port.
 *
 * <p>Thread-safe (immutable).
 *
 * @param peerId master-assigned peer id, {@code >= 1}
 * @param host address the master sees the peer's control connection come from
 * @param port the peer's single listen port
 */
public record PeerEndpoint(long peerId, String host, int port) {
}
