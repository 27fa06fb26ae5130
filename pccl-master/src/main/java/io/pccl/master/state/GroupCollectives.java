package io.pccl.master.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collectives of one group, per tag: the initiate vote of all accepted members (parameters must agree), the
 * running op and its completion. Guarantees: at most one {@code CollectiveAbort} and exactly one
 * {@code CollectiveDone} per op per member still present at the end.
 *
 * <pre>
 *   (no op) --initiate--&gt; VOTING --all accepted voted, params agree--&gt; RUNNING --all completed--&gt; (Done)
 *                           |  params differ                             | abort / member lost
 *                           v                                            v
 *                  Done{MISMATCH} to all voters              Abort once to the others, Done{false} at the end
 * </pre>
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class GroupCollectives {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCollectives.class);

    private final GroupState group;
    private final MasterStateMachine machine;
    private final MasterOutbox outbox;
    private final TreeMap<Long, CollectiveOp> ops = new TreeMap<>();

    GroupCollectives(final GroupState group, final MasterStateMachine machine, final MasterOutbox outbox) {
        this.group = group;
        this.machine = machine;
        this.outbox = outbox;
    }

    int size() {
        return ops.size();
    }

    String onInitiate(final Peer peer, final long tag, final CollectiveParams params, final long nowNs) {
        if (!peer.accepted || peer.phase() != PeerPhase.IDLE) {
            return "collective initiate for tag " + Long.toUnsignedString(tag) + " from peer " + peer.id
                    + " in phase " + peer.phase() + (peer.accepted ? "" : " (not accepted)")
                    + ", expected an accepted IDLE peer";
        }
        if (peer.activeTags.contains(tag)) {
            return "collective tag " + Long.toUnsignedString(tag) + " initiated again by peer " + peer.id
                    + " while it is still running";
        }
        final String conflict = group.conflictingVote(peer, GroupVoteKind.COLLECTIVE);
        if (conflict != null) {
            LOG.info("master: group {} {}", group.label, conflict);
            outbox.collectiveDone(peer.id, tag, 0, false, MasterError.FAILED_PRECONDITION, conflict);
            return null;
        }
        CollectiveOp op = ops.get(tag);
        if (op == null) {
            op = new CollectiveOp(tag);
            op.firstVoteNs = nowNs;
            ops.put(tag, op);
        } else if (op.running) {
            return "collective tag " + Long.toUnsignedString(tag) + " is already running (seq " + op.seq
                    + ") without peer " + peer.id;
        }
        op.votes.put(peer.id, params);
        peer.activeTags.add(tag);
        checkInitiate(op);
        return null;
    }

    /**
     * Fails initiate votes that have waited longer than {@code timeoutNs} for the rest of the group: each voter
     * gets {@code CollectiveDone{success = false, FAILED_PRECONDITION}} naming the peers that did not launch the
     * tag, and the tag is free again. Without this, one member that never launches a tag would hold the others'
     * calls for ever while its heartbeats keep it in the group.
     *
     * @return the number of votes failed
     */
    int expireVotes(final long nowNs, final long timeoutNs) {
        int work = 0;
        final List<CollectiveOp> expired = new ArrayList<>();
        for (final CollectiveOp op : ops.values()) {
            if (!op.running && !op.votes.isEmpty() && nowNs - op.firstVoteNs > timeoutNs) {
                expired.add(op);
            }
        }
        for (final CollectiveOp op : expired) {
            final List<Long> missing = new ArrayList<>();
            for (final Peer p : group.members.values()) {
                if (p.accepted && !op.votes.containsKey(p.id)) {
                    missing.add(p.id);
                }
            }
            final String reason = "collective tag " + Long.toUnsignedString(op.tag) + " in group " + group.label
                    + ": peers " + op.votes.keySet() + " launched it but peers " + missing + " did not within "
                    + timeoutNs / 1_000_000 + " ms (the collective vote timeout)";
            LOG.info("master: {}", reason);
            ops.remove(op.tag);
            for (final Long id : op.votes.keySet()) {
                group.members.get(id).activeTags.remove(op.tag);
                outbox.collectiveDone(id, op.tag, 0, false, MasterError.FAILED_PRECONDITION, reason);
                work++;
            }
        }
        return work;
    }

    /** Adds the tags that have initiate votes but have not commenced, and their voters except {@code except}. */
    void collectVotes(final long except, final TreeSet<Long> tags, final TreeSet<Long> voters) {
        for (final CollectiveOp op : ops.values()) {
            if (op.running) {
                continue;
            }
            for (final Long id : op.votes.keySet()) {
                if (id != except) {
                    voters.add(id);
                    tags.add(op.tag);
                }
            }
        }
    }

    private void checkInitiate(final CollectiveOp op) {
        if (op.running) {
            return;
        }
        if (op.votes.isEmpty()) {
            ops.remove(op.tag);
            return;
        }
        for (final Peer p : group.members.values()) {
            if (p.accepted && !op.votes.containsKey(p.id)) {
                return;
            }
        }
        final Map.Entry<Long, CollectiveParams> first = op.votes.firstEntry();
        String mismatch = null;
        for (final Map.Entry<Long, CollectiveParams> e : op.votes.entrySet()) {
            mismatch = first.getValue().firstMismatch(e.getValue(), first.getKey(), e.getKey());
            if (mismatch != null) {
                break;
            }
        }
        final String tag = Long.toUnsignedString(op.tag);
        if (mismatch != null) {
            ops.remove(op.tag);
            final String reason = "collective tag " + tag + " in group " + group.label + ": " + mismatch;
            LOG.info("master: {}", reason);
            for (final Long id : op.votes.keySet()) {
                group.members.get(id).activeTags.remove(op.tag);
                outbox.collectiveDone(id, op.tag, 0, false, MasterError.COLLECTIVE_MISMATCH, reason);
            }
            return;
        }
        op.running = true;
        op.seq = machine.nextCollectiveSeq();
        op.members.addAll(op.votes.keySet());
        op.votes.clear();
        final List<Long> ring = new ArrayList<>();
        for (final Long id : group.ring()) {
            if (op.members.contains(id)) {
                ring.add(id);
            }
        }
        op.ring = List.copyOf(ring);
        LOG.debug("master: group {} collective tag {} commenced as seq {}", group.label, tag, op.seq);
        for (final Long id : op.members) {
            outbox.collectiveCommence(id, op.tag, op.seq, op.ring);
        }
    }

    String onComplete(final Peer peer, final long tag, final long seq, final boolean aborted) {
        final CollectiveOp op = ops.get(tag);
        final String t = Long.toUnsignedString(tag);
        if (op == null || !op.running || !op.members.contains(peer.id)) {
            return "collective complete for tag " + t + " seq " + seq + " from peer " + peer.id
                    + ", which runs no such collective";
        }
        if (op.seq != seq) {
            return "collective complete for tag " + t + " with seq " + seq + " from peer " + peer.id
                    + ", the running op has seq " + op.seq;
        }
        if (!op.completed.add(peer.id)) {
            return "duplicate collective complete for tag " + t + " seq " + seq + " from peer " + peer.id;
        }
        if (aborted) {
            abort(op, "peer " + peer.id + " aborted collective tag " + t + " seq " + seq, peer.id);
        }
        checkComplete(op);
        return null;
    }

    private void abort(final CollectiveOp op, final String reason, final long cause) {
        if (op.aborted) {
            return;
        }
        op.aborted = true;
        op.abortReason = reason;
        LOG.info("master: group {} {}", group.label, reason);
        for (final Long id : op.members) {
            if (id != cause) {
                outbox.collectiveAbort(id, op.tag, op.seq, MasterError.UNSPECIFIED, reason);
            }
        }
    }

    private void checkComplete(final CollectiveOp op) {
        if (!op.completed.containsAll(op.members)) {
            return;
        }
        ops.remove(op.tag);
        for (final Long id : op.members) {
            group.members.get(id).activeTags.remove(op.tag);
            if (op.aborted) {
                outbox.collectiveDone(id, op.tag, op.seq, false, MasterError.UNSPECIFIED, op.abortReason);
            } else {
                outbox.collectiveDone(id, op.tag, op.seq, true, MasterError.UNSPECIFIED, "");
            }
        }
    }

    /** Removes {@code peer} from every op: votes may now agree, running ops abort and may complete. */
    void onPeerLost(final Peer peer, final String why) {
        for (final CollectiveOp op : new ArrayList<>(ops.values())) {
            if (!op.running) {
                op.votes.remove(peer.id);
                checkInitiate(op);
            } else if (op.members.remove(peer.id)) {
                op.completed.remove(peer.id);
                abort(op, "peer " + peer.id + " lost during collective tag " + Long.toUnsignedString(op.tag)
                        + " seq " + op.seq + " (" + why + ")", peer.id);
                checkComplete(op);
            }
        }
    }
}
