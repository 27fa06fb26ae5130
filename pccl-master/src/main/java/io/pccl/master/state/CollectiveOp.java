package io.pccl.master.state;

import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One collective of a group, identified by its tag: first a vote (initiate), then a running op (commenced)
 * that ends with exactly one Done per remaining member.
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class CollectiveOp {
    final long tag;
    /** Initiate votes by peer id, until commenced. */
    final TreeMap<Long, CollectiveParams> votes = new TreeMap<>();
    /** Members of the running op (voters at commence time minus lost peers). */
    final TreeSet<Long> members = new TreeSet<>();
    /** Members that sent CollectiveComplete. */
    final TreeSet<Long> completed = new TreeSet<>();
    boolean running;
    long seq;
    List<Long> ring;
    /** Whether the op failed somewhere; at most one Abort is sent per op. */
    boolean aborted;
    String abortReason = "";
    /** When the first initiate vote arrived (state-machine time), for the vote deadline. */
    long firstVoteNs;

    CollectiveOp(final long tag) {
        this.tag = tag;
    }
}
