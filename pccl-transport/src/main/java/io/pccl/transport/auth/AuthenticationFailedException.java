package io.pccl.transport.auth;

/**
 * The authentication handshake of a connection failed: the other side holds another key, holds none, or did not
 * answer as the handshake requires. The connection is closed; retrying with the same configuration cannot help.
 *
 * <p>Thread-safe (immutable).
 */
public final class AuthenticationFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, naming the other side
     */
    public AuthenticationFailedException(final String message) {
        super(message);
    }
}
