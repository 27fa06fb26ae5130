package io.pccl.master.state.election;

/**
 * Why a voter's sync failed. {@link #wireErrorCode()} gives the matching {@code ErrorCode} number of
 * {@code pccl.proto}.
 *
 * <p>Thread-safe (immutable).
 */
public enum FailureCode {
    /** The voter's revision is ahead of the group's expected revision. */
    REVISION_AHEAD(9),
    /** The voter's key set, or the shape (count, type, hash type, flag) of a key, differs from the elected one. */
    KEY_SET_MISMATCH(8),
    /** ENFORCE_POPULAR and other strategies were mixed in one group; the non-ENFORCE_POPULAR voters fail. */
    STRATEGY_MIX(8),
    /** A SEND_ONLY voter would have had to receive content or a revision. */
    SEND_ONLY_MUST_RECEIVE(8),
    /** No voter can provide content (e.g. every voter is RECEIVE_ONLY). */
    NO_CANDIDATE(8),
    /** The vote itself is malformed (no entries, duplicate key names). */
    INVALID_VOTE(2);

    private final int wireErrorCode;

    FailureCode(final int wireErrorCode) {
        this.wireErrorCode = wireErrorCode;
    }

    /**
     * The {@code ErrorCode} number on the wire.
     *
     * @return 2 (INVALID_ARGUMENT), 8 (SHARED_STATE_MISMATCH) or 9 (REVISION_VIOLATION)
     */
    public int wireErrorCode() {
        return wireErrorCode;
    }
}
