package io.pccl.master.state;

/**
 * The kinds of group-wide votes. Each needs every accepted peer of the group, and a peer in one vote cannot
 * cast another, so a group votes on one kind at a time: a vote of another kind arriving while one is in
 * progress is refused at once ({@link GroupState#conflictingVote}) instead of waiting forever.
 *
 * <p>Thread-safe (immutable).
 */
enum GroupVoteKind {
    /** {@code EstablishP2PRequest}: peers in {@link PeerPhase#VOTED_ESTABLISH}. */
    ESTABLISH("establishment"),
    /** {@code PeersPendingQuery}: peers in {@link PeerPhase#QUERYING_PENDING}. */
    PENDING_QUERY("pending-peers query"),
    /** {@code SyncSharedStateRequest}: peers in {@link PeerPhase#VOTED_SYNC}. */
    SYNC("shared-state sync"),
    /** {@code OptimizeTopologyRequest}: peers in {@link PeerPhase#VOTED_OPTIMIZE}. */
    OPTIMIZE("topology optimization"),
    /** {@code CollectiveInitiate}: initiate votes of collectives that have not commenced. */
    COLLECTIVE("collective");

    private final String description;

    GroupVoteKind(final String description) {
        this.description = description;
    }

    /** Human-readable name for reasons, e.g. "shared-state sync". */
    String description() {
        return description;
    }
}
