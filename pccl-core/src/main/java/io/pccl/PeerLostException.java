package io.pccl;

/**
 * A ring neighbour or group member was lost during an operation. Retryable: call {@code updateTopology()}, then retry.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class PeerLostException extends PcclException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what happened
     */
    public PeerLostException(final String message) {
        super(Code.PEER_LOST, message);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what happened
     * @param cause the underlying failure
     */
    public PeerLostException(final String message, final Throwable cause) {
        super(Code.PEER_LOST, message, cause);
    }
}
