package io.pccl;

/**
 * A shared-state synchronisation failed (no distributor, hash mismatch, distributor lost, strategy violation).
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class SharedStateSyncException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public SharedStateSyncException(final String message) {
        super(Code.SHARED_STATE_FAILED, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public SharedStateSyncException(final String message, final Throwable cause) {
        super(Code.SHARED_STATE_FAILED, message, cause);
    }

    /**
     * Creates the exception with an explicit code.
     *
     * @param code the code (e.g. {@code KICKED} when the master removed this peer)
     * @param message what happened
     * @param cause the underlying failure, may be null
     */
    public SharedStateSyncException(final Code code, final String message, final Throwable cause) {
        super(code, message, cause);
    }
}
