package io.pccl.transport.auth;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.security.MessageDigest;

/**
 * What both ends of the handshake share: collecting the few handshake bytes from the socket, holding the writes
 * of the handlers behind it until the handshake succeeded (the initiator's: its protocol must not start before
 * the other side proved the key; a responder lets its side's refusals and timeouts through, which reveal
 * nothing), and then stepping out of the pipeline, passing on any bytes that arrived after the handshake.
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
abstract class AbstractAuthHandler extends ChannelDuplexHandler {
    /** Writes of later handlers, held until the handshake succeeded. */
    private final ArrayDeque<Object[]> held = new ArrayDeque<>();
    private final boolean holdWrites;
    private boolean flushHeld;
    /** Handshake bytes received so far. */
    private ByteBuf received;
    /** Set once the handshake succeeded or failed. */
    private boolean finished;
    /** Set once it succeeded: from then on bytes pass through; after a failure they are dropped. */
    private boolean succeeded;

    AbstractAuthHandler(final boolean holdWrites) {
        this.holdWrites = holdWrites;
    }

    /**
     * Consumes the handshake bytes in {@code in} (readable bytes accumulated so far).
     *
     * @return true when the handshake succeeded; the bytes after it are passed on
     */
    abstract boolean onBytes(ChannelHandlerContext ctx, ByteBuf in);

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        received = ctx.alloc().heapBuffer(AuthHandshake.ANSWER_BYTES);
    }

    @Override
    public final void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (succeeded || !(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (finished) {
            ReferenceCountUtil.release(msg); // after a failure nothing unauthenticated reaches the protocol
            return;
        }
        try {
            received.writeBytes(buf);
        } finally {
            buf.release();
        }
        if (onBytes(ctx, received) && !finished) {
            succeed(ctx);
        }
    }

    @Override
    public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise) {
        if (succeeded || !holdWrites) {
            ctx.write(msg, promise);
        } else if (finished) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new AuthenticationFailedException("the connection's authentication failed"));
        } else {
            held.add(new Object[] {msg, promise});
        }
    }

    @Override
    public void flush(final ChannelHandlerContext ctx) {
        if (succeeded || !holdWrites) {
            ctx.flush();
        } else {
            flushHeld = true;
        }
    }

    /** Writes a handshake message of this handler itself, ahead of the held writes. */
    static void send(final ChannelHandlerContext ctx, final byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        final ByteBuf out = ctx.alloc().buffer(n);
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        ctx.writeAndFlush(out);
    }

    /** Constant-time comparison of a received proof with the expected one. */
    static boolean matches(final ByteBuf in, final int offset, final byte[] expected) {
        final byte[] got = new byte[expected.length];
        in.getBytes(in.readerIndex() + offset, got);
        return MessageDigest.isEqual(got, expected);
    }

    private void succeed(final ChannelHandlerContext ctx) {
        finished = true;
        succeeded = true;
        while (!held.isEmpty()) {
            final Object[] w = held.poll();
            ctx.write(w[0], (ChannelPromise) w[1]);
        }
        if (flushHeld) {
            ctx.flush();
        }
        final ByteBuf rest = received;
        received = null;
        ctx.pipeline().remove(this);
        if (rest.isReadable()) {
            ctx.fireChannelRead(rest);
        } else {
            rest.release();
        }
    }

    /**
     * Ends the handshake unsuccessfully and closes the channel. The initiator ({@code errorFrame == null}) sends
     * {@code why} down the pipeline first, so its protocol handler reports this failure rather than the held writes'
     * failures that follow; the responder only answers with its {@code Error} frame, since the protocol behind it
     * never saw the connection.
     *
     * @param errorFrame a frame to write before closing (the responder's {@code Error}), or null
     */
    final void fail(final ChannelHandlerContext ctx, final String why, final ByteBuf errorFrame) {
        if (finished) {
            ReferenceCountUtil.release(errorFrame);
            return;
        }
        finished = true;
        final AuthenticationFailedException e = new AuthenticationFailedException(why);
        if (errorFrame == null) {
            ctx.fireExceptionCaught(e);
        }
        failHeld(e);
        if (errorFrame != null) {
            ctx.writeAndFlush(errorFrame).addListener(f -> ctx.close());
        } else {
            ctx.close();
        }
    }

    /**
     * Ends the handshake by handing the received bytes (a refusal the other side sent instead of its answer) to
     * the protocol handlers behind, which report it as they report any {@code Error}; held writes fail, the
     * channel closes.
     */
    final void passRefusal(final ChannelHandlerContext ctx, final String what) {
        finished = true;
        final ByteBuf rest = received;
        received = null;
        final java.util.List<Object[]> pending = new java.util.ArrayList<>(held);
        held.clear();
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(rest);
        for (Object[] w : pending) {
            ReferenceCountUtil.release(w[0]);
            ((ChannelPromise) w[1]).tryFailure(new AuthenticationFailedException(what));
        }
        ctx.close();
    }

    private void failHeld(final Throwable cause) {
        while (!held.isEmpty()) {
            final Object[] w = held.poll();
            ReferenceCountUtil.release(w[0]);
            ((ChannelPromise) w[1]).tryFailure(cause);
        }
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        if (!finished) {
            finished = true;
            failHeld(new AuthenticationFailedException("connection closed during the authentication handshake"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        failHeld(new AuthenticationFailedException("authentication handler removed before the handshake ended"));
        if (received != null) {
            received.release();
            received = null;
        }
    }
}
