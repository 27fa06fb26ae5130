package io.pccl.internal.p2p;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.pccl.PcclException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.ring.tcp.PlacingRecvByteBufAllocator;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.Envelopes;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;
import io.pccl.transport.tls.TlsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The peer's single listening port. The first frame of every accepted connection must be a {@code Hello}; its role
 * decides what the connection is for:
 * <ul>
 *   <li>{@code ROLE_P2P_DATA}: validated ({@code connection_index < pool_size <= MAX_POOL_SIZE}), registered in
 *       {@link IncomingPools} at (peer_id, connection_index), answered with {@code HelloAck}, then switched to the
 *       data plane through the current {@link DataPlaneInitializer};</li>
 *   <li>{@code ROLE_SHARED_STATE}, {@code ROLE_BENCHMARK}: handed to the registered {@link RoleHandler}, or answered
 *       with {@code Error(FAILED_PRECONDITION, "... not supported")} and closed;</li>
 *   <li>anything else (no hello, wrong magic or version, unknown role, no hello within the hello timeout):
 *       {@code Error} naming the value, then close.</li>
 * </ul>
 * A connection opened while the port already has its limit of connections open (all roles, default
 * {@link #DEFAULT_MAX_CONNECTIONS}) gets {@code Error(RESOURCE_EXHAUSTED)} naming the limit and is closed unread.
 * The port is bump-allocated: {@code basePort}, {@code basePort + 1}, ... up to {@code maxAttempts} tries; base 0
 * binds an ephemeral port.
 *
 * <p>Owns the server channel and every accepted channel (closed in {@link #close()}). Thread-safe.
 */
public final class PeerListener implements AutoCloseable {
    /** Bound on one bind attempt (a local operation; only a stuck or closing event loop takes long). */
    private static final long BIND_TIMEOUT_MS = 10_000;

    /** Largest pool size a dialer may announce. */
    public static final int MAX_POOL_SIZE = 1024;
    /**
     * Default limit on connections open at once on the peer port, all roles together: room for a predecessor's
     * largest pool during a ring change (the old and the new predecessor) and fetches, and well below a process's
     * usual descriptor limit.
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 4 * MAX_POOL_SIZE;
    private static final Logger LOG = LoggerFactory.getLogger(PeerListener.class);

    private final Channel serverChannel;
    private final ChannelGroup accepted = new DefaultChannelGroup("pccl-peer-accepted", GlobalEventExecutor.INSTANCE);
    private final Map<ConnectionRole, RoleHandler> roleHandlers = new ConcurrentHashMap<>();
    private final IncomingPools incoming;
    private final LongSupplier selfId;
    private final Supplier<DataPlaneInitializer> dataPlane;
    private final long helloTimeoutNs;
    /** The handshakes (shared key, TLS) every accepted connection must pass first. */
    private final ConnectionSecurity security;
    private final ConnectionSlots slots;
    /** Which handshake rejections get a WARN line: any host that reaches the port can cause them. */
    private final LogThrottle rejections = new LogThrottle();

    private PeerListener(final Channel serverChannel, final IncomingPools incoming, final LongSupplier selfId,
                         final Supplier<DataPlaneInitializer> dataPlane, final long helloTimeoutNs,
                         final ConnectionSlots slots, final ConnectionSecurity security) {
        this.security = Objects.requireNonNull(security, "security");
        this.serverChannel = serverChannel;
        this.incoming = incoming;
        this.selfId = selfId;
        this.dataPlane = dataPlane;
        this.helloTimeoutNs = helloTimeoutNs;
        this.slots = slots;
    }

    /**
     * Binds the listener with the {@link #DEFAULT_MAX_CONNECTIONS default connection limit}; see
     * {@link #bind(EventLoopGroup, String, int, int, IncomingPools, LongSupplier, Supplier, long, int)}.
     *
     * @param group event-loop group for the server and accepted channels (not owned)
     * @param bindHost address to bind
     * @param basePort first port to try; 0 binds an ephemeral port
     * @param maxAttempts number of consecutive ports to try (at least 1)
     * @param incoming registry for incoming data connections
     * @param selfId this peer's id, read at each handshake (0 until registered)
     * @param dataPlane the current data-plane initializer, read at each handshake
     * @param helloTimeoutNs how long an accepted connection may take to send its hello
     * @return the bound listener
     * @throws PcclException {@code FAILED_PRECONDITION} naming the range if no port could be bound
     */
    public static PeerListener bind(final EventLoopGroup group, final String bindHost, final int basePort,
                                    final int maxAttempts, final IncomingPools incoming, final LongSupplier selfId,
                                    final Supplier<DataPlaneInitializer> dataPlane, final long helloTimeoutNs) {
        return bind(group, bindHost, basePort, maxAttempts, incoming, selfId, dataPlane, helloTimeoutNs,
                DEFAULT_MAX_CONNECTIONS);
    }

    /**
     * Binds the listener, bumping the port on bind failures.
     *
     * @param group event-loop group for the server and accepted channels (not owned)
     * @param bindHost address to bind
     * @param basePort first port to try; 0 binds an ephemeral port
     * @param maxAttempts number of consecutive ports to try (at least 1)
     * @param incoming registry for incoming data connections
     * @param selfId this peer's id, read at each handshake (0 until registered)
     * @param dataPlane the current data-plane initializer, read at each handshake
     * @param helloTimeoutNs how long an accepted connection may take to send its hello
     * @param maxConnections connections open at once on the port, all roles; one more gets
     *     {@code Error{ERROR_RESOURCE_EXHAUSTED}} naming the limit and is closed before anything it sends is read
     * @return the bound listener
     * @throws PcclException {@code FAILED_PRECONDITION} naming the range if no port could be bound
     */
    public static PeerListener bind(final EventLoopGroup group, final String bindHost, final int basePort,
                                    final int maxAttempts, final IncomingPools incoming, final LongSupplier selfId,
                                    final Supplier<DataPlaneInitializer> dataPlane, final long helloTimeoutNs,
                                    final int maxConnections) {
        return bind(group, bindHost, basePort, maxAttempts, incoming, selfId, dataPlane, helloTimeoutNs,
                maxConnections, ConnectionSecurity.NONE);
    }

    /**
     * Binds the listener, bumping the port on bind failures; every accepted connection must first pass the
     * deployment's handshakes (shared key, TLS; within {@code helloTimeoutNs}).
     *
     * @param security the deployment's connection security
     * @return the bound listener
     * @see #bind(EventLoopGroup, String, int, int, IncomingPools, LongSupplier, Supplier, long, int)
     */
    public static PeerListener bind(final EventLoopGroup group, final String bindHost, final int basePort,
                                    final int maxAttempts, final IncomingPools incoming, final LongSupplier selfId,
                                    final Supplier<DataPlaneInitializer> dataPlane, final long helloTimeoutNs,
                                    final int maxConnections, final ConnectionSecurity security) {
        Objects.requireNonNull(bindHost, "bindHost");
        final ConnectionSlots slots = new ConnectionSlots(maxConnections);
        // Set once the bind succeeded; before that nobody knows the port (it is reported at registration), so a
        // connection in that window is closed.
        final AtomicReference<PeerListener> self = new AtomicReference<>();
        final ServerBootstrap bootstrap = new ServerBootstrap().group(group)
                .channel(NettyTransport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        final PeerListener listener = self.get();
                        if (listener == null) {
                            ch.close();
                            return;
                        }
                        listener.initAccepted(ch);
                    }
                });
        final int attempts = basePort == 0 ? 1 : Math.max(1, maxAttempts);
        Throwable last = null;
        for (int i = 0; i < attempts; i++) {
            final int port = basePort == 0 ? 0 : basePort + i;
            if (port > 65535) {
                break;
            }
            final ChannelFuture bind = bootstrap.bind(new InetSocketAddress(bindHost, port));
            if (!bind.awaitUninterruptibly(BIND_TIMEOUT_MS)) {
                bind.channel().close();
                last = new PcclException(PcclException.Code.TIMEOUT, "bind of " + bindHost + ":" + port
                        + " did not complete within " + BIND_TIMEOUT_MS + " ms");
                continue;
            }
            if (bind.isSuccess()) {
                final PeerListener listener = new PeerListener(bind.channel(), incoming, selfId, dataPlane,
                        helloTimeoutNs, slots, security);
                self.set(listener);
                LOG.info("peer listener bound to {} ({})", bind.channel().localAddress(), NettyTransport.name());
                return listener;
            }
            last = bind.cause();
            LOG.debug("peer port {}:{} unavailable: {}", bindHost, port, last.toString());
        }
        throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "cannot bind the peer port on " + bindHost
                + ": tried " + attempts + " port(s) from " + basePort + ", last error: " + last, last);
    }

    /**
     * The bound port.
     *
     * @return the port
     */
    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /**
     * Connections accepted on the port and not yet closed, all roles together (those refused at the limit never
     * count).
     *
     * @return the number open now
     */
    public int openConnections() {
        return slots.open();
    }

    /**
     * Registers the handler for connections announcing {@code role}.
     *
     * @param role {@code ROLE_SHARED_STATE} or {@code ROLE_BENCHMARK}
     * @param handler the handler
     */
    public void roleHandler(final ConnectionRole role, final RoleHandler handler) {
        if (role != ConnectionRole.ROLE_SHARED_STATE && role != ConnectionRole.ROLE_BENCHMARK) {
            throw new IllegalArgumentException("role handlers exist only for shared-state and benchmark, got " + role);
        }
        roleHandlers.put(role, Objects.requireNonNull(handler, "handler"));
    }

    private void initAccepted(final Channel ch) {
        ControlPipeline.install(ch.pipeline());
        if (!slots.tryAcquire()) {
            final String reason = slots.limitReached("peer port");
            if (slots.countRefusal()) {
                LOG.warn("refusing connection from {}: {} ({} refused so far)", ch.remoteAddress(), reason,
                        slots.refused());
            }
            ch.pipeline().addLast("refuse", new Refuse(reason));
            return;
        }
        ch.closeFuture().addListener(f -> slots.release());
        accepted.add(ch);
        security.installAcceptor(ch.pipeline(), helloTimeoutNs, rejections);
        if (!security.encrypted()) {
            // Before the first read: ring data connections later read payloads straight into operation memory
            // (under TLS the socket holds ciphertext, so payloads come through the pipeline instead).
            PlacingRecvByteBufAllocator.install(ch);
        }
        ch.pipeline().addLast("hello", new AcceptHello());
    }

    /** Answers a connection over the limit with an Error and closes it, reading nothing. Immutable. */
    private static final class Refuse extends ChannelInboundHandlerAdapter {
        private final String reason;

        Refuse(final String reason) {
            this.reason = reason;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(Envelopes.error(ErrorCode.ERROR_RESOURCE_EXHAUSTED, reason))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Closes the server channel and every accepted channel. Idempotent. */
    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        accepted.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Reads the first frame and routes the connection. Confined to the channel's event loop. */
    private final class AcceptHello extends SimpleChannelInboundHandler<Envelope> {
        private ScheduledFuture<?> helloTimer;
        private boolean rejected;

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            helloTimer = ctx.executor().schedule(() -> reject(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION,
                    "no hello within " + TimeUnit.NANOSECONDS.toMillis(helloTimeoutNs) + " ms"),
                    helloTimeoutNs, TimeUnit.NANOSECONDS);
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx) {
            if (helloTimer != null) {
                helloTimer.cancel(false);
            }
            ctx.fireChannelInactive();
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final Envelope envelope) {
            if (helloTimer != null) {
                helloTimer.cancel(false);
            }
            if (rejected) {
                return;
            }
            final String problem = Envelopes.checkHello(envelope, null);
            if (problem != null) {
                reject(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, problem);
                return;
            }
            final Hello hello = envelope.getHello();
            switch (hello.getRole()) {
                case ROLE_P2P_DATA:
                    acceptData(ctx, hello, System.nanoTime() + helloTimeoutNs);
                    return;
                case ROLE_SHARED_STATE:
                case ROLE_BENCHMARK:
                    final RoleHandler handler = roleHandlers.get(hello.getRole());
                    if (handler == null) {
                        reject(ctx, ErrorCode.ERROR_FAILED_PRECONDITION, "connection role " + hello.getRole()
                                + " not supported by this peer");
                        return;
                    }
                    ctx.pipeline().remove(this);
                    handler.onAccepted(hello, ctx.channel());
                    return;
                default:
                    reject(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, "connection role " + hello.getRole()
                            + " not accepted on the peer port");
            }
        }

        private void acceptData(final ChannelHandlerContext ctx, final Hello hello, final long deadlineNs) {
            final int poolSize = hello.getPoolSize();
            final int index = hello.getConnectionIndex();
            if (poolSize < 1 || poolSize > MAX_POOL_SIZE || index < 0 || index >= poolSize) {
                reject(ctx, ErrorCode.ERROR_INVALID_ARGUMENT, "bad p2p pool slot: connection_index " + index
                        + ", pool_size " + poolSize + " (need 0 <= index < pool_size <= " + MAX_POOL_SIZE + ")");
                return;
            }
            final long self = selfId.getAsLong();
            if (self == 0L) {
                // The master announces a new peer to the others right after registering it, so a dial may beat
                // this peer's own processing of its RegisterResponse: answer once the id is known (bounded).
                if (System.nanoTime() - deadlineNs >= 0) {
                    reject(ctx, ErrorCode.ERROR_FAILED_PRECONDITION, "this peer has no peer id yet (not registered "
                            + "within " + TimeUnit.NANOSECONDS.toMillis(helloTimeoutNs) + " ms)");
                    return;
                }
                ctx.executor().schedule(() -> {
                    if (!rejected && ctx.channel().isActive()) {
                        acceptData(ctx, hello, deadlineNs);
                    }
                }, 1, TimeUnit.MILLISECONDS);
                return;
            }
            final long peerId = hello.getPeerId();
            if (peerId == 0L || peerId == self) {
                reject(ctx, ErrorCode.ERROR_INVALID_ARGUMENT, "p2p data hello names peer id " + peerId
                        + (peerId == 0L ? ", which the master never assigns" : ", this peer's own id"));
                return;
            }
            final Channel ch = ctx.channel();
            if (!incoming.register(peerId, index, poolSize, ch, TlsConfig.otherSideSubject(ch))) {
                reject(ctx, ErrorCode.ERROR_UNAUTHENTICATED, "this connection presented the TLS certificate "
                        + TlsConfig.describeOtherSide(ch) + ", not one of the subject peer " + peerId
                        + " registered with at the master");
                return;
            }
            // Encoded synchronously on this event loop, before the encoders are removed below.
            ctx.writeAndFlush(Envelopes.helloAck(self));
            final DataPlaneInitializer init = dataPlane.get();
            DataPlane.switchToData(ctx.pipeline(), this, () -> init.initIncoming(peerId, index, poolSize, ch));
            LOG.debug("incoming p2p connection {}/{} from peer {} at {}", index, poolSize, peerId,
                    ch.remoteAddress());
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            if (cause instanceof IOException && !rejected) {
                // A socket error, not bad bytes (decoders wrap theirs in a DecoderException): the dialer went away
                // before its hello, as a bandwidth probe's other streams do when one was refused as busy.
                rejected = true;
                LOG.debug("connection from {} ended before its hello: {}", ctx.channel().remoteAddress(), cause);
                ctx.close();
                return;
            }
            reject(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, "malformed hello: " + cause.getMessage());
        }

        private void reject(final ChannelHandlerContext ctx, final ErrorCode code, final String reason) {
            if (rejected) {
                return;
            }
            rejected = true;
            if (rejections.count()) {
                LOG.warn("rejecting connection from {}: {} (rejection #{}; #1, #2, #4, ... are logged at WARN)",
                        ctx.channel().remoteAddress(), reason, rejections.events());
            } else {
                LOG.debug("rejecting connection from {}: {}", ctx.channel().remoteAddress(), reason);
            }
            if (ctx.channel().isActive()) {
                ctx.writeAndFlush(Envelopes.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
        }
    }
}
