package io.pccl.master.state;

import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The transfer stage of one shared-state sync of a group: the participants (voters told to distribute or to
 * fetch), the revision they hold afterwards, and the completions so far.
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class SyncRound {
    /** The revision every participant holds after the sync. */
    final long revision;
    /** The fingerprint of the elected content. */
    final long content;
    /** Participants still in the group; a lost participant is removed and does not fail the sync. */
    final TreeSet<Long> participants = new TreeSet<>();
    /** Completion reports by participant id: whether its part succeeded. */
    final TreeMap<Long, Boolean> completed = new TreeMap<>();

    SyncRound(final long revision, final long content) {
        this.revision = revision;
        this.content = content;
    }

    boolean allCompleted() {
        return completed.keySet().containsAll(participants);
    }
}
