package io.pccl.internal.p2p;

import io.netty.channel.Channel;
import io.pccl.proto.Hello;

/**
 * Takes over a connection accepted on the peer port whose hello announced a role other than
 * {@code ROLE_P2P_DATA} (shared-state fetches, bandwidth benchmarks). Registered with
 * {@link PeerListener#roleHandler}.
 *
 * <p>Contract: called on the channel's event loop after the hello was validated; the control codec is still
 * installed and the listener's hello handler has been removed. The handler must answer (a {@code HelloAck} or an
 * {@code Error}), install its own pipeline handlers, and from then on owns the channel (closes it when done);
 * the listener still closes it when the communicator closes. Must not block.
 *
 * <p>Implementations must be thread-safe (called from several event loops).
 */
public interface RoleHandler {
    /**
     * A connection with this handler's role passed the hello.
     *
     * @param hello the validated hello
     * @param channel the accepted channel
     */
    void onAccepted(Hello hello, Channel channel);
}
