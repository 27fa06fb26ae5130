package io.pccl.internal.topology;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.pccl.PcclException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.Envelopes;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sending side of a peer-to-peer bandwidth measurement: opens parallel {@code ROLE_BENCHMARK} streams to
 * another peer's port (served by its {@link BandwidthServer}), sends for a fixed duration, and reports the
 * receiver-confirmed throughput.
 *
 * <pre>
 *  AWAIT_ACK --all acks--&gt; WRITING (duration) --&gt; DRAINING (queue out) --&gt; FIN, AWAIT_COUNT --&gt; DONE
 *      \___ Error / connect failure / close / timeout / bad bytes, any stream ___\____&gt; failed (all closed)
 *
 *  Mbit/s = sum(counts) * 8 / 1e6 / seconds(first write .. last count received)
 * </pre>
 *
 * Unlike a sender-side measurement (bytes handed to the kernel), the bytes counted are those the receiver read, and
 * the time includes draining them, so socket buffers cannot inflate the figure. Every stream writes from one shared
 * read-only direct buffer of {@link #PAYLOAD_BYTES} (one per probe, never copied) while its channel is writable.
 *
 * <p>Thread-safe; {@link #measure} never blocks. Each stream's handler is confined to its event loop; the shared
 * state of a probe is atomic or guarded by the probe. The future completes on one of the group's event loops (on
 * the caller's thread only for setup failures), so dependent stages must not block: use the {@code *Async}
 * variants for blocking work.
 */
public final class BandwidthProbe {
    /** Most parallel streams one measurement may open. */
    public static final int MAX_STREAMS = 64;
    /** Size of the shared payload buffer, and of each write. */
    static final int PAYLOAD_BYTES = 1 << 20;
    static final String HANDLER_NAME = "pcclBenchmarkSend";
    /** Enough queued per stream to keep the socket busy between writability events, bounded to a few writes. */
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(2 * PAYLOAD_BYTES,
            4 * PAYLOAD_BYTES);
    private static final long NO_TIME = Long.MIN_VALUE;
    private static final Logger LOG = LoggerFactory.getLogger(BandwidthProbe.class);

    private final String target;
    private final long selfId;
    private final int streams;
    private final long durationNs;
    private final long handshakeTimeoutNs;
    private final Stream[] handlers;
    private final CompletableFuture<Measurement> result = new CompletableFuture<>();
    private final AtomicInteger acked = new AtomicInteger();
    private final AtomicInteger counted = new AtomicInteger();
    private final AtomicLong confirmedBytes = new AtomicLong();
    /** The first write of any stream; every stream stops producing {@code durationNs} after it. */
    private final AtomicLong firstWriteNs = new AtomicLong(NO_TIME);
    /** Guarded by {@code this}: open channels, the shared payload (null once finished) and the pending timer. */
    private final Channel[] channels;
    private ByteBuf payload;
    private ScheduledFuture<?> timer;
    private boolean finished;

    private BandwidthProbe(final String host, final int port, final long selfId, final int streams,
                           final long durationNs, final long handshakeTimeoutNs) {
        this.target = host + ":" + port;
        this.selfId = selfId;
        this.streams = streams;
        this.durationNs = durationNs;
        this.handshakeTimeoutNs = handshakeTimeoutNs;
        this.channels = new Channel[streams];
        this.handlers = new Stream[streams];
        for (int i = 0; i < streams; i++) {
            handlers[i] = new Stream(i);
        }
    }

    /**
     * Measures the send bandwidth to the peer whose port is {@code host:port}.
     *
     * @param group event loops for the streams (of {@link NettyTransport}'s kind); not owned
     * @param host the target's address, normally an IP literal (a name goes through Netty's default resolver,
     *     which looks it up on an event loop)
     * @param port the target's peer port
     * @param selfId this peer's id, sent in every hello; the target serves one measuring peer id at a time
     * @param streams parallel connections, 1 to {@link #MAX_STREAMS}
     * @param duration how long the streams send
     * @param handshakeTimeout bound on connecting and receiving every hello-ack; the counts must arrive within
     *     {@code duration + handshakeTimeout} after sending stopped
     * @return completes with the receiver-confirmed throughput in Mbit/s (1 Mbit = 1e6 bits), or exceptionally with
     *     a {@link PcclException}: {@code FAILED_PRECONDITION} when the target is busy with another peer's
     *     measurement or refuses benchmarks ({@link #isBusy} tells the busy case, worth a retry later),
     *     {@code PEER_LOST} when a connection is refused or closes early, {@code TIMEOUT} when the handshake or the
     *     counts take too long, {@code PROTOCOL_VIOLATION} when the target sends something unexpected. Every
     *     connection is closed in every outcome, also when the caller cancels the future.
     * @throws PcclException {@code INVALID_ARGUMENT} naming the value if an argument is out of range
     */
    public static CompletableFuture<Double> measure(final EventLoopGroup group, final String host, final int port,
                                                    final long selfId, final int streams, final Duration duration,
                                                    final Duration handshakeTimeout) {
        return measure(group, host, port, selfId, streams, duration, handshakeTimeout, ConnectionSecurity.NONE);
    }

    /**
     * {@link #measure(EventLoopGroup, String, int, long, int, Duration, Duration)} over connections opened as the
     * deployment requires (shared key, TLS).
     *
     * @param security the deployment's connection security
     * @return the measured send bandwidth in Mbit/s
     */
    public static CompletableFuture<Double> measure(final EventLoopGroup group, final String host, final int port,
                                                    final long selfId, final int streams, final Duration duration,
                                                    final Duration handshakeTimeout,
                                                    final ConnectionSecurity security) {
        final CompletableFuture<Measurement> m = run(group, host, port, selfId, streams, duration, handshakeTimeout,
                security);
        final CompletableFuture<Double> mbps = new CompletableFuture<>();
        m.whenComplete((r, e) -> {
            if (e == null) {
                mbps.complete(r.mbps());
            } else {
                mbps.completeExceptionally(unwrap(e));
            }
        });
        // The caller gave up (cancel, timeout): stop the measurement, which closes its connections.
        mbps.whenComplete((r, e) -> {
            if (e != null) {
                m.cancel(false);
            }
        });
        return mbps;
    }

    /**
     * Whether a measurement failed because the target was busy (measured by another peer, or at its connection
     * limit): retry that target later.
     *
     * @param failure the failure of a {@link #measure} future, possibly wrapped in a completion or execution
     *     exception
     * @return true for a busy target
     */
    public static boolean isBusy(final Throwable failure) {
        return unwrap(failure) instanceof BusyException;
    }

    /**
     * {@link #measure}, with the raw result (tests and diagnostics).
     *
     * @return the measurement; failures as documented at {@link #measure}
     */
    static CompletableFuture<Measurement> run(final EventLoopGroup group, final String host, final int port,
                                              final long selfId, final int streams, final Duration duration,
                                              final Duration handshakeTimeout) {
        return run(group, host, port, selfId, streams, duration, handshakeTimeout, ConnectionSecurity.NONE);
    }

    private static CompletableFuture<Measurement> run(final EventLoopGroup group, final String host, final int port,
                                                      final long selfId, final int streams, final Duration duration,
                                                      final Duration handshakeTimeout,
                                                      final ConnectionSecurity security) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        if (host.isEmpty() || port < 1 || port > 65535) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "bandwidth target '" + host + ":" + port
                    + "' needs a host and a port in 1..65535");
        }
        if (streams < 1 || streams > MAX_STREAMS) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "streams " + streams
                    + " out of range 1.." + MAX_STREAMS + " (bandwidth target " + host + ":" + port + ")");
        }
        if (duration.isNegative() || duration.isZero() || handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "duration " + duration
                    + " and handshakeTimeout " + handshakeTimeout + " must be positive (bandwidth target " + host
                    + ":" + port + ")");
        }
        final BandwidthProbe probe = new BandwidthProbe(host, port, selfId, streams, duration.toNanos(),
                handshakeTimeout.toNanos());
        probe.result.whenComplete((r, e) -> probe.cleanUp());
        probe.start(group, host, port, security);
        return probe.result;
    }

    private void start(final EventLoopGroup group, final String host, final int port,
                       final ConnectionSecurity security) {
        try {
            final ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(PAYLOAD_BYTES, PAYLOAD_BYTES);
            fillPattern(buf);
            if (!installPayload(buf.asReadOnly())) {
                return;
            }
            setTimer(group.next().schedule(this::onHandshakeTimeout, handshakeTimeoutNs, TimeUnit.NANOSECONDS));
            final int connectTimeoutMs = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                    TimeUnit.NANOSECONDS.toMillis(handshakeTimeoutNs)));
            final Bootstrap template = new Bootstrap().group(group).channel(NettyTransport.channelClass())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK);
            for (int i = 0; i < streams && !result.isDone(); i++) {
                final Stream stream = handlers[i];
                final ChannelFuture connect = template.clone().handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        ControlPipeline.install(ch.pipeline());
                        ch.pipeline().addLast(HANDLER_NAME, stream);
                        security.installDialer(ch.pipeline(), "bandwidth target " + target, handshakeTimeoutNs);
                    }
                }).connect(host, port);
                register(i, connect.channel());
                final int index = i;
                connect.addListener(f -> {
                    if (!f.isSuccess()) {
                        onConnectFailed(index, f.cause());
                    }
                });
            }
        } catch (final RuntimeException e) {
            // e.g. the group is shutting down and rejects the channel or the timer
            fail(group.isShuttingDown() ? PcclException.Code.CLOSED : PcclException.Code.INTERNAL,
                    "cannot start measuring bandwidth to " + target + ": " + e, e);
        }
    }

    /**
     * Fills the payload with a fixed non-repeating pattern, so no compressing link flatters the figure. Goes through
     * one NIO view rather than a buffer access per long (each of which leak detection may record).
     */
    private static void fillPattern(final ByteBuf buf) {
        final ByteBuffer nio = buf.nioBuffer(0, buf.capacity());
        long x = 0x9E3779B97F4A7C15L;
        while (nio.remaining() >= Long.BYTES) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            nio.putLong(x);
        }
        buf.writerIndex(buf.capacity());
    }

    private synchronized boolean installPayload(final ByteBuf buf) {
        if (finished) {
            buf.release();
            return false;
        }
        payload = buf;
        return true;
    }

    /** A stream's own reference to the payload, or null once the probe finished. Released by the stream. */
    private synchronized ByteBuf acquirePayload() {
        return payload == null ? null : payload.retainedDuplicate();
    }

    private void register(final int index, final Channel ch) {
        final boolean late;
        synchronized (this) {
            late = finished;
            if (!late) {
                channels[index] = ch;
            }
        }
        if (late) {
            ch.close();
        }
    }

    private void setTimer(final ScheduledFuture<?> next) {
        final ScheduledFuture<?> previous;
        synchronized (this) {
            if (finished) {
                previous = next;
            } else {
                previous = timer;
                timer = next;
            }
        }
        if (previous != null) {
            previous.cancel(false);
        }
    }

    /** Runs once, whoever completes the result (success, failure, the caller's cancel). */
    private void cleanUp() {
        final Channel[] open;
        final ByteBuf buf;
        final ScheduledFuture<?> t;
        synchronized (this) {
            finished = true;
            open = channels.clone();
            buf = payload;
            payload = null;
            t = timer;
            timer = null;
        }
        if (t != null) {
            t.cancel(false);
        }
        if (buf != null) {
            buf.release();
        }
        for (final Channel c : open) {
            if (c != null) {
                c.close();
            }
        }
    }

    private void onConnectFailed(final int index, final Throwable cause) {
        final PcclException.Code code = cause instanceof ConnectTimeoutException
                ? PcclException.Code.TIMEOUT : PcclException.Code.PEER_LOST;
        fail(code, "cannot connect to bandwidth target " + target + " (stream " + index + " of " + streams + "): "
                + cause.getMessage(), cause);
    }

    private void onHandshakeTimeout() {
        final int n = acked.get();
        if (n < streams) {
            fail(PcclException.Code.TIMEOUT, "bandwidth target " + target + " acknowledged " + n + " of " + streams
                    + " streams within the handshake timeout of " + TimeUnit.NANOSECONDS.toMillis(handshakeTimeoutNs)
                    + " ms", null);
        }
    }

    private void onAck() {
        if (acked.incrementAndGet() != streams || result.isDone()) {
            return;
        }
        try {
            // Each stream set its channel before counting its ack, so every one is visible here.
            setTimer(handlers[0].channel.eventLoop().schedule(this::onCountTimeout,
                    2 * durationNs + handshakeTimeoutNs, TimeUnit.NANOSECONDS));
            for (final Stream stream : handlers) {
                stream.channel.eventLoop().execute(stream::startWriting);
            }
        } catch (final RuntimeException e) {
            fail(PcclException.Code.CLOSED, "cannot start sending to bandwidth target " + target + ": " + e, e);
        }
    }

    private void onCountTimeout() {
        final int n = counted.get();
        if (n < streams) {
            fail(PcclException.Code.TIMEOUT, "bandwidth target " + target + " confirmed " + n + " of " + streams
                    + " streams within " + TimeUnit.NANOSECONDS.toMillis(durationNs + handshakeTimeoutNs)
                    + " ms after sending stopped", null);
        }
    }

    /** Records the probe's first write (if this is it) and returns when the streams stop producing. */
    private long onFirstWrite(final long nowNs) {
        firstWriteNs.compareAndSet(NO_TIME, nowNs);
        return firstWriteNs.get() + durationNs;
    }

    private void onCount(final long count) {
        final long bytes = confirmedBytes.addAndGet(count);
        if (counted.incrementAndGet() != streams) {
            return;
        }
        final long nanos = Math.max(1, System.nanoTime() - firstWriteNs.get());
        final Measurement m = new Measurement(bytes, nanos, streams);
        if (result.complete(m)) {
            LOG.debug("bandwidth to {}: {} bytes over {} stream(s) in {} us = {} Mbit/s", target, bytes, streams,
                    TimeUnit.NANOSECONDS.toMicros(nanos), m.mbps());
        }
    }

    private void onRefused(final int index, final io.pccl.proto.Error error) {
        final String reason = error.getReason().isEmpty() ? "(no reason given)" : error.getReason();
        final String what = " (stream " + index + " of " + streams + " refused: " + error.getCode() + " " + reason
                + ")";
        if (error.getCode() == ErrorCode.ERROR_RESOURCE_EXHAUSTED || (error.getCode()
                == ErrorCode.ERROR_FAILED_PRECONDITION && reason.startsWith(BandwidthServer.BUSY_PREFIX))) {
            result.completeExceptionally(new BusyException("bandwidth target " + target + " is busy, retry later"
                    + what));
        } else if (error.getCode() == ErrorCode.ERROR_FAILED_PRECONDITION) {
            fail(PcclException.Code.FAILED_PRECONDITION, "bandwidth target " + target + " does not accept "
                    + "benchmarks" + what, null);
        } else {
            fail(PcclException.Code.PROTOCOL_VIOLATION, "bandwidth target " + target + " rejected the benchmark "
                    + "hello" + what, null);
        }
    }

    private void fail(final PcclException.Code code, final String message, final Throwable cause) {
        if (!result.isDone()) {
            result.completeExceptionally(new PcclException(code, message, cause));
        }
    }

    private static Throwable unwrap(final Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * One measurement's raw figures. Immutable.
     *
     * @param confirmedBytes payload bytes the receiver counted, all streams
     * @param nanos from the first write to the last count received
     * @param streams parallel streams used
     */
    record Measurement(long confirmedBytes, long nanos, int streams) {
        /** @return the throughput in Mbit/s (1 Mbit = 1e6 bits) */
        double mbps() {
            return confirmedBytes * 8.0 / 1e6 / (nanos / 1e9);
        }
    }

    /** The target was busy: {@code FAILED_PRECONDITION} for this attempt, worth retrying later. Immutable. */
    private static final class BusyException extends PcclException {
        private static final long serialVersionUID = 1L;

        BusyException(final String message) {
            super(Code.FAILED_PRECONDITION, message);
        }
    }

    /** Where one stream is. */
    private enum Phase {
        /** Connecting, hello sent, waiting for the hello-ack. */
        AWAIT_ACK,
        /** Acknowledged; waiting for every other stream's ack. */
        ACKED,
        /** Producing payload writes while the channel is writable. */
        WRITING,
        /** Stopped producing; waiting for the queued bytes to be written. */
        DRAINING,
        /** Output shut down; waiting for the receiver's count. */
        AWAIT_COUNT,
        /** Counted, failed or closed. */
        DONE
    }

    /**
     * One stream: hello, then payload writes while writable until the stop time, then FIN and the 8-byte count.
     * Ends the pipeline and owns its failures (reported to the probe). Confined to the channel's event loop.
     */
    private final class Stream extends ChannelInboundHandlerAdapter {
        private final int index;
        private final ChannelFutureListener onDrained = this::onDrained;
        /** Set on the event loop before the stream's ack is counted; read by the probe after the last ack. */
        private volatile Channel channel;
        private ChannelHandlerContext ctx;
        private Phase phase = Phase.AWAIT_ACK;
        /** This stream's reference to the shared payload while writing; released when it stops. */
        private ByteBuf view;
        private long sentBytes;
        private long count;
        private int countBytes;
        /** A pump is queued on the event loop (at most one). */
        private boolean pumpQueued;
        private final Runnable queuedPump = () -> {
            pumpQueued = false;
            pump();
        };

        Stream(final int index) {
            this.index = index;
        }

        @Override
        public void handlerAdded(final ChannelHandlerContext context) {
            this.ctx = context;
            this.channel = context.channel();
        }

        @Override
        public void channelActive(final ChannelHandlerContext context) {
            context.writeAndFlush(Envelopes.hello(ConnectionRole.ROLE_BENCHMARK, selfId, index, streams));
            context.fireChannelActive();
        }

        @Override
        public void channelRead(final ChannelHandlerContext context, final Object msg) {
            try {
                if (msg instanceof Envelope) {
                    onEnvelope((Envelope) msg);
                } else if (msg instanceof ByteBuf) {
                    onCountBytes((ByteBuf) msg);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onEnvelope(final Envelope env) {
            if (phase != Phase.AWAIT_ACK) {
                return;
            }
            switch (env.getBodyCase()) {
                case HELLO_ACK:
                    phase = Phase.ACKED;
                    final ChannelPipeline p = ctx.pipeline();
                    // Payload writes are raw bytes; the count arrives raw. The protobuf decoder goes first, so bytes
                    // the frame decoder still buffers reach this handler.
                    p.remove(ControlPipeline.PROTOBUF_ENCODER);
                    p.remove(ControlPipeline.FRAME_ENCODER);
                    p.remove(ControlPipeline.PROTOBUF_DECODER);
                    p.remove(ControlPipeline.FRAME_DECODER);
                    onAck();
                    return;
                case ERROR:
                    phase = Phase.DONE;
                    onRefused(index, env.getError());
                    return;
                default:
                    phase = Phase.DONE;
                    fail(PcclException.Code.PROTOCOL_VIOLATION, "bandwidth target " + target + " answered the hello "
                            + "of stream " + index + " with " + env.getBodyCase() + ", expected HELLO_ACK", null);
            }
        }

        /** Runs on this stream's event loop once every stream is acknowledged. */
        void startWriting() {
            if (phase != Phase.ACKED) {
                return;
            }
            view = acquirePayload();
            if (view == null) {
                return;
            }
            phase = Phase.WRITING;
            final long nowNs = System.nanoTime();
            final long stopAtNs = onFirstWrite(nowNs);
            ctx.executor().schedule(this::stopWriting, stopAtNs - nowNs, TimeUnit.NANOSECONDS);
            pump();
        }

        /**
         * Writes and flushes one payload, then queues the next pump while the channel stays writable: one payload
         * per event-loop task, so the loop's timers (this stream's stop, the master connection's heartbeats) run
         * between them even where a flush is slow (a cold JIT's first TLS records took ~200 ms per 4 MiB).
         */
        private void pump() {
            if (phase != Phase.WRITING || !ctx.channel().isWritable()) {
                return; // stopped while this pump was queued, or channelWritabilityChanged will queue it again
            }
            ctx.writeAndFlush(view.retainedDuplicate(), ctx.voidPromise());
            sentBytes += view.readableBytes();
            queuePump();
        }

        private void queuePump() {
            if (phase == Phase.WRITING && ctx.channel().isWritable() && !pumpQueued) {
                pumpQueued = true;
                ctx.executor().execute(queuedPump);
            }
        }

        @Override
        public void channelWritabilityChanged(final ChannelHandlerContext context) {
            // Queued, not run here: the change fires inside a flush, and pumping in place would chain flushes
            // for as long as the socket takes bytes, ahead of the loop's timers.
            queuePump();
            context.fireChannelWritabilityChanged();
        }

        private void stopWriting() {
            if (phase != Phase.WRITING) {
                return;
            }
            phase = Phase.DRAINING;
            releaseView();
            // Completes once every payload write before it is out; then the FIN asks the receiver for its count.
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(onDrained);
        }

        private void onDrained(final ChannelFuture f) {
            if (phase != Phase.DRAINING) {
                return;
            }
            if (!f.isSuccess()) {
                phase = Phase.DONE;
                fail(PcclException.Code.PEER_LOST, "sending to bandwidth target " + target + " failed on stream "
                        + index + " after " + sentBytes + " bytes: " + f.cause(), f.cause());
                return;
            }
            phase = Phase.AWAIT_COUNT;
            ((DuplexChannel) ctx.channel()).shutdownOutput().addListener(s -> {
                if (!s.isSuccess() && phase == Phase.AWAIT_COUNT) {
                    phase = Phase.DONE;
                    fail(PcclException.Code.PEER_LOST, "cannot half-close stream " + index + " to bandwidth target "
                            + target + ": " + s.cause(), s.cause());
                }
            });
        }

        /** Accumulates the big-endian count without buffering; anything beyond its 8 bytes is a violation. */
        private void onCountBytes(final ByteBuf in) {
            if (phase == Phase.DONE) {
                return;
            }
            while (in.isReadable()) {
                if (countBytes == BandwidthServer.COUNT_BYTES) {
                    violation("sent " + in.readableBytes() + " byte(s) after the " + BandwidthServer.COUNT_BYTES
                            + "-byte count");
                    return;
                }
                count = (count << 8) | in.readUnsignedByte();
                countBytes++;
            }
            if (countBytes < BandwidthServer.COUNT_BYTES) {
                return;
            }
            if (phase != Phase.AWAIT_COUNT) {
                violation("sent its count in phase " + phase + ", before this side finished sending");
            } else if (count < 0 || count > sentBytes) {
                violation("confirmed " + Long.toUnsignedString(count) + " bytes, but only " + sentBytes
                        + " were sent");
            } else {
                phase = Phase.DONE;
                onCount(count);
                ctx.close();
            }
        }

        private void violation(final String what) {
            phase = Phase.DONE;
            fail(PcclException.Code.PROTOCOL_VIOLATION, "bandwidth target " + target + " " + what + " (stream "
                    + index + " of " + streams + ")", null);
            ctx.close();
        }

        @Override
        public void channelInactive(final ChannelHandlerContext context) {
            if (phase != Phase.DONE) {
                final Phase was = phase;
                phase = Phase.DONE;
                fail(PcclException.Code.PEER_LOST, "bandwidth target " + target + " closed stream " + index + " of "
                        + streams + " early (phase " + was + ", " + sentBytes + " bytes sent, " + countBytes
                        + " count bytes received)", null);
            }
            releaseView();
            context.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(final ChannelHandlerContext context) {
            releaseView();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext context, final Throwable cause) {
            if (phase != Phase.DONE) {
                final Phase was = phase;
                phase = Phase.DONE;
                final PcclException.Code code = cause instanceof DecoderException
                        ? PcclException.Code.PROTOCOL_VIOLATION : PcclException.Code.PEER_LOST;
                fail(code, "stream " + index + " of " + streams + " to bandwidth target " + target + " failed "
                        + "(phase " + was + ", " + sentBytes + " bytes sent): " + cause, cause);
            }
            context.close();
        }

        private void releaseView() {
            if (view != null) {
                view.release();
                view = null;
            }
        }
    }
}
