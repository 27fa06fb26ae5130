package io.pccl;

/**
 * A topology update (accepting peers, re-establishing the ring) failed; the message says why.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class TopologyUpdateFailedException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public TopologyUpdateFailedException(final String message) {
        super(Code.PEER_LOST, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public TopologyUpdateFailedException(final String message, final Throwable cause) {
        super(Code.PEER_LOST, message, cause);
    }

    /**
     * Creates the exception with an explicit code.
     *
     * @param code the code (e.g. {@code KICKED} when the master removed this peer)
     * @param message what happened
     * @param cause the underlying failure, may be null
     */
    public TopologyUpdateFailedException(final Code code, final String message, final Throwable cause) {
        super(code, message, cause);
    }
}
