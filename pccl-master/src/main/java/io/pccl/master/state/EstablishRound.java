package io.pccl.master.state;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * One establishment round of a group: its participants, the ring they were told, and the reports so far.
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class EstablishRound {
    final long id;
    /** State-machine time the round started, for the round deadline. */
    final long startedNs;
    final boolean includesPending;
    /** Participants by id; a lost participant fails the round, so this set never shrinks while it runs. */
    final TreeMap<Long, Peer> participants;
    final List<Long> ring;
    /** Failure descriptions in report order ("peer 3 cannot reach [4]"). */
    final List<String> failures = new ArrayList<>();
    /** Peers that reported failure, in report order. */
    final List<Long> failedReporters = new ArrayList<>();
    int reported;

    EstablishRound(final long id, final long startedNs, final boolean includesPending,
                   final TreeMap<Long, Peer> participants, final List<Long> ring) {
        this.id = id;
        this.startedNs = startedNs;
        this.includesPending = includesPending;
        this.participants = participants;
        this.ring = ring;
    }

    boolean allReported() {
        return reported == participants.size();
    }
}
