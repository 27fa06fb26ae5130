package io.pccl.transport.auth;

import io.netty.channel.ChannelPipeline;
import io.pccl.transport.LogThrottle;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * The shared-key handshake that opens every connection when a key is configured, before the protocol's
 * {@code Hello}. Both sides prove they hold the {@link SharedKey} over fresh nonces; neither sends the key.
 *
 * <pre>
 *  initiator (dialer)                                      responder (acceptor)
 *    | -- "PCA1" | nonce_i (32) --------------------------&gt; |
 *    | &lt;-- "PCA1" | nonce_r (32) | HMAC(k, R, nonce_i, nonce_r) |   responder proves the key
 *    | -- HMAC(k, I, nonce_i, nonce_r) (32) ----------------&gt; |   initiator proves the key
 *    | -- Hello ... (the protocol, unchanged) --------------&gt; |
 * </pre>
 *
 * R and I are distinct labels, so one side's proof is never valid for the other (no reflection); fresh nonces on
 * both sides make every proof single-use (no replay). The handshake authenticates the two ends; it does not
 * encrypt or protect the bytes that follow (see {@code docs/protocol.md}, "Authentication").
 *
 * <p>A responder whose first bytes are not the handshake's magic answers with an {@code Error}
 * ({@code ERROR_UNAUTHENTICATED}) control frame and closes, so a peer configured without a key learns why.
 *
 * <p>Thread-safe (stateless; the handlers it installs belong to one channel each).
 */
public final class AuthHandshake {
    /** Magic that opens both sides' first message: ASCII "PCA1". */
    public static final int MAGIC = 0x50434131;
    /** Bytes of a nonce. */
    static final int NONCE_BYTES = 32;
    /** Bytes of a proof (HMAC-SHA256). */
    static final int MAC_BYTES = 32;
    /** The initiator's first message: magic and nonce. */
    static final int HELLO_BYTES = 4 + NONCE_BYTES;
    /** The responder's answer: magic, nonce and proof. */
    static final int ANSWER_BYTES = 4 + NONCE_BYTES + MAC_BYTES;
    /** Pipeline name of the handshake handler (first in the pipeline until it removes itself). */
    public static final String HANDLER_NAME = "auth";

    static final byte[] RESPONDER_LABEL = "pccl-auth responder v1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] INITIATOR_LABEL = "pccl-auth initiator v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private AuthHandshake() {
    }

    /**
     * Puts the initiator's handshake first in {@code pipeline} (a dialed connection). Writes of the handlers behind
     * it are held until the handshake succeeded; on failure they fail, an {@link AuthenticationFailedException}
     * goes down the pipeline and the channel closes.
     *
     * @param pipeline the new channel's pipeline
     * @param key the shared key
     * @param remote names the other side in messages, e.g. "master at 10.0.0.1:48148"
     */
    public static void installInitiator(final ChannelPipeline pipeline, final SharedKey key, final String remote) {
        pipeline.addFirst(HANDLER_NAME, new AuthInitiatorHandler(key, remote));
    }

    /**
     * Puts the responder's handshake first in {@code pipeline} (an accepted connection).
     *
     * @param pipeline the new channel's pipeline
     * @param key the shared key
     * @param timeoutNs the handshake's bound from the connection's start; the channel closes after it
     * @param failures counts this server's refused handshakes; the 1st, 2nd, 4th, ... get a WARN line, the others
     *        a DEBUG line (any host that reaches the port can cause them)
     */
    public static void installResponder(final ChannelPipeline pipeline, final SharedKey key, final long timeoutNs,
                                        final LogThrottle failures) {
        pipeline.addFirst(HANDLER_NAME, new AuthResponderHandler(key, timeoutNs, failures));
    }

    static byte[] nonce() {
        final byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }
}
