package io.pccl.internal.p2p;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.pccl.PcclException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.PeerEndpoint;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.Envelopes;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.security.auth.x500.X500Principal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * The peer-to-peer connection pools of one communicator. {@link #establish} applies a ring from the master: it
 * keeps a healthy outgoing pool to a successor that stays the successor, closes outgoing pools to every other peer
 * and incoming pools from every peer but the predecessor, and dials {@code poolSize} {@code ROLE_P2P_DATA}
 * connections (hello → hello-ack, bounded) to a new successor.
 *
 * <p>Ownership: outgoing channels belong to this object (closed on ring changes and in {@link #close()}); incoming
 * channels belong to the {@link IncomingPools} it shares with the {@link PeerListener}. The event-loop group is
 * not owned.
 *
 * <p>Thread-safe; {@link #establish} is called by one thread at a time (the communicator serializes membership
 * calls) and blocks only the calling thread, never an event loop.
 */
public final class P2PPools implements P2PConnections, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(P2PPools.class);
    private static final Channel[] NONE = new Channel[0];

    private final Bootstrap bootstrap;
    private final IncomingPools incoming;
    private final int poolSize;
    private final LongSupplier selfId;
    private final Map<Long, Pool> outgoing = new ConcurrentHashMap<>();
    private volatile DataPlaneInitializer dataPlane = DataPlane.DISCARDING;
    private volatile ConnectionSecurity security = ConnectionSecurity.NONE;
    private volatile long successor = NO_PEER;
    private volatile long predecessor = NO_PEER;

    /**
     * Creates the pools.
     *
     * @param group event-loop group for dialed channels (not owned)
     * @param incoming the registry the listener fills
     * @param poolSize connections per outgoing pool, {@code 1..PeerListener.MAX_POOL_SIZE}
     * @param selfId this peer's id, read when dialing
     */
    public P2PPools(final EventLoopGroup group, final IncomingPools incoming, final int poolSize,
                    final LongSupplier selfId) {
        if (poolSize < 1 || poolSize > PeerListener.MAX_POOL_SIZE) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "connectionsPerPeer " + poolSize
                    + " out of range 1.." + PeerListener.MAX_POOL_SIZE);
        }
        this.bootstrap = new Bootstrap().group(Objects.requireNonNull(group, "group"))
                .channel(NettyTransport.channelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
        this.incoming = Objects.requireNonNull(incoming, "incoming");
        this.poolSize = poolSize;
        this.selfId = selfId;
    }

    /**
     * Sets the data-plane initializer used for connections handshaken from now on (set it before connecting).
     *
     * @param initializer the initializer
     */
    public void dataPlaneInitializer(final DataPlaneInitializer initializer) {
        this.dataPlane = Objects.requireNonNull(initializer, "initializer");
    }

    /**
     * Opens every connection dialed from now on as the deployment requires (shared key, TLS).
     *
     * @param security the deployment's connection security
     */
    public void security(final ConnectionSecurity security) {
        this.security = Objects.requireNonNull(security, "security");
    }

    /**
     * The current data-plane initializer.
     *
     * @return the initializer
     */
    public DataPlaneInitializer dataPlaneInitializer() {
        return dataPlane;
    }

    @Override
    public long successor() {
        return successor;
    }

    @Override
    public long predecessor() {
        return predecessor;
    }

    @Override
    public Channel[] outgoing(final long peerId) {
        final Pool pool = outgoing.get(peerId);
        return pool == null ? NONE : pool.channels;
    }

    @Override
    public Channel[] incoming(final long peerId) {
        return incoming.pool(peerId);
    }

    /**
     * Applies a ring: connects to the successor, drops connections to peers that are no longer neighbours.
     *
     * @param ring the ring in order; must contain {@code self}
     * @param self this peer's id
     * @param timeoutNs bound for dialing and all handshakes
     * @return the peers that could not be reached (empty on success)
     * @throws PcclException {@code PROTOCOL_VIOLATION} if {@code self} is not in the ring
     */
    public List<Long> establish(final List<PeerEndpoint> ring, final long self, final long timeoutNs) {
        int at = -1;
        for (int i = 0; i < ring.size(); i++) {
            if (ring.get(i).getPeerId() == self) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "ring of " + ring.size()
                    + " peers from the master does not contain this peer " + self);
        }
        final int n = ring.size();
        final PeerEndpoint next = n > 1 ? ring.get((at + 1) % n) : null;
        final PeerEndpoint before = n > 1 ? ring.get((at - 1 + n) % n) : null;
        final long prev = before == null ? NO_PEER : before.getPeerId();
        final long nextId = next == null ? NO_PEER : next.getPeerId();
        for (Map.Entry<Long, Pool> e : outgoing.entrySet()) {
            final Pool pool = e.getValue();
            if (e.getKey() != nextId || !pool.healthy(next)) {
                LOG.debug("peer {}: closing outgoing pool to peer {}", self, e.getKey());
                outgoing.remove(e.getKey(), pool);
                IncomingPools.closeAll(pool.channels);
            }
        }
        incoming.retainOnly(prev, before == null ? null : subjectOf(before));
        predecessor = prev;
        successor = nextId;
        if (next == null || outgoing.containsKey(nextId)) {
            return Collections.emptyList();
        }
        final Pool pool = dial(next, self, timeoutNs);
        if (pool == null) {
            return Collections.singletonList(nextId);
        }
        outgoing.put(nextId, pool);
        return Collections.emptyList();
    }

    /** Dials a whole pool; returns null (after closing what was opened) if any connection fails. */
    private Pool dial(final PeerEndpoint to, final long self, final long timeoutNs) {
        final long deadline = System.nanoTime() + timeoutNs;
        final int connectMs = (int) Math.max(1L, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(timeoutNs)));
        final List<CompletableFuture<Channel>> handshakes = new ArrayList<>(poolSize);
        final List<Channel> opened = new ArrayList<>(poolSize);
        for (int i = 0; i < poolSize; i++) {
            final CompletableFuture<Channel> done = new CompletableFuture<>();
            final DialHello hello = new DialHello(to.getPeerId(), self, i, poolSize, done);
            final ChannelFuture connect = bootstrap.clone()
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMs)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(final Channel ch) {
                            ControlPipeline.install(ch.pipeline());
                            ch.pipeline().addLast("hello", hello);
                            security.installDialer(ch.pipeline(), "peer " + to.getPeerId() + " at " + to.getHost()
                                    + ":" + to.getPort(), timeoutNs, subjectOf(to));
                        }
                    }).connect(to.getHost(), to.getPort());
            opened.add(connect.channel());
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    done.completeExceptionally(f.cause());
                }
            });
            handshakes.add(done);
        }
        final Channel[] channels = new Channel[poolSize];
        try {
            for (int i = 0; i < poolSize; i++) {
                channels[i] = handshakes.get(i).get(Math.max(0L, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            final Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            LOG.warn("peer {}: cannot connect pool of {} to peer {} at {}:{}: {}", self, poolSize, to.getPeerId(),
                    to.getHost(), to.getPort(), cause instanceof TimeoutException
                            ? "timed out after " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms" : cause.toString());
            closeOpened(opened);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeOpened(opened);
            return null;
        }
        LOG.debug("peer {}: connected pool of {} to peer {} at {}:{}", self, poolSize, to.getPeerId(),
                to.getHost(), to.getPort());
        return new Pool(to.getHost(), to.getPort(), channels);
    }

    /**
     * The subject of the certificate {@code e}'s peer registered with, as the master reported it.
     *
     * @return the subject, or null when the master reported none (no TLS)
     * @throws PcclException {@code PROTOCOL_VIOLATION} if the master's bytes are not a DER X.500 name
     */
    static X500Principal subjectOf(final PeerEndpoint e) {
        if (e.getCertificateSubject().isEmpty()) {
            return null;
        }
        try {
            return new X500Principal(e.getCertificateSubject().toByteArray());
        } catch (IllegalArgumentException bad) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "the master reported a certificate "
                    + "subject for peer " + e.getPeerId() + " that is not a DER X.500 name: " + bad.getMessage());
        }
    }

    private static void closeOpened(final List<Channel> opened) {
        for (Channel ch : opened) {
            ch.close();
        }
    }

    /** Closes every outgoing and incoming pool. Idempotent. */
    @Override
    public void close() {
        for (Pool pool : outgoing.values()) {
            IncomingPools.closeAll(pool.channels);
        }
        outgoing.clear();
        incoming.closeAll();
        successor = NO_PEER;
        predecessor = NO_PEER;
    }

    /** An outgoing pool. Immutable. */
    private static final class Pool {
        final String host;
        final int port;
        final Channel[] channels;

        Pool(final String host, final int port, final Channel[] channels) {
            this.host = host;
            this.port = port;
            this.channels = channels;
        }

        boolean healthy(final PeerEndpoint to) {
            if (to == null || !host.equals(to.getHost()) || port != to.getPort()) {
                return false;
            }
            for (Channel ch : channels) {
                if (!ch.isActive()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Dialer side of the p2p hello. Confined to the channel's event loop. */
    private final class DialHello extends SimpleChannelInboundHandler<Envelope> {
        private final long expectedPeer;
        private final long self;
        private final int index;
        private final int size;
        private final CompletableFuture<Channel> done;

        DialHello(final long expectedPeer, final long self, final int index, final int size,
                  final CompletableFuture<Channel> done) {
            this.expectedPeer = expectedPeer;
            this.self = self;
            this.index = index;
            this.size = size;
            this.done = done;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, self, index, size));
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final Envelope envelope) {
            if (envelope.getBodyCase() == Envelope.BodyCase.ERROR) {
                fail(ctx, "peer refused p2p connection (" + envelope.getError().getCode() + "): "
                        + envelope.getError().getReason());
                return;
            }
            if (envelope.getBodyCase() != Envelope.BodyCase.HELLO_ACK) {
                fail(ctx, "expected hello-ack, got " + envelope.getBodyCase());
                return;
            }
            final long answered = envelope.getHelloAck().getPeerId();
            if (answered != expectedPeer) {
                fail(ctx, "reached peer " + answered + ", expected peer " + expectedPeer);
                return;
            }
            final Channel ch = ctx.channel();
            final DataPlaneInitializer init = dataPlane;
            DataPlane.switchToData(ctx.pipeline(), this, () -> init.initOutgoing(expectedPeer, index, size, ch));
            done.complete(ch);
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx) {
            done.completeExceptionally(new PcclException(PcclException.Code.PEER_LOST,
                    "p2p connection " + index + " to peer " + expectedPeer + " closed during the handshake"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            fail(ctx, "p2p handshake failed: " + cause);
        }

        private void fail(final ChannelHandlerContext ctx, final String reason) {
            done.completeExceptionally(new PcclException(PcclException.Code.PEER_LOST, "connection " + index
                    + " to peer " + expectedPeer + " at " + ctx.channel().remoteAddress() + ": " + reason));
            ctx.close();
        }
    }
}
