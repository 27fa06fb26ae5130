package io.pccl.internal.master;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.pccl.MasterLostException;
import io.pccl.PcclException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.Heartbeat;
import io.pccl.proto.RegisterRequest;
import io.pccl.proto.RegisterResponse;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.Envelopes;
import io.pccl.transport.PauseTolerantClock;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.auth.AuthenticationFailedException;
import io.pccl.transport.netty.NettyTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A peer's control connection to the master: TCP connect, {@code Hello(ROLE_PEER_TO_MASTER)} → {@code HelloAck},
 * registration, heartbeats every {@code heartbeatIntervalNs}, and liveness: if nothing is heard from the master for
 * {@code heartbeatTimeoutNs}, or the channel closes, the {@link MasterDispatcher} fails with a
 * {@link MasterLostException} (an {@code Error} envelope fails it with the master's code and reason instead), so
 * every pending and later call fails in bounded time.
 *
 * <p>The connection owns its channel and closes it in {@link #close()}; the event-loop group belongs to the
 * caller. Thread-safe: {@link #send} may be called from any thread, inbound traffic is confined to the channel's
 * event loop and handed to callers only through the dispatcher.
 */
public final class MasterConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MasterConnection.class);
    /** Upper bound of the TCP connect itself, so an unreachable master fails fast even with a long accept wait. */
    private static final long MAX_TCP_CONNECT_MS = 10_000L;

    private final EventLoopGroup group;
    private final InetSocketAddress address;
    private final String addressText;
    private final long heartbeatIntervalNs;
    private final long heartbeatTimeoutNs;
    private final MasterDispatcher dispatcher = new MasterDispatcher();
    private volatile Channel channel;
    private volatile ConnectionSecurity security = ConnectionSecurity.NONE;
    /**
     * Judges the master's silence. Confined to the channel's event loop: a peer paused (a long GC pause) must not
     * declare the master lost before it read the heartbeats waiting in its socket.
     */
    private final PauseTolerantClock clock;
    private volatile long lastHeardNs;
    private volatile long peerId;
    private volatile boolean closed;
    // Confined to the channel's event loop: whether a RegisterResponse was received.
    private boolean registered;

    /**
     * Creates an unconnected master connection.
     *
     * @param group the communicator's event-loop group (not owned)
     * @param address the master's address
     * @param heartbeatIntervalNs how often to send a heartbeat
     * @param heartbeatTimeoutNs silence after which the master counts as lost
     */
    public MasterConnection(final EventLoopGroup group, final InetSocketAddress address,
                            final long heartbeatIntervalNs, final long heartbeatTimeoutNs) {
        this.group = Objects.requireNonNull(group, "group");
        this.address = Objects.requireNonNull(address, "address");
        this.addressText = address.getHostString() + ":" + address.getPort();
        this.heartbeatIntervalNs = heartbeatIntervalNs;
        this.heartbeatTimeoutNs = heartbeatTimeoutNs;
        // Read on every message and every heartbeat interval.
        this.clock = new PauseTolerantClock(System::nanoTime,
                PauseTolerantClock.maxStepNs(heartbeatIntervalNs, heartbeatTimeoutNs));
    }

    /**
     * The dispatcher inbound envelopes go to.
     *
     * @return the dispatcher
     */
    public MasterDispatcher dispatcher() {
        return dispatcher;
    }

    /**
     * The master's address as {@code host:port}, for messages.
     *
     * @return the address text
     */
    public String addressText() {
        return addressText;
    }

    /**
     * The id the master assigned, as soon as the registration response was read (on the event loop, before the
     * registering thread returns from {@link #register}).
     *
     * @return the peer id, 0 before registration
     */
    public long peerId() {
        return peerId;
    }

    /**
     * The local address of the control connection (the address the master sees, unless NAT intervenes).
     *
     * @return the local socket address, or null when not connected
     */
    public InetSocketAddress localAddress() {
        final Channel ch = channel;
        return ch == null ? null : (InetSocketAddress) ch.localAddress();
    }

    /**
     * Opens the connection as the deployment requires (shared key, TLS) before its hello; call before
     * {@link #open}.
     *
     * @param security the deployment's connection security
     */
    public void security(final ConnectionSecurity security) {
        this.security = Objects.requireNonNull(security, "security");
    }

    /**
     * Connects and performs the hello handshake. Blocks up to {@code timeoutNs}.
     *
     * @param timeoutNs the bound
     * @throws MasterLostException if the master cannot be reached or does not answer the hello in time
     * @throws PcclException the master's error if it refused the hello
     */
    public void open(final long timeoutNs) {
        final ConnectionSecurity sec = security;
        final long deadline = System.nanoTime() + timeoutNs;
        final long tcpMs = Math.max(1L, Math.min(MAX_TCP_CONNECT_MS, TimeUnit.NANOSECONDS.toMillis(timeoutNs)));
        final Bootstrap bootstrap = new Bootstrap().group(group).channel(NettyTransport.channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) tcpMs)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        ControlPipeline.install(ch.pipeline());
                        ch.pipeline().addLast("master", new Handler());
                        sec.installDialer(ch.pipeline(), "master at " + addressText, timeoutNs);
                    }
                });
        final ChannelFuture connect = bootstrap.connect(address);
        if (!connect.awaitUninterruptibly(tcpMs + 1_000L, TimeUnit.MILLISECONDS)) {
            connect.cancel(false);
            connect.channel().close();
            throw new MasterLostException("cannot connect to master at " + addressText + ": no answer within "
                    + tcpMs + " ms");
        }
        if (!connect.isSuccess()) {
            throw new MasterLostException("cannot connect to master at " + addressText + ": "
                    + connect.cause().getMessage(), connect.cause());
        }
        channel = connect.channel();
        if (closed) {
            channel.close();
            throw new PcclException(PcclException.Code.CLOSED, "communicator closed while connecting to master at "
                    + addressText);
        }
        send(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0L, 0, 0));
        final Envelope ack = awaitMaster(Envelope.BodyCase.HELLO_ACK, deadline - System.nanoTime(),
                "hello-ack from master at " + addressText);
        LOG.debug("master {}: hello acknowledged, protocol version {}", addressText,
                ack.getHelloAck().getProtocolVersion());
        channel.eventLoop().execute(this::startHeartbeats);
    }

    /**
     * Registers this peer. Blocks up to {@code timeoutNs}.
     *
     * @param listenPort the peer's listening port
     * @param peerGroup the peer group
     * @param timeoutNs the bound
     * @return the peer id the master assigned
     * @throws PcclException the master's refusal (code and reason), or {@link MasterLostException}
     */
    public long register(final int listenPort, final int peerGroup, final long timeoutNs) {
        send(Envelope.newBuilder().setRegisterRequest(RegisterRequest.newBuilder()
                .setListenPort(listenPort).setPeerGroup(peerGroup)).build());
        final RegisterResponse response = awaitMaster(Envelope.BodyCase.REGISTER_RESPONSE, timeoutNs,
                "registration response from master at " + addressText).getRegisterResponse();
        if (!response.getAccepted()) {
            final PcclException e = ErrorCodes.fromRejection(addressText, response.getCode(), response.getReason());
            dispatcher.fail(e);
            close();
            throw e;
        }
        peerId = response.getPeerId();
        return peerId;
    }

    /**
     * Waits for an envelope, mapping a timeout to {@link MasterLostException} (the master did not answer).
     */
    private Envelope awaitMaster(final Envelope.BodyCase kind, final long timeoutNs, final String what) {
        try {
            return dispatcher.await(kind, timeoutNs, what);
        } catch (PcclException e) {
            if (e.code() == PcclException.Code.TIMEOUT) {
                final MasterLostException lost = new MasterLostException(e.getMessage(), e);
                dispatcher.fail(lost);
                close();
                throw lost;
            }
            throw e;
        }
    }

    /**
     * Sends an envelope. A failed write fails the dispatcher.
     *
     * @param envelope the envelope
     * @throws PcclException the dispatcher's failure if the connection is already lost
     */
    public void send(final Envelope envelope) {
        final PcclException failure = dispatcher.failure();
        if (failure != null) {
            throw failure;
        }
        final Channel ch = channel;
        if (ch == null) {
            throw new IllegalStateException("master connection not open");
        }
        ch.writeAndFlush(envelope).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                lost("write to master at " + addressText + " failed: " + f.cause(), f.cause());
            }
        });
    }

    private void startHeartbeats() {
        final Channel ch = channel;
        final ScheduledFuture<?> task = ch.eventLoop().scheduleAtFixedRate(this::onHeartbeatTick,
                heartbeatIntervalNs, heartbeatIntervalNs, TimeUnit.NANOSECONDS);
        ch.closeFuture().addListener(f -> task.cancel(false));
    }

    /** Runs on the event loop every heartbeat interval. */
    private void onHeartbeatTick() {
        final long silentNs = clock.getAsLong() - lastHeardNs;
        if (silentNs > heartbeatTimeoutNs) {
            lost("heard nothing from master at " + addressText + " for " + TimeUnit.NANOSECONDS.toMillis(silentNs)
                    + " ms (heartbeatTimeout " + TimeUnit.NANOSECONDS.toMillis(heartbeatTimeoutNs) + " ms)", null);
            return;
        }
        channel.writeAndFlush(Envelope.newBuilder().setHeartbeat(
                Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis())).build());
    }

    /** The master broke the protocol: fails pending and later calls with {@code PROTOCOL_VIOLATION}, closes. */
    private void violation(final ChannelHandlerContext ctx, final String message) {
        if (dispatcher.fail(new PcclException(PcclException.Code.PROTOCOL_VIOLATION, message)) && !closed) {
            LOG.warn("peer {}: {}", peerId, message);
        }
        ctx.close();
    }

    private void lost(final String message, final Throwable cause) {
        if (dispatcher.fail(new MasterLostException(message, cause)) && !closed) {
            LOG.warn("peer {}: {}", peerId, message);
        }
        final Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    /** Closes the channel and fails pending calls with {@code CLOSED}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        dispatcher.fail(new PcclException(PcclException.Code.CLOSED, "communicator closed (master connection to "
                + addressText + ")"));
        final Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    /** Inbound end of the master channel's pipeline. Confined to the channel's event loop. */
    private final class Handler extends SimpleChannelInboundHandler<Envelope> {
        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            lastHeardNs = clock.getAsLong();
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final Envelope envelope) {
            lastHeardNs = clock.getAsLong();
            switch (envelope.getBodyCase()) {
                case HEARTBEAT:
                    return;
                case ERROR:
                    final PcclException e = ErrorCodes.fromMasterError(addressText, peerId,
                            envelope.getError().getCode(), envelope.getError().getReason());
                    if (dispatcher.fail(e)) {
                        LOG.warn("peer {}: {}", peerId, e.getMessage());
                    }
                    ctx.close();
                    return;
                case REGISTER_RESPONSE:
                    if (registered) {
                        // An id is assigned once: a master that answers again is broken (or not a master), and
                        // adopting a second id would make this peer answer for another one.
                        violation(ctx, "master at " + addressText + " sent a second RegisterResponse (peer id "
                                + envelope.getRegisterResponse().getPeerId() + ") after registering this peer as "
                                + peerId);
                        return;
                    }
                    registered = true;
                    // Published before the registering thread wakes up: a peer told about this one by the master
                    // may dial it at once, and the hello-ack must already carry the assigned id.
                    if (envelope.getRegisterResponse().getAccepted()) {
                        peerId = envelope.getRegisterResponse().getPeerId();
                    }
                    dispatcher.deliver(envelope);
                    return;
                default:
                    dispatcher.deliver(envelope);
            }
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx) {
            lost("connection to master at " + addressText + " closed", null);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            if (cause instanceof AuthenticationFailedException) {
                // Not a lost master: the configuration differs, and reconnecting cannot help.
                dispatcher.fail(new PcclException(PcclException.Code.UNAUTHENTICATED, cause.getMessage(), cause));
                ctx.close();
                return;
            }
            lost("connection to master at " + addressText + " failed: " + cause, cause);
        }
    }
}
