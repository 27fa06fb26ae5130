package io.pccl.transport.auth;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.pccl.proto.Error;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.PlainFrames;

import java.nio.ByteBuffer;

/**
 * The dialing end of {@link AuthHandshake}: sends its nonce when the connection opens, checks the responder's
 * proof, sends its own, then lets the held protocol writes (the {@code Hello}) through.
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
final class AuthInitiatorHandler extends AbstractAuthHandler {
    private final SharedKey key;
    private final String remote;

    private final byte[] nonce = AuthHandshake.nonce();

    AuthInitiatorHandler(final SharedKey key, final String remote) {
        super(true);
        this.key = key;
        this.remote = remote;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    private void start(final ChannelHandlerContext ctx) {
        send(ctx, ByteBuffer.allocate(4).putInt(AuthHandshake.MAGIC).array(), nonce);
    }

    @Override
    boolean onBytes(final ChannelHandlerContext ctx, final ByteBuf in) {
        if (in.readableBytes() >= 4 && in.getInt(in.readerIndex()) != AuthHandshake.MAGIC) {
            return notAnswered(ctx, in);
        }
        if (in.readableBytes() < AuthHandshake.ANSWER_BYTES) {
            return false;
        }
        final byte[] theirs = new byte[AuthHandshake.NONCE_BYTES];
        in.getBytes(in.readerIndex() + 4, theirs);
        if (!matches(in, 4 + AuthHandshake.NONCE_BYTES, key.mac(AuthHandshake.RESPONDER_LABEL, nonce, theirs))) {
            fail(ctx, remote + " failed to prove the shared key: the two sides hold different keys", null);
            return false;
        }
        in.skipBytes(AuthHandshake.ANSWER_BYTES);
        send(ctx, key.mac(AuthHandshake.INITIATOR_LABEL, nonce, theirs));
        return true;
    }

    /**
     * The other side sent something else than the handshake's answer. A control frame with an {@code Error} (a
     * connection limit, a shutdown) goes to the protocol handlers, which report it as usual. Anything else, and the
     * {@code PROTOCOL_VIOLATION} with which a side without a key rejects the handshake's first bytes, means that
     * side has no key.
     *
     * @return false (the handshake did not succeed)
     */
    private boolean notAnswered(final ChannelHandlerContext ctx, final ByteBuf in) {
        if (!PlainFrames.decidable(in)) {
            return false; // the rest of the frame is on its way
        }
        final Error refusal = PlainFrames.error(in);
        if (refusal != null && refusal.getCode() != ErrorCode.ERROR_PROTOCOL_VIOLATION) {
            passRefusal(ctx, remote + " refused the connection before authenticating: " + refusal.getReason());
            return false;
        }
        final String answered = refusal == null ? "" : "; it answered: " + refusal.getReason();
        fail(ctx, remote + " does not answer the authentication handshake (its first bytes are "
                + PlainFrames.head(in) + answered + "): it has no shared key configured, or is not a pccl endpoint",
                null);
        return false;
    }
}
