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
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of a master control connection: hands decoded envelopes, opens and closes to the
 * {@link MasterConductor} in arrival order (called inline when this channel's event loop is the conductor's, else
 * one {@code execute} each) and owns {@code exceptionCaught}:
 * malformed frames ({@code TooLongFrameException}, {@code DecoderException}) and reader idleness get an
 * {@code Error} envelope and a close, logged once at WARN; I/O errors just close.
 *
 * <p>Back-pressure: while the channel is not writable (its unsent answers are above the write buffer's high-water
 * mark), the handler stops reading it, so a peer that sends requests but does not read the answers cannot grow the
 * master's memory; TCP then holds its further requests. A peer stuck like that sends nothing the master reads, so
 * the reader-idle check drops it at the heartbeat timeout, without an {@code Error} (it would not be read either).
 *
 * <p>One instance per channel; confined to the channel's event loop.
 */
final class MasterChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(MasterChannelHandler.class);

    private final MasterConductor conductor;
    private MasterConnection conn;
    private boolean failed;

    MasterChannelHandler(final MasterConductor conductor) {
        this.conductor = conductor;
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) {
        final MasterConnection c = new MasterConnection(conductor.newConnectionId(), ctx.channel());
        conn = c;
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
        final MasterConnection c = conn;
        submit(ctx, () -> conductor.onEnvelope(c, envelope));
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        final MasterConnection c = conn;
        if (c != null) {
            submit(ctx, () -> conductor.onConnectionClosed(c));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
        final boolean writable = ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(writable);
        if (!writable) {
            LOG.debug("master: {} is not reading the master's messages ({} bytes to drain before it is writable"
                    + " again), pausing its reads", conn, ctx.channel().bytesBeforeWritable());
        }
        ctx.fireChannelWritabilityChanged();
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
            fail(ctx, "no message received within the heartbeat timeout", MasterError.KICKED);
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
        final String reason = cause instanceof DecoderException
                ? "malformed frame: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString())
                : "internal error: " + cause;
        fail(ctx, reason, cause instanceof DecoderException ? MasterError.PROTOCOL_VIOLATION : MasterError.INTERNAL);
    }

    private void fail(final ChannelHandlerContext ctx, final String reason, final MasterError code) {
        if (failed) {
            return;
        }
        failed = true;
        LOG.warn("master: closing {}: {}", conn, reason);
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
        try {
            executor.execute(task);
        } catch (final RejectedExecutionException e) {
            // The master is shutting down.
            ctx.close();
        }
    }
}
