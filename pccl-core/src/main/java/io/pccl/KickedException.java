package io.pccl;

/**
 * The master removed this peer; the message carries the master's reason.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class KickedException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public KickedException(final String message) {
        super(Code.KICKED, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public KickedException(final String message, final Throwable cause) {
        super(Code.KICKED, message, cause);
    }
}
