package io.pccl.transport.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.auth.AuthenticationFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.BadPaddingException;
import javax.net.ssl.SSLException;

/**
 * Sits right behind the {@code SslHandler} and turns its failures into what the protocol handlers already know:
 * <ul>
 *   <li>dialing end: a failed handshake, or a TLS error before any data arrived (under TLS 1.3 the other side
 *       rejects this side's certificate only after this side's handshake completed), becomes one
 *       {@link AuthenticationFailedException} naming the other side and the cause; TLS errors after data arrived
 *       (a corrupted or tampered record) pass on unchanged, as a lost connection;</li>
 *   <li>accepting end: a failed handshake gets a throttled WARN line and the close; TLS errors never reach the
 *       protocol handlers, which never saw the connection.</li>
 * </ul>
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
final class TlsFailureHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TlsFailureHandler.class);

    private final boolean accepting;
    private final String remote;
    private final LogThrottle failures;
    private boolean dataSeen;
    private boolean reported;

    /**
     * @param accepting whether this is the accepting end
     * @param remote names the other side (dialing end)
     * @param failures counts the accepting end's refused handshakes (null when dialing)
     */
    TlsFailureHandler(final boolean accepting, final String remote, final LogThrottle failures) {
        this.accepting = accepting;
        this.remote = remote;
        this.failures = failures;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        dataSeen = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                failed(ctx, done.cause());
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        if (!isTls(cause) || dataSeen && !accepting) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        failed(ctx, cause);
    }

    private void failed(final ChannelHandlerContext ctx, final Throwable cause) {
        if (reported) {
            return;
        }
        reported = true;
        final String why = describe(cause);
        if (accepting && abandoned(cause)) {
            // Not a refusal: the dialer gave up (closed, or sent a plain alert the handshake keys cannot open, as
            // the JDK does when it closes mid-handshake; a probe refused as busy closes its other streams so).
            LOG.debug("connection from {} ended during the TLS handshake: {}", ctx.channel().remoteAddress(), why);
        } else if (accepting) {
            if (failures.count()) {
                LOG.warn("refusing connection from {}: TLS handshake failed: {} (handshake failure #{}; #1, #2, #4, "
                        + "... are logged at WARN)", ctx.channel().remoteAddress(), why, failures.events());
            } else {
                LOG.debug("refusing connection from {}: TLS handshake failed: {}", ctx.channel().remoteAddress(), why);
            }
        } else {
            ctx.fireExceptionCaught(new AuthenticationFailedException("TLS with " + remote + " failed: " + why
                    + " (each side must present a certificate signed by a CA the other side trusts)"));
        }
        ctx.close();
    }

    private static boolean isTls(final Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException || t instanceof NotSslRecordException) {
                return true;
            }
        }
        return false;
    }

    /** Whether the handshake ended because the other side went away, not because a check failed. */
    private static boolean abandoned(final Throwable cause) {
        boolean tls = false;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof BadPaddingException) {
                return true;
            }
            tls |= t instanceof SSLException;
        }
        return !tls; // a close (ClosedChannelException), not a verdict of the TLS engine
    }

    /** The innermost TLS exception's message: the one that names the reason (an alert, a path failure). */
    private static String describe(final Throwable cause) {
        String message = String.valueOf(cause);
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException && t.getMessage() != null) {
                message = t.getMessage();
            }
        }
        return message;
    }
}
