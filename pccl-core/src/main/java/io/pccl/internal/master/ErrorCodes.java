package io.pccl.internal.master;

import io.pccl.KickedException;
import io.pccl.MasterLostException;
import io.pccl.PcclException;
import io.pccl.proto.ErrorCode;

/**
 * Maps the wire {@link ErrorCode} to {@link PcclException.Code} and builds the exception a caller sees for a
 * structured error received from the master.
 *
 * <p>Thread-safe (stateless).
 */
public final class ErrorCodes {
    private ErrorCodes() {
    }

    /**
     * The API code for a wire code.
     *
     * @param code the wire code
     * @return the matching API code ({@code INTERNAL} for unknown values)
     */
    public static PcclException.Code toCode(final ErrorCode code) {
        switch (code) {
            case ERROR_PROTOCOL_VIOLATION:
                return PcclException.Code.PROTOCOL_VIOLATION;
            case ERROR_INVALID_ARGUMENT:
            case ERROR_COLLECTIVE_MISMATCH:
                return PcclException.Code.INVALID_ARGUMENT;
            case ERROR_FAILED_PRECONDITION:
            case ERROR_REVISION_VIOLATION:
                return PcclException.Code.FAILED_PRECONDITION;
            case ERROR_KICKED:
                return PcclException.Code.KICKED;
            case ERROR_SHUTTING_DOWN:
            case ERROR_RESOURCE_EXHAUSTED:
                return PcclException.Code.MASTER_UNAVAILABLE;
            case ERROR_SHARED_STATE_MISMATCH:
                return PcclException.Code.SHARED_STATE_FAILED;
            case ERROR_UNAUTHENTICATED:
                return PcclException.Code.UNAUTHENTICATED;
            default:
                return PcclException.Code.INTERNAL;
        }
    }

    /**
     * The exception for an {@code Error} envelope the master sent before closing the connection: a
     * {@link MasterLostException} when the master is shutting down or refused the connection at its connection
     * limit (both retryable: reconnect later), {@code UNAUTHENTICATED} when the connection did not prove the master's
     * shared key, else a {@link KickedException} whose message carries the master's code and reason.
     *
     * @param master the master's address, for the message
     * @param peerId this peer's id (0 before registration)
     * @param code the wire code
     * @param reason the master's reason
     * @return the exception
     */
    public static PcclException fromMasterError(final String master, final long peerId, final ErrorCode code,
                                                final String reason) {
        if (code == ErrorCode.ERROR_SHUTTING_DOWN) {
            return new MasterLostException("master at " + master + " is shutting down: " + reason);
        }
        if (code == ErrorCode.ERROR_RESOURCE_EXHAUSTED) {
            return new MasterLostException("master at " + master + " refused the connection: " + reason);
        }
        if (code == ErrorCode.ERROR_UNAUTHENTICATED) {
            return new PcclException(PcclException.Code.UNAUTHENTICATED, "master at " + master
                    + " refused the connection: " + reason);
        }
        return new KickedException("master at " + master + " removed peer " + peerId + " (" + code + "): "
                + (reason.isEmpty() ? "no reason given" : reason));
    }

    /**
     * The exception for a refused registration.
     *
     * @param master the master's address
     * @param code the wire code from {@code RegisterResponse}
     * @param reason the master's reason
     * @return a {@link KickedException} for {@code ERROR_KICKED}, else a {@link PcclException} with the mapped code
     */
    public static PcclException fromRejection(final String master, final ErrorCode code, final String reason) {
        final String message = "master at " + master + " refused registration (" + code + "): " + reason;
        if (code == ErrorCode.ERROR_KICKED) {
            return new KickedException(message);
        }
        if (code == ErrorCode.ERROR_SHUTTING_DOWN) {
            return new MasterLostException(message);
        }
        return new PcclException(toCode(code), message);
    }
}
