package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.pccl.PeerLostException;
import io.pccl.ring.FrameCredit;
import io.pccl.ring.InboundRouter;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.data.DataFrameFlyweight;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End of an inbound data-plane pipeline (a connection from the ring predecessor): hands each frame to the
 * {@link InboundRouter} with this handler as its {@link FrameCredit}, and tells the router the predecessor is lost
 * when the connection closes. Owns {@code exceptionCaught}: logs once and closes the channel (a framing error means
 * the stream cannot be trusted).
 *
 * <pre>
 *  inbound: [DATA_FRAME_DECODER (zero-copy framing)] -&gt; [DATA_FRAME_HANDLER (this)] -&gt; router
 * </pre>
 *
 * <p><b>Flow control.</b> The bytes of the frames this connection routed and the engine has not consumed yet
 * (queued for an operation or parked for one not started here) are counted. Above {@code maxBufferedBytes} the
 * channel stops reading ({@code autoRead} off; the predecessor's socket then fills and its writes pause); once the
 * count fell to half of it, reading resumes. The peak held is at most {@code maxBufferedBytes} plus the frames
 * completed by the read that crossed it (one socket read, and at most one frame straddling it).
 *
 * <p>Thread-safe: Netty callbacks are confined to the channel's event loop; {@link #release} may be called from any
 * thread and only schedules the resume on the event loop.
 */
public final class DataFrameInboundHandler extends ChannelInboundHandlerAdapter implements FrameCredit {
    /** Pipeline name of the framing handler. */
    public static final String DATA_FRAME_DECODER = "pcclDataFrameDecoder";
    /** Pipeline name of this handler. */
    public static final String DATA_FRAME_HANDLER = "pcclDataFrameHandler";
    /**
     * Default bytes of unconsumed frames per connection before it stops reading. Measured (TcpRingCpuProbe, W = 2
     * and 4, 64 MiB): 2-4 MiB cost no throughput; at 8 MiB and more, the pooled allocator's chunks oscillate between
     * empty (freed) and used (mapped again), thousands of page faults per operation and ~10% more CPU per byte.
     */
    public static final long DEFAULT_MAX_BUFFERED_BYTES = 4L << 20;

    private static final Logger LOG = LoggerFactory.getLogger(DataFrameInboundHandler.class);
    /** Which framing errors get a WARN line, over all data connections of this process. */
    private static final LogThrottle FRAMING_ERRORS = new LogThrottle();

    private final InboundRouter router;
    private final String peer;
    private final long highWater;
    private final long lowWater;
    private final AtomicLong buffered = new AtomicLong();
    private final AtomicBoolean resumeScheduled = new AtomicBoolean();
    private final Runnable resumeTask = this::resumeIfDrained;
    private final Runnable expireTask = this::expireWhilePaused;
    /** Written on the event loop only; read by {@link #release} on any thread. */
    private volatile boolean paused;
    private volatile long peakBuffered;
    private volatile Channel channel;
    private boolean failed;
    /** Event loop only: an expiry check is pending. */
    private boolean expireScheduled;

    /**
     * Creates the handler with the default buffering limit.
     *
     * @param router where frames go
     * @param peer the predecessor's identity, for messages
     */
    public DataFrameInboundHandler(final InboundRouter router, final String peer) {
        this(router, peer, DEFAULT_MAX_BUFFERED_BYTES);
    }

    /**
     * Creates the handler.
     *
     * @param router where frames go
     * @param peer the predecessor's identity, for messages
     * @param maxBufferedBytes unconsumed frame bytes above which the channel stops reading, {@code > 0}
     */
    public DataFrameInboundHandler(final InboundRouter router, final String peer, final long maxBufferedBytes) {
        this.router = Objects.requireNonNull(router, "router");
        this.peer = Objects.requireNonNull(peer, "peer");
        if (maxBufferedBytes <= 0) {
            throw new IllegalArgumentException("maxBufferedBytes " + maxBufferedBytes + " must be > 0");
        }
        this.highWater = maxBufferedBytes;
        this.lowWater = maxBufferedBytes / 2;
    }

    /**
     * Appends the zero-copy frame assembler and a handler routing into {@code router} to an inbound pipeline
     * (after the handshake, with the control codec already removed), and makes the channel read into
     * {@link PooledByteBufAllocator#DEFAULT} buffers. Buffering limit: the larger of
     * {@link #DEFAULT_MAX_BUFFERED_BYTES} and two maximal frames.
     *
     * @param pipeline the channel's pipeline
     * @param router where frames go
     * @param maxPayloadBytes largest accepted payload (at least every sender's slice size)
     * @param peer the predecessor's identity, for messages
     */
    public static void install(final ChannelPipeline pipeline, final InboundRouter router, final int maxPayloadBytes,
                               final String peer) {
        install(pipeline, router, maxPayloadBytes, peer,
                Math.max(DEFAULT_MAX_BUFFERED_BYTES, 2L * (maxPayloadBytes + DataFrameFlyweight.HEADER_LENGTH)));
    }

    /**
     * Like {@link #install(ChannelPipeline, InboundRouter, int, String)} with an explicit buffering limit.
     * Also switches the channel to the pooled allocator.
     *
     * @param pipeline the channel's pipeline
     * @param router where frames go
     * @param maxPayloadBytes largest accepted payload (at least every sender's slice size)
     * @param peer the predecessor's identity, for messages
     * @param maxBufferedBytes unconsumed frame bytes above which the channel stops reading, {@code > 0}
     */
    public static void install(final ChannelPipeline pipeline, final InboundRouter router, final int maxPayloadBytes,
                               final String peer, final long maxBufferedBytes) {
        // Socket reads land in pooled buffers: frames hold them for a while, and Netty 4.2's adaptive allocator then
        // keeps mapping fresh chunks (TcpRingCpuProbe, W = 2, 64 MiB: ~3800 page faults per operation and ~10% more
        // CPU per byte than the pooled allocator, whose arenas are reused).
        pipeline.channel().config().setAllocator(PooledByteBufAllocator.DEFAULT);
        pipeline.addLast(DATA_FRAME_DECODER, new DataFrameAssembler(maxPayloadBytes, router));
        pipeline.addLast(DATA_FRAME_HANDLER, new DataFrameInboundHandler(router, peer, maxBufferedBytes));
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        final ByteBuf frame = (ByteBuf) msg;
        final long now = buffered.addAndGet(frame.readableBytes());
        if (now > peakBuffered) {
            peakBuffered = now;
        }
        if (now > highWater && !paused) {
            pause(ctx);
        }
        // Ownership passes to the router; the bytes come back through release().
        router.onFrame(frame, this);
    }

    private void pause(final ChannelHandlerContext ctx) {
        paused = true;
        ctx.channel().config().setAutoRead(false);
        // Parked frames of an operation that never starts here would otherwise keep the channel paused for good.
        if (!expireScheduled) {
            expireScheduled = true;
            ctx.executor().schedule(expireTask, Math.max(1, router.parkTimeoutNs() / 2), TimeUnit.NANOSECONDS);
        }
        // Pairs with release(): it writes buffered then reads paused; we wrote paused, now read buffered.
        if (buffered.get() <= lowWater) {
            resumeIfDrained();
        }
    }

    @Override
    public void release(final int frameBytes) {
        final long now = buffered.addAndGet(-frameBytes);
        if (now <= lowWater && paused && resumeScheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(resumeTask);
            } catch (final RejectedExecutionException e) {
                // The event loop is shutting down with the channel; nothing to resume.
                resumeScheduled.set(false);
            }
        }
    }

    /** Resumes reading once the engine consumed enough. Runs on the event loop. */
    private void resumeIfDrained() {
        resumeScheduled.set(false);
        if (paused && buffered.get() <= lowWater) {
            paused = false;
            channel.config().setAutoRead(true);
        }
    }

    /** Runs on the event loop while paused, every half park timeout. */
    private void expireWhilePaused() {
        expireScheduled = false;
        if (paused && channel.isActive()) {
            expireScheduled = true;
            router.expireParkedFrames();
            channel.eventLoop().schedule(expireTask, Math.max(1, router.parkTimeoutNs() / 2), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * @return bytes of frames routed from this connection and not consumed yet
     */
    public long bufferedBytes() {
        return buffered.get();
    }

    /**
     * @return the most bytes {@link #bufferedBytes()} reached
     */
    public long peakBufferedBytes() {
        return peakBuffered;
    }

    /**
     * @return whether reading is paused for flow control
     */
    public boolean isPaused() {
        return paused;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        router.onPredecessorLost(new PeerLostException("data connection from predecessor " + peer + " ("
                + ctx.channel().remoteAddress() + ") closed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        if (!failed) {
            failed = true;
            if (cause instanceof DecoderException) {
                // What the dialer sent: the message names the value and the limit. Any host that reaches the port
                // can cause this, so neither a stack trace nor a line per connection.
                if (FRAMING_ERRORS.count()) {
                    LOG.warn("{}: data connection from predecessor failed, closing {}: {} (framing error #{} in this"
                            + " process; #1, #2, #4, ... are logged at WARN)", peer, ctx.channel(), cause.toString(),
                            FRAMING_ERRORS.events());
                } else {
                    LOG.debug("{}: data connection from predecessor failed, closing {}: {}", peer, ctx.channel(),
                            cause.toString());
                }
            } else {
                LOG.warn("{}: data connection from predecessor failed, closing {}", peer, ctx.channel(), cause);
            }
        }
        ctx.close();
    }
}
