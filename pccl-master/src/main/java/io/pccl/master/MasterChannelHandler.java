package io.pccl.master;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.pccl.master.state.MasterError;
import io.pccl.proto.Envelope;
import io.pccl.transport.ConnectionSlots;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of a master control connection: hands decoded envelopes, opens and closes to the
 * {@link MasterConductor} in arrival order (called inline when this channel's event loop is the conductor's, else
 * one {@code execute} each) and owns {@code exceptionCaught}:
 * malformed frames ({@code TooLongFrameException}, {@code DecoderException}) and reader idleness get an
 * {@code Error} envelope and a close, logged once at WARN; I/O errors just close.
 *
 * <p>Back-pressure, both ways, so that no peer can grow the master's memory: the handler stops reading the channel
 * <ul>
 *   <li>while it is not writable (its unsent messages are above the write buffer's high-water mark): a peer that
 *       sends requests but does not read the answers;</li>
 *   <li>while {@link #MAX_HANDED_OVER} or more of its events wait on the conductor's queue (only when this loop is
 *       not the conductor's), until fewer than {@link #RESUME_BELOW} do: a peer that sends faster than the conductor
 *       handles.</li>
 * </ul>
 * TCP then holds the peer's further frames. A peer paused for the heartbeat timeout is closed by the reader-idle
 * check: without an {@code Error} when it does not read (the Error would not be read either), with one otherwise.
 *
 * <p>Limits, so that no peer can take the master's CPU or its connection table (see {@link ConnectionLimits}):
 * <ul>
 *   <li>a connection opened while every {@link ConnectionSlots slot} is taken gets
 *       {@code Error{ERROR_RESOURCE_EXHAUSTED}} naming the limit and is closed; the conductor never hears of it;</li>
 *   <li>each message spends from the connection's {@link MessageRateLimit}; once the budget is spent, reads pause
 *       and the messages already read wait here, in order, to be handed over as the budget refills (a delay,
 *       nothing is dropped); a connection whose backlog would take longer than the heartbeat timeout to drain is
 *       kicked.</li>
 * </ul>
 *
 * <p>One instance per channel; confined to the channel's event loop, except the hand-over count, which the
 * conductor's thread decrements.
 */
final class MasterChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(MasterChannelHandler.class);

    /** Events of one connection waiting on the conductor's queue at which its reads pause. */
    static final int MAX_HANDED_OVER = 256;
    /** Waiting events below which paused reads resume. */
    static final int RESUME_BELOW = 64;
    /** A throttled connection's held messages are released in batches of about this much budget. */
    static final long RELEASE_QUANTUM_MS = 5;

    private final MasterConductor conductor;
    private final ConnectionSlots slots;
    private final MessageRateLimit rateLimit;
    private final long maxBacklogNs;
    private final AtomicInteger handedOver = new AtomicInteger();
    private MasterConnection conn;
    /** This connection holds a slot (and the conductor knows it). */
    private boolean admitted;
    private boolean failed;
    /** Reads are paused for the hand-over backlog; read by the conductor's thread to decide on a resume. */
    private volatile boolean backlogged;
    /** Reads are paused until the message budget has refilled. */
    private boolean throttled;
    /**
     * Messages read over the budget, waiting for it to refill, in arrival order. Reads pause as soon as the budget is
     * spent, so this holds at most what one socket read had already brought in (and the backlog limit kicks first).
     */
    private final ArrayDeque<Envelope> held = new ArrayDeque<>();

    MasterChannelHandler(final MasterConductor conductor, final ConnectionLimits limits) {
        this.conductor = conductor;
        this.slots = limits.slots();
        this.rateLimit = new MessageRateLimit(limits.messagesPerSecond(), limits.messagesPerSecond());
        this.maxBacklogNs = limits.readerIdleMs() > 0 ? TimeUnit.MILLISECONDS.toNanos(limits.readerIdleMs())
                : Long.MAX_VALUE;
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) {
        final MasterConnection c = new MasterConnection(conductor.newConnectionId(), ctx.channel());
        conn = c;
        if (!slots.tryAcquire()) {
            failed = true;
            final String reason = slots.limitReached("master") + "; try again later";
            if (slots.countRefusal()) {
                LOG.warn("master: refusing {}: {} ({} refused so far)", c, reason, slots.refused());
            }
            ctx.writeAndFlush(MasterProtoUtils.error(MasterError.RESOURCE_EXHAUSTED, reason))
                    .addListener(ChannelFutureListener.CLOSE);
            ctx.fireChannelActive();
            return;
        }
        admitted = true;
        submit(ctx, () -> conductor.onConnectionOpened(c));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (!(msg instanceof Envelope envelope)) {
            ReferenceCountUtil.release(msg);
            fail(ctx, "unexpected inbound object " + msg.getClass().getName(), null);
            return;
        }
        if (failed) {
            return;
        }
        final long now = now(ctx);
        if (held.isEmpty() && rateLimit.waitNs(now) == 0) {
            final long nextWaitNs = pass(ctx, envelope, now);
            if (nextWaitNs > 0) {
                throttle(ctx, nextWaitNs);
            }
            return;
        }
        held.add(envelope);
        final long waitNs = rateLimit.waitNs(now);
        final long backlogNs = waitNs + held.size() * rateLimit.nsPerMessage();
        if (backlogNs > maxBacklogNs) {
            held.clear();
            fail(ctx, "sent messages faster than its limit of " + rateLimit.perSecond() + " per second: the backlog"
                    + " would take " + TimeUnit.NANOSECONDS.toMillis(backlogNs) + " ms to drain, limit "
                    + TimeUnit.NANOSECONDS.toMillis(maxBacklogNs) + " ms (the heartbeat timeout)", MasterError.KICKED);
            return;
        }
        throttle(ctx, waitNs);
    }

    /**
     * Charges one message to the budget and hands it over.
     *
     * @return how long the next message must wait (0: the budget is not spent)
     */
    private long pass(final ChannelHandlerContext ctx, final Envelope envelope, final long now) {
        final MasterConnection c = conn;
        final long waitNs = rateLimit.spend(now);
        submit(ctx, () -> conductor.onEnvelope(c, envelope));
        return waitNs;
    }

    /** Pauses reads and starts the refill timer, unless already throttled. */
    private void throttle(final ChannelHandlerContext ctx, final long waitNs) {
        if (throttled) {
            return;
        }
        throttled = true;
        LOG.debug("master: {} spent its message budget ({} per second), pausing its reads for {} us", conn,
                rateLimit.perSecond(), TimeUnit.NANOSECONDS.toMicros(waitNs));
        updateAutoRead(ctx);
        ctx.executor().schedule(() -> refilled(ctx), Math.max(waitNs, 1), TimeUnit.NANOSECONDS);
    }

    /**
     * The throttle's timer: hands over the held messages the budget allows, then either waits for the next
     * {@link #RELEASE_QUANTUM_MS} of budget or, with nothing held, resumes reads (a message read while the budget is
     * still spent is held and throttles again).
     */
    private void refilled(final ChannelHandlerContext ctx) {
        if (failed || !ctx.channel().isActive()) {
            return;
        }
        final long now = now(ctx);
        long waitNs = rateLimit.waitNs(now);
        while (!held.isEmpty() && waitNs == 0) {
            waitNs = pass(ctx, held.poll(), now);
        }
        if (held.isEmpty()) {
            throttled = false;
            updateAutoRead(ctx);
            return;
        }
        // Wake when a few milliseconds' worth can go at once rather than once per message.
        final long quantum = Math.min(held.size(), Math.max(1, rateLimit.perSecond() * RELEASE_QUANTUM_MS / 1000));
        final long delayNs = waitNs + Math.max(0, quantum - 1) * rateLimit.nsPerMessage();
        ctx.executor().schedule(() -> refilled(ctx), Math.max(delayNs, 1), TimeUnit.NANOSECONDS);
    }

    private static long now(final ChannelHandlerContext ctx) {
        return ctx.executor().ticker().nanoTime();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        final MasterConnection c = conn;
        held.clear();
        if (admitted) {
            admitted = false;
            slots.release();
            submit(ctx, () -> conductor.onConnectionClosed(c));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            LOG.debug("master: {} is not reading the master's messages ({} bytes to drain before it is writable"
                    + " again), pausing its reads", conn, ctx.channel().bytesBeforeWritable());
        }
        updateAutoRead(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    /** From the conductor's thread: re-evaluate on the channel's loop. */
    private void resumeLater(final ChannelHandlerContext ctx) {
        try {
            ctx.channel().eventLoop().execute(() -> updateAutoRead(ctx));
        } catch (final RejectedExecutionException e) {
            // The channel's loop is shutting down with the master: nothing left to resume.
        }
    }

    /**
     * Reads on while the channel is writable, its hand-over backlog is short (with hysteresis) and it is within its
     * message budget.
     */
    private void updateAutoRead(final ChannelHandlerContext ctx) {
        final int waiting = handedOver.get();
        final boolean wasBacklogged = backlogged;
        final boolean nowBacklogged = waiting >= (wasBacklogged ? RESUME_BELOW : MAX_HANDED_OVER);
        if (nowBacklogged != wasBacklogged) {
            backlogged = nowBacklogged;
            LOG.debug("master: {} {} its reads, {} events waiting on the conductor", conn,
                    nowBacklogged ? "pausing" : "resuming", waiting);
        }
        ctx.channel().config().setAutoRead(ctx.channel().isWritable() && !nowBacklogged && !throttled);
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (!ctx.channel().isWritable()) {
                // Reads are paused because the peer does not read: an Error would only queue behind the answers.
                if (!failed) {
                    failed = true;
                    LOG.warn("master: closing {}: it has not read the master's messages for the heartbeat timeout",
                            conn);
                }
                ctx.close();
                return;
            }
            if (backlogged) {
                fail(ctx, "sent messages faster than the master handles them (" + handedOver.get() + " waiting, "
                        + "limit " + MAX_HANDED_OVER + ") for the heartbeat timeout", MasterError.KICKED);
            } else if (throttled) {
                fail(ctx, "over its message rate limit of " + rateLimit.perSecond() + " per second for the "
                        + "heartbeat timeout", MasterError.KICKED);
            }
            // Plain silence is judged by the conductor (registration deadline) and the state machine (heartbeat
            // timeout) on the master's pause-tolerant clock: after the master was paused, this idle event can
            // come before the messages waiting in the socket are read, and must not remove a live peer.
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        if (cause instanceof IOException) {
            if (!failed) {
                failed = true;
                LOG.debug("master: {} I/O error, closing", conn, cause);
            }
            ctx.close();
            return;
        }
        if (cause instanceof DecoderException) {
            // What the other side sent; any host that reaches the port can do it, so the log line is throttled.
            final String reason = "malformed frame: "
                    + (cause.getMessage() != null ? cause.getMessage() : cause.toString());
            if (!failed) {
                conductor.logStrangerFailure("closing " + conn, reason);
            }
            close(ctx, reason, MasterError.PROTOCOL_VIOLATION);
            return;
        }
        // A bug, whoever the connection belongs to: never throttled.
        if (!failed) {
            LOG.error("master: closing {} after an internal error", conn, cause);
        }
        close(ctx, "internal error: " + cause, MasterError.INTERNAL);
    }

    private void fail(final ChannelHandlerContext ctx, final String reason, final MasterError code) {
        if (!failed) {
            conductor.logClosing(conn, reason);
        }
        close(ctx, reason, code);
    }

    /** Sends the error and closes, once. */
    private void close(final ChannelHandlerContext ctx, final String reason, final MasterError code) {
        if (failed) {
            return;
        }
        failed = true;
        final MasterError c = code == null ? MasterError.PROTOCOL_VIOLATION : code;
        ctx.writeAndFlush(MasterProtoUtils.error(c, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    private void submit(final ChannelHandlerContext ctx, final Runnable task) {
        final EventExecutor executor = conductor.executor();
        if (executor.inEventLoop()) {
            // This loop is the conductor: no hand-off (and no wake-up) between reading a message and acting on it.
            try {
                task.run();
            } catch (final RuntimeException e) {
                // As the executor would have done: a conductor bug must not tear down this connection's pipeline.
                LOG.error("master: conductor task for {} failed", conn, e);
            }
            return;
        }
        final int waiting = handedOver.incrementAndGet();
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } finally {
                    if (handedOver.decrementAndGet() < RESUME_BELOW && backlogged) {
                        resumeLater(ctx);
                    }
                }
            });
        } catch (final RejectedExecutionException e) {
            // The master is shutting down.
            handedOver.decrementAndGet();
            ctx.close();
            return;
        }
        if (waiting >= MAX_HANDED_OVER && !backlogged) {
            updateAutoRead(ctx);
        }
    }
}
