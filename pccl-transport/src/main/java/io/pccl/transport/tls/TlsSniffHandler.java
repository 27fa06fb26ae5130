package io.pccl.transport.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.pccl.proto.Error;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.PlainFrames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits in front of the {@link SslHandler} of a connection that requires TLS and looks at the first bytes the other
 * side sends, so that a side configured without TLS gets, and gives, a clear answer instead of a decoder error:
 * <ul>
 *   <li>a TLS record: this handler steps out of the pipeline and the bytes go to the {@code SslHandler};</li>
 *   <li>on the accepting side, anything else: an {@code Error} ({@code ERROR_UNAUTHENTICATED}) control frame in
 *       plain text, naming the requirement, then the close;</li>
 *   <li>on the dialing side, a plain-text {@code Error} about a limit or a shutdown goes to the protocol handlers
 *       behind the {@code SslHandler}, which report it as they report any refusal (it is retryable); anything else
 *       ends in an {@link AuthenticationFailedException} naming the other side, and the close.</li>
 * </ul>
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
final class TlsSniffHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TlsSniffHandler.class);
    /** A TLS record header: content type, version, length. */
    private static final int RECORD_HEADER_BYTES = 5;

    private final TlsEnd end;
    private ByteBuf received;
    private boolean refused;

    TlsSniffHandler(final TlsEnd end) {
        this.end = end;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        received = ctx.alloc().heapBuffer(RECORD_HEADER_BYTES);
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        if (received != null) {
            received.release();
            received = null;
        }
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (refused || !(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            received.writeBytes(buf);
        } finally {
            buf.release();
        }
        if (received.readableBytes() < RECORD_HEADER_BYTES) {
            return;
        }
        if (SslHandler.isEncrypted(received, false)) {
            final ByteBuf first = received;
            received = null;
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(first);
            return;
        }
        if (end.accepting()) {
            refuse(ctx);
        } else {
            plainAnswer(ctx);
        }
    }

    private void refuse(final ChannelHandlerContext ctx) {
        refused = true;
        // This line is the connection's one report: the TLS handler's failure at the close below is not another.
        ctx.pipeline().remove(TlsConfig.FAILURE_NAME);
        final String why = "TLS required: this side accepts only TLS connections, and the connection's first bytes "
                + PlainFrames.head(received) + " are not a TLS record (configure TLS on both sides)";
        end.failures().refusedHandshake(LOG, ctx.channel().remoteAddress(), why);
        ctx.writeAndFlush(PlainFrames.errorFrame(ctx.alloc(), ErrorCode.ERROR_UNAUTHENTICATED, why))
                .addListener(f -> ctx.close());
    }

    /** The dialed side answered without TLS. */
    private void plainAnswer(final ChannelHandlerContext ctx) {
        if (!PlainFrames.decidable(received)) {
            return; // the rest of the frame is on its way
        }
        final Error refusal = PlainFrames.error(received);
        if (refusal != null && refusal.getCode() != ErrorCode.ERROR_PROTOCOL_VIOLATION
                && refusal.getCode() != ErrorCode.ERROR_UNAUTHENTICATED) {
            passRefusal(ctx);
            return;
        }
        refused = true;
        final String answered = refusal == null ? "" : "; it answered: " + refusal.getReason();
        end.fail(ctx, LOG, null, end.remote() + " does not speak TLS (its first bytes are "
                + PlainFrames.head(received) + answered + "): configure TLS on both sides or on neither");
    }

    /** Hands a plain refusal (a limit, a shutdown) to the handlers behind the {@code SslHandler}, then closes. */
    private void passRefusal(final ChannelHandlerContext ctx) {
        refused = true;
        final ChannelHandlerContext tls = ctx.pipeline().context(SslHandler.class);
        final ByteBuf frame = received;
        received = null;
        if (tls != null) {
            tls.fireChannelRead(frame);
        } else {
            frame.release();
        }
        ctx.close();
    }
}
