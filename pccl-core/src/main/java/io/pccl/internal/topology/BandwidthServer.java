package io.pccl.internal.topology;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.transport.Envelopes;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.netty.ControlPipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The receiving side of peer-to-peer bandwidth measurements: takes over {@code ROLE_BENCHMARK} connections accepted
 * on the peer port, counts and drops every byte they carry, and confirms the count when the sender half-closes.
 *
 * <pre>
 *  probe (peer P, stream i)                            server
 *    | -- Hello{ROLE_BENCHMARK, peer_id P, i, n} ---&gt; |  slot free, or held by P (and not expired)?
 *    | &lt;------------------------------- HelloAck ---- |    yes: P holds the slot; raw bytes from here on
 *    | &lt;-- Error{FAILED_PRECONDITION, "busy: ..."} -- |    no: names the peer measuring now; close
 *    | ====== payload bytes (any amount) ===========&gt; |  counted and released at once, never kept
 *    | -- FIN (shutdownOutput) ---------------------&gt; |
 *    | &lt;--------------- count (u64, big-endian) ----- |  payload bytes received on this connection
 *    |                                          close |
 * </pre>
 *
 * One measuring peer (the hello's {@code peer_id}) holds the slot at a time, with any number of parallel
 * connections; the slot frees when its last connection closes. Bounds: a connection with no reads for the idle
 * timeout is closed; when a peer has held the slot for the slot time limit, all its connections are closed and its
 * further hellos are refused as busy until they are gone. Misbehaving senders (garbage, partial data, silence,
 * vanishing) cost at most those bounds; nothing they send is kept, and they are logged at debug or throttled info.
 *
 * <p>Wiring: register {@code server::onAccepted} as the peer listener's role handler for {@code ROLE_BENCHMARK}
 * (the {@link io.pccl.internal.p2p.RoleHandler} contract).
 *
 * <p>Thread-safe: the slot is guarded by {@code this}; each connection's handler is confined to its event loop.
 */
public final class BandwidthServer {
    /** Default bound on a benchmark connection without reads. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);
    /** Default bound on how long one peer may hold the slot. */
    public static final Duration DEFAULT_MAX_SLOT_TIME = Duration.ofSeconds(60);
    /** Size of the count the server writes after the sender's FIN. */
    public static final int COUNT_BYTES = Long.BYTES;
    /** How every busy refusal's reason starts; {@link BandwidthProbe#isBusy} recognises it. */
    static final String BUSY_PREFIX = "busy: ";
    static final String IDLE_HANDLER_NAME = "pcclBenchmarkIdle";
    static final String HANDLER_NAME = "pcclBenchmarkReceive";
    static final String DROP_HANDLER_NAME = "pcclBenchmarkDrop";
    private static final Logger LOG = LoggerFactory.getLogger(BandwidthServer.class);

    private final LongSupplier selfId;
    private final long idleTimeoutNs;
    private final long maxSlotNs;
    private final AtomicLong confirmedBytes = new AtomicLong();
    /** Connections closed for idleness or the slot limit: remote input causes them, so their log lines thin out. */
    private final LogThrottle closures = new LogThrottle();
    /** The peer measuring now, or null; guarded by {@code this}. */
    private Slot slot;
    private volatile SlotObserver observer;

    /**
     * Creates a server with the default bounds.
     *
     * @param selfId supplies this peer's id for the hello-ack and logs (0 before registration)
     */
    public BandwidthServer(final LongSupplier selfId) {
        this(selfId, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_SLOT_TIME);
    }

    /**
     * Creates a server.
     *
     * @param selfId supplies this peer's id for the hello-ack and logs (0 before registration)
     * @param idleTimeout a benchmark connection with no reads for this long is closed
     * @param maxSlotTime once a peer has held the slot this long, its connections are closed
     */
    public BandwidthServer(final LongSupplier selfId, final Duration idleTimeout, final Duration maxSlotTime) {
        this.selfId = Objects.requireNonNull(selfId, "selfId");
        this.idleTimeoutNs = Objects.requireNonNull(idleTimeout, "idleTimeout").toNanos();
        this.maxSlotNs = Objects.requireNonNull(maxSlotTime, "maxSlotTime").toNanos();
        if (idleTimeoutNs <= 0 || maxSlotNs <= 0) {
            throw new IllegalArgumentException("idleTimeout " + idleTimeout + " and maxSlotTime " + maxSlotTime
                    + " must be positive");
        }
    }

    /**
     * Takes over a connection whose hello announced {@code ROLE_BENCHMARK}: answers {@code HelloAck} and streams
     * raw bytes from then on, or answers {@code Error{FAILED_PRECONDITION}} naming the busy peer and closes. Meant
     * to run on the channel's event loop with the control codec installed and the listener's hello handler removed
     * (hops onto the event loop if called elsewhere). Owns the channel from then on. Never blocks.
     *
     * @param hello the validated hello; its peer id identifies the measuring peer
     * @param channel the accepted channel
     */
    public void onAccepted(final Hello hello, final Channel channel) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> onAccepted(hello, channel));
            return;
        }
        final long peerId = hello.getPeerId();
        final long nowNs = System.nanoTime();
        final Slot joined;
        final String busy;
        boolean acquired = false;
        synchronized (this) {
            final Slot s = slot;
            if (s == null) {
                joined = new Slot(peerId, nowNs);
                slot = joined;
                acquired = true;
                busy = null;
            } else if (s.peerId == peerId && !s.expired) {
                joined = s;
                busy = null;
            } else {
                joined = null;
                busy = busyReason(s, peerId, nowNs);
            }
            if (joined != null) {
                joined.channels.add(channel);
            }
        }
        if (joined == null) {
            refuse(channel, peerId, busy);
            return;
        }
        if (acquired) {
            onAcquired(joined, channel);
        }
        channel.closeFuture().addListener(f -> leave(joined, channel));
        accept(channel, peerId);
    }

    /**
     * Payload bytes this server has confirmed to probes (the sum of the counts it wrote) since it was created.
     *
     * @return bytes confirmed
     */
    public long confirmedBytes() {
        return confirmedBytes.get();
    }

    /**
     * Whether a peer holds the slot now.
     *
     * @return true while a measurement is in progress (or its connections are still closing)
     */
    public synchronized boolean busy() {
        return slot != null;
    }

    /**
     * Sets the observer of slot changes (tests); called outside the lock, on an event loop.
     *
     * @param slotObserver the observer, or null for none
     */
    void observer(final SlotObserver slotObserver) {
        this.observer = slotObserver;
    }

    private String busyReason(final Slot holder, final long peerId, final long nowNs) {
        final long heldMs = TimeUnit.NANOSECONDS.toMillis(nowNs - holder.sinceNs);
        if (holder.peerId == peerId) {
            return BUSY_PREFIX + "peer " + selfId.getAsLong() + " is closing the benchmark connections of peer "
                    + peerId + ", which held the slot past its limit of " + TimeUnit.NANOSECONDS.toMillis(maxSlotNs)
                    + " ms";
        }
        return BUSY_PREFIX + "peer " + selfId.getAsLong() + " is being measured by peer " + holder.peerId + " ("
                + holder.channels.size() + " connection(s), for " + heldMs + " ms); retry later";
    }

    private void onAcquired(final Slot joined, final Channel channel) {
        final ScheduledFuture<?> cap = channel.eventLoop().schedule(() -> expire(joined), maxSlotNs,
                TimeUnit.NANOSECONDS);
        final boolean stillHeld;
        synchronized (this) {
            stillHeld = slot == joined;
            joined.capTimer = cap;
        }
        if (!stillHeld) {
            cap.cancel(false);
        }
        LOG.debug("peer {}: benchmark slot taken by peer {} from {}", selfId.getAsLong(), joined.peerId,
                channel.remoteAddress());
        final SlotObserver o = observer;
        if (o != null) {
            o.onAcquired(joined.peerId);
        }
    }

    private void accept(final Channel channel, final long peerId) {
        // The sender's FIN must surface as an event rather than close the channel, so the count can still go out.
        channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        final ChannelPipeline p = channel.pipeline();
        // Encoded synchronously on this event loop, before the encoders are removed below.
        channel.writeAndFlush(Envelopes.helloAck(selfId.getAsLong()));
        removeIfPresent(p, ControlPipeline.PROTOBUF_ENCODER);
        removeIfPresent(p, ControlPipeline.FRAME_ENCODER);
        p.addFirst(IDLE_HANDLER_NAME, new IdleStateHandler(idleTimeoutNs, 0, 0, TimeUnit.NANOSECONDS));
        p.addLast(HANDLER_NAME, new ReceiveHandler(peerId));
        // Protobuf decoder first: bytes the frame decoder still buffers then go straight to the receive handler.
        removeIfPresent(p, ControlPipeline.PROTOBUF_DECODER);
        removeIfPresent(p, ControlPipeline.FRAME_DECODER);
    }

    private void refuse(final Channel channel, final long peerId, final String reason) {
        LOG.debug("peer {}: refusing benchmark connection of peer {} from {}: {}", selfId.getAsLong(), peerId,
                channel.remoteAddress(), reason);
        channel.config().setAutoRead(false);
        channel.pipeline().addLast(DROP_HANDLER_NAME, Drop.INSTANCE);
        channel.writeAndFlush(Envelopes.error(ErrorCode.ERROR_FAILED_PRECONDITION, reason))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private static void removeIfPresent(final ChannelPipeline p, final String name) {
        if (p.get(name) != null) {
            p.remove(name);
        }
    }

    /** A connection of {@code s} closed: the slot frees with its last one. */
    private void leave(final Slot s, final Channel channel) {
        final boolean freed;
        final ScheduledFuture<?> cap;
        synchronized (this) {
            s.channels.remove(channel);
            freed = s.channels.isEmpty() && slot == s;
            if (freed) {
                slot = null;
            }
            cap = freed ? s.capTimer : null;
        }
        if (!freed) {
            return;
        }
        if (cap != null) {
            cap.cancel(false);
        }
        LOG.debug("peer {}: benchmark slot of peer {} freed after {} ms", selfId.getAsLong(), s.peerId,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s.sinceNs));
        final SlotObserver o = observer;
        if (o != null) {
            o.onReleased(s.peerId);
        }
    }

    /** The slot time limit of {@code s} passed: close every connection of it. */
    private void expire(final Slot s) {
        final List<Channel> open;
        synchronized (this) {
            if (slot != s) {
                return;
            }
            s.expired = true;
            open = new ArrayList<>(s.channels);
        }
        if (closures.count()) {
            LOG.info("peer {}: peer {} held the benchmark slot for its limit of {} ms; closing its {} connection(s) "
                    + "(closure #{}; #1, #2, #4, ... are logged)", selfId.getAsLong(), s.peerId,
                    TimeUnit.NANOSECONDS.toMillis(maxSlotNs), open.size(), closures.events());
        }
        for (final Channel c : open) {
            c.close();
        }
    }

    /** Slot changes, for tests. Called on an event loop, outside the server's lock; must not block. */
    interface SlotObserver {
        /**
         * A peer took the free slot.
         *
         * @param peerId the measuring peer
         */
        void onAcquired(long peerId);

        /**
         * The last connection of the measuring peer closed; the slot is free.
         *
         * @param peerId the peer that held it
         */
        void onReleased(long peerId);
    }

    /** The measuring peer and its open connections. Guarded by the server's lock (except the final fields). */
    private static final class Slot {
        final long peerId;
        final long sinceNs;
        final List<Channel> channels = new ArrayList<>();
        boolean expired;
        ScheduledFuture<?> capTimer;

        Slot(final long peerId, final long sinceNs) {
            this.peerId = peerId;
            this.sinceNs = sinceNs;
        }
    }

    /** Drops whatever a refused connection sends until it is closed. Stateless, shared. */
    @ChannelHandler.Sharable
    private static final class Drop extends ChannelInboundHandlerAdapter {
        static final Drop INSTANCE = new Drop();

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            LOG.debug("refused benchmark connection {} failed while closing: {}", ctx.channel(), cause.toString());
            ctx.close();
        }
    }

    /**
     * Counts and releases the payload of one accepted connection; on the sender's FIN writes the count and closes.
     * Ends the pipeline and owns its failures. Confined to the channel's event loop.
     */
    private final class ReceiveHandler extends ChannelInboundHandlerAdapter {
        private final long peerId;
        private long receivedBytes;
        private boolean answered;

        ReceiveHandler(final long peerId) {
            this.peerId = peerId;
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            if (msg instanceof ByteBuf) {
                receivedBytes += ((ByteBuf) msg).readableBytes();
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                answer(ctx);
                return;
            }
            if (evt instanceof IdleStateEvent) {
                if (closures.count()) {
                    LOG.info("peer {}: closing benchmark connection of peer {} from {}: no bytes for {} ms "
                            + "({} received; closure #{}; #1, #2, #4, ... are logged)", selfId.getAsLong(), peerId,
                            ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(idleTimeoutNs),
                            receivedBytes, closures.events());
                }
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void answer(final ChannelHandlerContext ctx) {
            if (answered) {
                return;
            }
            answered = true;
            confirmedBytes.addAndGet(receivedBytes);
            final ByteBuf count = ctx.alloc().buffer(COUNT_BYTES);
            count.writeLong(receivedBytes);
            ctx.writeAndFlush(count).addListener(ChannelFutureListener.CLOSE);
            LOG.debug("peer {}: benchmark connection of peer {} received {} bytes", selfId.getAsLong(), peerId,
                    receivedBytes);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            LOG.debug("peer {}: benchmark connection of peer {} from {} failed after {} bytes: {}",
                    selfId.getAsLong(), peerId, ctx.channel().remoteAddress(), receivedBytes, cause.toString());
            ctx.close();
        }
    }
}
