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
    /**
     * This peer only receives; its content never becomes a candidate. Mixes with {@link #ENFORCE_POPULAR}: a peer
     * joining a run that already has state uses it until its first successful sync, so that it cannot seed the
     * group (say, a group that a restarted master formed before any holder of the state came back). A group of
     * {@code RECEIVE_ONLY} voters alone fails its sync (retryably) until a holder takes part.
     */
    RECEIVE_ONLY,
    /**
     * This peer's content must be the group's; the sync fails for it if it would have to receive, or if a peer of
     * the group votes {@link #ENFORCE_POPULAR}.
     */
    SEND_ONLY
}
