package io.pccl.state.internal;

import io.netty.channel.Channel;
import java.net.SocketAddress;

/**
 * Watches the progress of shared-state fetches (diagnostics and fault-injection tests): called on the fetch
 * connection's event loop after each read that delivered entry bytes. It must not block; it may change the
 * channel's configuration (e.g. pause reading with {@code setAutoRead(false)}).
 *
 * <p>Implementations must be thread-safe (called from several event loops).
 */
public interface FetchObserver {
    /**
     * Entry bytes arrived.
     *
     * @param channel the fetch connection
     * @param distributor where the bytes come from
     * @param received entry bytes received so far on this connection
     * @param expected entry bytes the distributor announced
     */
    void onBytes(Channel channel, SocketAddress distributor, long received, long expected);
}
