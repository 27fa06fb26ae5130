package io.pccl;

/**
 * The peer group has fewer than two peers, so no collective can run.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class TooFewPeersException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public TooFewPeersException(final String message) {
        super(Code.TOO_FEW_PEERS, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public TooFewPeersException(final String message, final Throwable cause) {
        super(Code.TOO_FEW_PEERS, message, cause);
    }
}
