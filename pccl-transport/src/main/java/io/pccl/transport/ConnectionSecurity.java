package io.pccl.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.pccl.transport.auth.AuthHandshake;
import io.pccl.transport.auth.SharedKey;
import io.pccl.transport.tls.TlsConfig;

import javax.security.auth.x500.X500Principal;

/**
 * How a deployment's connections open: with the shared-key handshake ({@link AuthHandshake}), with mutual TLS
 * ({@link TlsConfig}), with both (the key is proved inside TLS), or plain. One value serves every connection kind
 * of a process, dialed and accepted, so they cannot drift apart; install it first, before the protocol's handlers
 * are added or when they are.
 *
 * <p>Thread-safe (immutable).
 */
public final class ConnectionSecurity {
    /** Plain connections: no key, no TLS. */
    public static final ConnectionSecurity NONE = new ConnectionSecurity(null, null);

    private final SharedKey key;
    private final TlsConfig tls;

    private ConnectionSecurity(final SharedKey key, final TlsConfig tls) {
        this.key = key;
        this.tls = tls;
    }

    /**
     * @param key the shared key, or null for none
     * @param tls the TLS configuration, or null for none
     * @return the security
     */
    public static ConnectionSecurity of(final SharedKey key, final TlsConfig tls) {
        return key == null && tls == null ? NONE : new ConnectionSecurity(key, tls);
    }

    /**
     * @return the shared key, or null
     */
    public SharedKey key() {
        return key;
    }

    /**
     * @return the TLS configuration, or null
     */
    public TlsConfig tls() {
        return tls;
    }

    /**
     * Whether bytes on the wire are encrypted. Reading a payload straight from the socket into its destination is
     * then impossible (the socket holds ciphertext), so the data plane reads through the pipeline.
     *
     * @return whether TLS is on
     */
    public boolean encrypted() {
        return tls != null;
    }

    /**
     * Installs this side's part of a dialed connection's handshakes at the front of its pipeline: TLS, then the key
     * inside it. A failure reaches the handlers behind as an
     * {@link io.pccl.transport.auth.AuthenticationFailedException}, and the channel closes.
     *
     * @param pipeline the new channel's pipeline
     * @param remote names the other side in messages, e.g. "master at 10.0.0.1:48148"
     * @param handshakeTimeoutNs the TLS handshake's bound
     */
    public void installDialer(final ChannelPipeline pipeline, final String remote, final long handshakeTimeoutNs) {
        installDialer(pipeline, remote, handshakeTimeoutNs, null);
    }

    /**
     * {@link #installDialer(ChannelPipeline, String, long)} for a connection to a peer: with TLS, the other side
     * must present a certificate of the subject the master reported for that peer
     * ({@link TlsConfig#installDialer(ChannelPipeline, String, long, X500Principal)}).
     *
     * @param pipeline the new channel's pipeline
     * @param remote names the other side in messages, e.g. "peer 3 at 10.0.0.7:48150"
     * @param handshakeTimeoutNs the TLS handshake's bound
     * @param expectedSubject the peer's certificate subject as the master reported it; null for none (no TLS, or a
     *        master that did not report one)
     */
    public void installDialer(final ChannelPipeline pipeline, final String remote, final long handshakeTimeoutNs,
                              final X500Principal expectedSubject) {
        if (key != null) {
            AuthHandshake.installInitiator(pipeline, key, remote);
        }
        if (tls != null) {
            tls.installDialer(pipeline, remote, handshakeTimeoutNs, expectedSubject);
        }
    }

    /**
     * Installs this side's part of an accepted connection's handshakes at the front of its pipeline. A connection
     * that fails them is answered (where the protocol allows) and closed, and never reaches the handlers behind.
     *
     * @param pipeline the new channel's pipeline
     * @param timeoutNs the handshakes' bound from the connection's start
     * @param failures counts this server's refused connections for its throttled log lines
     */
    public void installAcceptor(final ChannelPipeline pipeline, final long timeoutNs, final LogThrottle failures) {
        if (key != null) {
            AuthHandshake.installResponder(pipeline, key, timeoutNs, failures);
        }
        if (tls != null) {
            tls.installAcceptor(pipeline, timeoutNs, failures);
        }
    }

    /**
     * Adds {@code handler} as close to the socket as plain bytes go: right behind the TLS handler when there is one,
     * else first.
     *
     * @param pipeline the pipeline
     * @param name the handler's name
     * @param handler the handler
     */
    public static void addFirstPlain(final ChannelPipeline pipeline, final String name, final ChannelHandler handler) {
        if (pipeline.get(TlsConfig.HANDLER_NAME) != null) {
            pipeline.addAfter(TlsConfig.HANDLER_NAME, name, handler);
        } else {
            pipeline.addFirst(name, handler);
        }
    }

    @Override
    public String toString() {
        return "ConnectionSecurity{key=" + (key != null) + ", tls=" + tls + "}";
    }
}
