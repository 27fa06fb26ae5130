package io.pccl.transport.auth;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.PlainFrames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The accepting end of {@link AuthHandshake}: answers the initiator's nonce with its own and its proof, checks the
 * initiator's proof, then passes the protocol bytes that follow to the handlers behind it. Anything but the
 * handshake's magic first gets an {@code Error} frame ({@code ERROR_UNAUTHENTICATED}) and a close; so does a
 * wrong proof, or no proof within the timeout.
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
final class AuthResponderHandler extends AbstractAuthHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AuthResponderHandler.class);

    private final SharedKey key;
    private final long timeoutNs;
    private final LogThrottle failures;
    private byte[] theirs;
    private byte[] ours;
    private ScheduledFuture<?> timeout;

    AuthResponderHandler(final SharedKey key, final long timeoutNs, final LogThrottle failures) {
        super(false);
        this.key = key;
        this.timeoutNs = timeoutNs;
        this.failures = failures;
    }

    /** Refuses the connection: the {@code Error} frame, a (throttled) log line, the close. */
    private void refuse(final ChannelHandlerContext ctx, final String why) {
        failures.refusedHandshake(LOG, ctx.channel().remoteAddress(), why);
        fail(ctx, why, PlainFrames.errorFrame(ctx.alloc(), ErrorCode.ERROR_UNAUTHENTICATED, why));
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        timeout = ctx.executor().schedule(() -> refuse(ctx, "authentication timed out after "
                + timeoutNs / 1_000_000L + " ms"), timeoutNs, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        timeout.cancel(false);
        super.handlerRemoved(ctx);
    }

    @Override
    boolean onBytes(final ChannelHandlerContext ctx, final ByteBuf in) {
        if (theirs == null) {
            if (in.readableBytes() >= 4 && in.getInt(in.readerIndex()) != AuthHandshake.MAGIC) {
                final String why = "authentication required: this side has a shared key and the connection did not "
                        + "open with the authentication handshake (first bytes " + PlainFrames.head(in) + ")";
                refuse(ctx, why);
                return false;
            }
            if (in.readableBytes() < AuthHandshake.HELLO_BYTES) {
                return false;
            }
            theirs = new byte[AuthHandshake.NONCE_BYTES];
            in.getBytes(in.readerIndex() + 4, theirs);
            in.skipBytes(AuthHandshake.HELLO_BYTES);
            ours = AuthHandshake.nonce();
            send(ctx, ByteBuffer.allocate(4).putInt(AuthHandshake.MAGIC).array(), ours,
                    key.mac(AuthHandshake.RESPONDER_LABEL, theirs, ours));
        }
        if (in.readableBytes() < AuthHandshake.MAC_BYTES) {
            return false;
        }
        if (!matches(in, 0, key.mac(AuthHandshake.INITIATOR_LABEL, theirs, ours))) {
            refuse(ctx, "authentication failed: the connection's proof does not match this side's shared key");
            return false;
        }
        in.skipBytes(AuthHandshake.MAC_BYTES);
        return true;
    }
}
