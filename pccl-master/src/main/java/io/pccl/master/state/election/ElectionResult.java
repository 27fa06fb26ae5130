package io.pccl.master.state.election;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The result of one group's election.
 *
 * <p>Thread-safe (immutable).
 *
 * @param outcomes one outcome per voter, by ascending peer id
 * @param advanced true when at least one voter did not fail: then the group's revision after this sync is
 *                 {@code revision} and the next sync expects {@code revision + 1}; false: nothing changes
 * @param revision the revision every non-failed voter holds after the sync (valid when {@code advanced})
 * @param electedEntries the elected entries in name order (empty when nothing was elected)
 */
public record ElectionResult(SortedMap<Long, PeerOutcome> outcomes, boolean advanced, long revision,
                             List<EntryVote> electedEntries) {
    /**
     * Copies the collections.
     *
     * @param outcomes one outcome per voter
     * @param advanced whether the group's revision advanced
     * @param revision the revision after the sync
     * @param electedEntries the elected entries
     */
    public ElectionResult {
        outcomes = Collections.unmodifiableSortedMap(new TreeMap<>(outcomes));
        electedEntries = List.copyOf(electedEntries);
    }

    /**
     * The outcome of one voter.
     *
     * @param peerId the voter
     * @return its outcome, or null if it did not vote
     */
    public PeerOutcome outcome(final long peerId) {
        return outcomes.get(peerId);
    }

    /**
     * Convenience view of the non-failed voters' outcomes.
     *
     * @return map of peer id to outcome, ascending, failures left out
     */
    public Map<Long, PeerOutcome> successes() {
        final TreeMap<Long, PeerOutcome> m = new TreeMap<>();
        for (final Map.Entry<Long, PeerOutcome> e : outcomes.entrySet()) {
            if (!(e.getValue() instanceof PeerOutcome.Failed)) {
                m.put(e.getKey(), e.getValue());
            }
        }
        return m;
    }
}
