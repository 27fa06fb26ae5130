package io.pccl.transport.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.BadPaddingException;
import javax.net.ssl.SSLException;
import javax.security.auth.x500.X500Principal;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * Sits right behind the {@code SslHandler} and turns its failures into what the protocol handlers already know:
 * <ul>
 *   <li>dialing end: a failed handshake, or a TLS error before any data arrived (under TLS 1.3 the other side
 *       rejects this side's certificate only after this side's handshake completed), becomes one
 *       {@link io.pccl.transport.auth.AuthenticationFailedException} naming the other side and the cause; a
 *       handshake the other side abandoned (it closed) or did not finish in time, and TLS errors after data
 *       arrived (a corrupted or tampered record), pass on unchanged, as a lost connection;</li>
 *   <li>accepting end: a failed handshake gets a throttled WARN line and the close, one the dialer abandoned a
 *       DEBUG line; TLS errors before any data never reach the protocol handlers, which never saw the connection,
 *       and those after data pass on unchanged.</li>
 * </ul>
 *
 * <p>Not thread-safe; confined to its channel's event loop.
 */
final class TlsFailureHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TlsFailureHandler.class);

    private final TlsEnd end;
    private boolean dataSeen;
    private boolean reported;

    TlsFailureHandler(final TlsEnd end) {
        this.end = end;
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
            } else if (end.expectedSubject() != null) {
                checkIdentity(ctx);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        if (!isTls(cause) || dataSeen) {
            // After data arrived the protocol handlers own the connection: to them a TLS error (a corrupted or
            // forged record) is a failed connection like any other.
            ctx.fireExceptionCaught(cause);
            return;
        }
        failed(ctx, cause);
    }

    /**
     * Dialing end: the other side must present a certificate of the subject its peer registered with at the master,
     * not merely one the deployment's CA signed (another member answering at that address would pass that).
     */
    private void checkIdentity(final ChannelHandlerContext ctx) {
        final X500Principal expected = end.expectedSubject();
        final X509Certificate leaf = TlsConfig.otherSideLeaf(ctx.channel());
        if (leaf != null && expected.equals(leaf.getSubjectX500Principal())) {
            return;
        }
        reported = true;
        end.fail(ctx, LOG, "unexpected certificate", "TLS with " + end.remote() + " failed: it presented the "
                + "certificate " + (leaf == null ? "(none)" : TlsConfig.describe(leaf)) + ", not one of the subject "
                + expected.getName() + " that peer registered with at the master: another holder of a certificate "
                + "of the deployment answers at that address");
    }

    private void failed(final ChannelHandlerContext ctx, final Throwable cause) {
        if (reported) {
            return;
        }
        reported = true;
        final String why = describe(cause);
        if (end.accepting() && abandoned(cause)) {
            // Not a refusal: the dialer gave up (a probe refused as busy closes its other streams mid-handshake).
            LOG.debug("connection from {} ended during the TLS handshake: {}", ctx.channel().remoteAddress(), why);
            ctx.close();
            return;
        }
        if (!end.accepting() && (abandoned(cause) || timedOut(cause))) {
            // The other side went away or is slow (a restarting master): a lost connection, which is retryable,
            // not a verdict on the certificates.
            ctx.fireExceptionCaught(cause);
            ctx.close();
            return;
        }
        final boolean revoked = why.toLowerCase(java.util.Locale.ROOT).contains("revoked");
        end.fail(ctx, LOG, "TLS handshake failed: " + why, "TLS with " + end.remote() + " failed: " + why
                + (revoked ? " (a certificate on a revocation list of the deployment is refused)"
                : " (each side must present a certificate signed by a CA the other side trusts, not revoked)"));
    }

    private static boolean timedOut(final Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SslHandshakeTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static boolean isTls(final Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException || t instanceof NotSslRecordException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the handshake ended because the other side went away, not because a check failed: the connection
     * closed, or the dialer sent the plain alert with which a TLS engine closes mid-handshake (which the handshake
     * keys cannot open: the JDK reports a {@link BadPaddingException}, BoringSSL {@code BAD_PACKET_LENGTH}).
     */
    private static boolean abandoned(final Throwable cause) {
        boolean tls = false;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            final String m = String.valueOf(t.getMessage());
            if (t instanceof BadPaddingException || t instanceof ClosedChannelException
                    || m.contains("BAD_PACKET_LENGTH") || m.startsWith("Connection closed while")) {
                return true;
            }
            tls |= t instanceof SSLException;
        }
        return !tls;
    }

    /**
     * The innermost TLS exception's message, the one that names the reason (an alert, a path failure), and the
     * message of this side's own certificate check when it refused the other side (which BoringSSL reports only as
     * a "General OpenSslEngine problem").
     */
    private static String describe(final Throwable cause) {
        String message = String.valueOf(cause);
        String check = null;
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException && t.getMessage() != null) {
                message = t.getMessage();
            }
            if (check == null && t instanceof CertificateException && t.getMessage() != null) {
                check = t.getMessage();
            }
        }
        return check == null || message.contains(check) ? message : message + ": " + check;
    }
}
