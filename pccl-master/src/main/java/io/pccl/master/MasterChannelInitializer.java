package io.pccl.master;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.LogThrottle;
import java.util.concurrent.TimeUnit;

/**
 * Builds a master control connection's pipeline (with a shared key, an {@code auth} handler comes first and leaves
 * once the connection proved the key, {@link AuthHandshake}):
 *
 * <pre>
 *  inbound:  flush -&gt; frameDecoder -&gt; protobufDecoder -&gt; idle -&gt; master
 *  outbound: master -&gt; protobufEncoder -&gt; frameEncoder -&gt; flush
 * </pre>
 *
 * {@code flush} turns the flushes of the answers to one socket read's messages into one write, and defers a
 * flush made outside a read to the end of the loop's current task, so the conductor's writes to many peers (a
 * broadcast, the heartbeats) or a throttled connection's released messages each cost one system call per
 * connection rather than one per message. {@code idle} closes a connection that sent nothing for the heartbeat
 * timeout (this also bounds how long an unregistered connection may linger); {@code master} is a
 * {@link MasterChannelHandler}.
 *
 * <p>Thread-safe (shared by all child channels; per-channel handlers are created in {@link #initChannel}).
 */
final class MasterChannelInitializer extends ChannelInitializer<SocketChannel> {
    /** Handler name of the flush consolidator. */
    static final String FLUSH = "flush";
    /** Handler name of the idle detector. */
    static final String IDLE = "idle";
    /** Handler name of the {@link MasterChannelHandler}. */
    static final String MASTER = "master";

    private final MasterConductor conductor;
    private final ChannelGroup connections;
    private final ConnectionLimits limits;
    private final ConnectionSecurity security;
    private final long authTimeoutNs;
    /** Refused handshakes (key, TLS), for the throttled WARN lines and the metrics. */
    private final LogThrottle authFailures;

    /**
     * @param security the handshakes (shared key, TLS) every connection must pass before its hello
     * @param authTimeoutNs bound of those handshakes from the connection's start
     * @param authFailures counts the refused handshakes
     */
    MasterChannelInitializer(final MasterConductor conductor, final ChannelGroup connections,
                             final ConnectionLimits limits, final ConnectionSecurity security,
                             final long authTimeoutNs, final LogThrottle authFailures) {
        this.conductor = conductor;
        this.connections = connections;
        this.limits = limits;
        this.security = security;
        this.authTimeoutNs = authTimeoutNs;
        this.authFailures = authFailures;
    }

    @Override
    protected void initChannel(final SocketChannel ch) {
        connections.add(ch);
        install(ch.pipeline(), conductor, limits);
        security.installAcceptor(ch.pipeline(), authTimeoutNs, authFailures);
    }

    /** Installs the master's handlers (also used by tests on embedded channels). */
    static void install(final ChannelPipeline p, final MasterConductor conductor, final ConnectionLimits limits) {
        p.addLast(FLUSH, new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        ControlPipeline.install(p, limits.maxFrameBytes());
        if (limits.readerIdleMs() > 0) {
            p.addLast(IDLE, new IdleStateHandler(limits.readerIdleMs(), 0, 0, TimeUnit.MILLISECONDS));
        }
        p.addLast(MASTER, new MasterChannelHandler(conductor, limits));
    }
}
