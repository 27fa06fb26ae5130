package io.pccl.transport.tls;

import io.netty.channel.ChannelHandlerContext;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.auth.AuthenticationFailedException;
import org.slf4j.Logger;

import javax.security.auth.x500.X500Principal;

/**
 * Which end of one TLS connection this process is, and how that end reports a failure: the dialing end names the
 * other side in an {@link AuthenticationFailedException} sent down its pipeline, the accepting end logs through
 * its server's throttle. Shared by the connection's two TLS helper handlers.
 *
 * <p>Thread-safe (immutable; the throttle is thread-safe).
 *
 * @param accepting whether this is the accepting end
 * @param remote names the other side in messages (dialing end), e.g. "master at 10.0.0.1:48148"
 * @param failures the accepting end's refusal counter (null when dialing)
 * @param expectedSubject dialing end: the subject the other side's certificate must have (the one the master saw
 *        it register with), or null for any certificate the trusted CAs signed
 */
record TlsEnd(boolean accepting, String remote, LogThrottle failures, X500Principal expectedSubject) {
    static TlsEnd dialing(final String remote, final X500Principal expectedSubject) {
        return new TlsEnd(false, remote, null, expectedSubject);
    }

    static TlsEnd accepting(final LogThrottle failures) {
        return new TlsEnd(true, null, failures, null);
    }

    /**
     * Reports a failure and closes the channel: the dialer's handlers get {@code dialerMessage}, the acceptor logs
     * {@code why}.
     */
    void fail(final ChannelHandlerContext ctx, final Logger log, final String why, final String dialerMessage) {
        if (accepting) {
            failures.refusedHandshake(log, ctx.channel().remoteAddress(), why);
        } else {
            ctx.fireExceptionCaught(new AuthenticationFailedException(dialerMessage));
        }
        ctx.close();
    }
}
