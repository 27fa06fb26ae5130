package io.pccl;

/**
 * The master could not be reached, or the connection to it was lost.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class MasterLostException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public MasterLostException(final String message) {
        super(Code.MASTER_UNAVAILABLE, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public MasterLostException(final String message, final Throwable cause) {
        super(Code.MASTER_UNAVAILABLE, message, cause);
    }
}
