package io.pccl;

/**
 * How a peer takes part in a shared-state synchronisation. Enforced per peer group.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public enum SyncStrategy {
    /** The most popular content in the group wins; this peer sends or receives as needed. */
    ENFORCE_POPULAR,
    /** This peer only receives; its content never becomes a candidate. */
    RECEIVE_ONLY,
    /** This peer's content must be the group's; the sync fails for it if it would have to receive. */
    SEND_ONLY
}
