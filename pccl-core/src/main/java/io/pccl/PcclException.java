package io.pccl;

import java.util.Objects;

/**
 * The root of every error pccl reports. Unchecked, with a {@link Code} that tells the caller what to do next.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public class PcclException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * What went wrong, and so what the caller should do. The litmus test for a code: would a caller handle it
     * differently from every other code?
     */
    public enum Code {
        /** A ring neighbour or group member was lost. Call {@code updateTopology()}, then retry the collective. */
        PEER_LOST(true),
        /** The group changed under the operation. Call {@code updateTopology()}, then retry. */
        TOPOLOGY_CHANGED(true),
        /** The master cannot be reached or went away. Retry with backoff (reconnect). */
        MASTER_UNAVAILABLE(true),
        /** An operation did not finish in its time bound. Retry may succeed. */
        TIMEOUT(true),
        /** The group has fewer than two peers. Wait for peers to join, then retry. */
        TOO_FEW_PEERS(true),
        /** A value passed in is invalid. Do not retry: fix the call. */
        INVALID_ARGUMENT(false),
        /** The call is not allowed in the current state (e.g. an update while collectives run). Do not retry. */
        FAILED_PRECONDITION(false),
        /** The master removed this peer; the message carries the master's reason. Do not retry on this handle. */
        KICKED(false),
        /** The other side broke the protocol. The connection is closed. */
        PROTOCOL_VIOLATION(false),
        /**
         * The other side of a connection does not hold this side's shared key, or holds one where this side has
         * none ({@code Communicator.Builder.authKey}); or only one side uses TLS, or a TLS handshake failed because
         * a certificate is not trusted ({@code Communicator.Builder.tls}). Do not retry: configure the same key, and
         * TLS with certificates of one CA, everywhere.
         */
        UNAUTHENTICATED(false),
        /** Shared-state content could not be obtained or verified. Update topology, then retry. */
        SHARED_STATE_FAILED(true),
        /** The handle is closed. */
        CLOSED(false),
        /** A bug in pccl. */
        INTERNAL(false);

        private final boolean retryable;

        Code(final boolean retryable) {
            this.retryable = retryable;
        }

        /**
         * Whether an operation that failed with this code may succeed if retried after the documented step.
         *
         * @return true for retryable codes
         */
        public boolean isRetryable() {
            return retryable;
        }
    }

    private final Code code;

    /**
     * Creates an exception.
     *
     * @param code what went wrong
     * @param message what happened, naming the value, the limit and the context
     */
    public PcclException(final Code code, final String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    /**
     * Creates an exception with a cause.
     *
     * @param code what went wrong
     * @param message what happened, naming the value, the limit and the context
     * @param cause the underlying failure
     */
    public PcclException(final Code code, final String message, final Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /**
     * The error code.
     *
     * @return the code, never null
     */
    public Code code() {
        return code;
    }

    /**
     * Whether retrying (after the step the code documents) may succeed.
     *
     * @return {@code code().isRetryable()}
     */
    public boolean isRetryable() {
        return code.isRetryable();
    }

    @Override
    public String toString() {
        return getClass().getName() + "[" + code + "]: " + getMessage();
    }
}
