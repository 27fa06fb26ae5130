package io.pccl.master.state.election;

import java.util.List;
import java.util.Objects;

/**
 * One voter's shared-state sync request.
 *
 * <p>Thread-safe (immutable).
 *
 * @param peerId the voter's peer id (unique within the vote set)
 * @param revision the revision the voter holds, {@code >= 0} (treated as unsigned on the wire)
 * @param strategy the voter's strategy
 * @param entries the voter's entries in the voter's order; compared by name
 */
public record SyncVote(long peerId, long revision, VoteStrategy strategy, List<EntryVote> entries) {
    /**
     * Copies the entry list.
     *
     * @param peerId the voter's peer id
     * @param revision the revision the voter holds
     * @param strategy the voter's strategy, not null
     * @param entries the voter's entries, not null
     */
    public SyncVote {
        Objects.requireNonNull(strategy, "strategy");
        entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
    }
}
