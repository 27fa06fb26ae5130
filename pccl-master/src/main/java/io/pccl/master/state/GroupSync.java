package io.pccl.master.state;

import io.pccl.master.state.election.ElectionResult;
import io.pccl.master.state.election.FailureCode;
import io.pccl.master.state.election.HeldRevision;
import io.pccl.master.state.election.PeerOutcome;
import io.pccl.master.state.election.SharedStateElection;
import io.pccl.master.state.election.SyncVote;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared-state synchronisation of one group: the sync vote of all accepted members, the election
 * ({@link SharedStateElection}), the transfer stage ({@link SyncRound}) and the group's revision bookkeeping.
 *
 * <pre>
 *   IDLE --vote--&gt; VOTED_SYNC --all accepted voted, no sync running: election--+--&gt; failed: response{code}, IDLE
 *                                                                             |     (REVISION_AHEAD: kicked)
 *                                                                             v
 *                     response{outdated, revision, distributors, keys} --&gt; SYNCING --complete--&gt; SYNC_COMPLETED
 *                                                                                                  |
 *                     Done{success} to every remaining participant, IDLE &lt;--all remaining completed-+
 * </pre>
 *
 * <p>Rules (documented in docs/protocol.md, "Shared state"):
 * <ul>
 *   <li>A rule violation found by the election fails only that voter's sync (response with code and reason,
 *       the peer is IDLE again and may fix itself and vote again). The exception is a revision ahead of the
 *       group's: that peer is kicked with {@link MasterError#REVISION_VIOLATION}, as in the reference, because
 *       it can only come from a program that skipped an increment.</li>
 *   <li>A vote arriving while a sync is in its transfer stage waits for the next sync (the peer was not part of
 *       the running one: its sync failed, or it voted again after failing).</li>
 *   <li>{@code Done.success} is true when every participant still present reported success. Only then does the
 *       group's expected revision advance, to the sync's revision + 1, and the participants become the holders
 *       of that revision. A failed sync leaves the expectation unchanged, so everyone retries with the same
 *       revision. A lost participant is dropped from the sync without failing it.</li>
 *   <li>A group starts "fresh": its first sync accepts any revision and elects from the highest candidate
 *       revision (resuming a run). It becomes fresh again when every holder of its revision has left, so a new
 *       run can start without restarting the master (the reference never resets, §11.2).</li>
 *   <li>After a restart of the master, a group's first sync elects only the revision and content of its last
 *       successful sync before, or a later revision (the state file, {@link MasterStateMachine#restoreHeldRevisions}),
 *       until the grace has passed.</li>
 * </ul>
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class GroupSync {
    private static final Logger LOG = LoggerFactory.getLogger(GroupSync.class);

    private final GroupState group;
    private final MasterStateMachine machine;
    private final MasterOutbox outbox;
    /** Votes for the next sync by peer id; exactly the members in {@link PeerPhase#VOTED_SYNC}. */
    private final TreeMap<Long, SyncVote> votes = new TreeMap<>();
    /** Participants of the last successful sync still in the group. */
    private final TreeSet<Long> holders = new TreeSet<>();
    private SyncRound round;
    private long nextRevision;
    /** The fingerprint of the content the last successful sync elected. */
    private long heldContent;
    private boolean fresh = true;

    GroupSync(final GroupState group, final MasterStateMachine machine, final MasterOutbox outbox) {
        this.group = group;
        this.machine = machine;
        this.outbox = outbox;
    }

    /** The revision the group expects in its next sync; meaningless while {@link #fresh()}. */
    long nextRevision() {
        return nextRevision;
    }

    /** The last successful sync's revision and content; meaningless while {@link #fresh()}. */
    HeldRevision held() {
        return new HeldRevision(nextRevision - 1, heldContent);
    }

    /** Whether the next sync accepts any revision. */
    boolean fresh() {
        return fresh;
    }

    /** Whether a sync is in its transfer stage. */
    boolean running() {
        return round != null;
    }

    String onVote(final Peer peer, final SyncVote vote, final long nowNs) {
        if (!peer.accepted || peer.phase() != PeerPhase.IDLE) {
            return "shared-state sync vote from peer " + peer.id + " in phase " + peer.phase()
                    + (peer.accepted ? "" : " (not accepted)") + ", expected an accepted IDLE peer";
        }
        if (!peer.activeTags.isEmpty()) {
            return "shared-state sync vote from peer " + peer.id + " while collectives " + peer.activeTags
                    + " are running";
        }
        final String conflict = group.conflictingVote(peer, GroupVoteKind.SYNC);
        if (conflict != null) {
            LOG.info("master: group {} {}", group.label, conflict);
            outbox.syncFailed(peer.id, MasterError.FAILED_PRECONDITION, conflict);
            return null;
        }
        votes.put(peer.id, vote);
        peer.transitionTo(PeerPhase.VOTED_SYNC, nowNs, "voted sync at revision "
                + Long.toUnsignedString(vote.revision()));
        checkConsensus(nowNs);
        return null;
    }

    /** Runs the election once every accepted member voted and no sync is in its transfer stage. */
    void checkConsensus(final long nowNs) {
        if (round != null || votes.isEmpty()) {
            return;
        }
        for (final Peer p : group.members.values()) {
            if (p.accepted && p.phase() != PeerPhase.VOTED_SYNC) {
                return;
            }
        }
        final HeldRevision floor = fresh ? machine.restoredRevision(group, nowNs) : null;
        final ElectionResult result = SharedStateElection.elect(nextRevision, fresh, floor, votes.values());
        votes.clear();
        final SyncRound r = new SyncRound(result.revision(),
                SharedStateElection.contentFingerprint(result.electedEntries()));
        final List<Long> requesters = new ArrayList<>();
        for (final Map.Entry<Long, PeerOutcome> e : result.outcomes().entrySet()) {
            if (!(e.getValue() instanceof PeerOutcome.Failed)) {
                r.participants.add(e.getKey());
            }
            if (e.getValue() instanceof PeerOutcome.Request) {
                requesters.add(e.getKey());
            }
        }
        LOG.debug("master: group {} sync elected (expected revision {}, fresh {}): revision {}, {} participants, "
                + "requesters {}", group.label, Long.toUnsignedString(nextRevision), fresh,
                Long.toUnsignedString(result.revision()), r.participants.size(), requesters);
        if (!r.participants.isEmpty()) {
            round = r;
        }
        for (final Map.Entry<Long, PeerOutcome> e : result.outcomes().entrySet()) {
            final Peer p = group.members.get(e.getKey());
            final PeerOutcome outcome = e.getValue();
            if (outcome instanceof PeerOutcome.Failed f) {
                p.transitionTo(PeerPhase.IDLE, nowNs, "sync failed: " + f.code());
                if (f.code() == FailureCode.REVISION_AHEAD) {
                    machine.deferKick(p.id, MasterError.REVISION_VIOLATION, f.reason());
                } else {
                    outbox.syncFailed(p.id, toError(f.code()), f.reason());
                }
            } else if (outcome instanceof PeerOutcome.Request q) {
                p.transitionTo(PeerPhase.SYNCING, nowNs, "sync: fetch " + q.keys().size() + " keys");
                outbox.syncResponse(p.id, true, r.revision, distributorsFor(requesters.indexOf(p.id), q.distributors()),
                        q.keys());
            } else {
                p.transitionTo(PeerPhase.SYNCING, nowNs, "sync: up to date");
                outbox.syncResponse(p.id, false, r.revision, List.of(), List.of());
            }
        }
        if (round == null) {
            LOG.info("master: group {} sync failed for every voter; revision bookkeeping unchanged", group.label);
        }
    }

    /**
     * Distributor endpoints for the {@code index}-th requester (ascending peer id): the holders rotated by
     * {@code index}, so requesters start at different distributors; the rest of the list are fallbacks.
     */
    private List<PeerEndpoint> distributorsFor(final int index, final List<Long> distributors) {
        final int n = distributors.size();
        final List<PeerEndpoint> list = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            list.add(group.members.get(distributors.get((index + k) % n)).endpoint());
        }
        return list;
    }

    private static MasterError toError(final FailureCode code) {
        return switch (code) {
            case REVISION_AHEAD -> MasterError.REVISION_VIOLATION;
            case INVALID_VOTE -> MasterError.INVALID_ARGUMENT;
            case KEY_SET_MISMATCH, STRATEGY_MIX, SEND_ONLY_MUST_RECEIVE, NO_CANDIDATE ->
                    MasterError.SHARED_STATE_MISMATCH;
        };
    }

    String onComplete(final Peer peer, final boolean success, final long nowNs) {
        final SyncRound r = round;
        if (peer.phase() != PeerPhase.SYNCING || r == null || !r.participants.contains(peer.id)) {
            return "shared-state sync complete from peer " + peer.id + " in phase " + peer.phase()
                    + ", expected SYNCING (only a peer told to distribute or fetch completes, once)";
        }
        r.completed.put(peer.id, success);
        peer.transitionTo(PeerPhase.SYNC_COMPLETED, nowNs, "sync complete, success=" + success);
        checkDone(nowNs);
        return null;
    }

    private void checkDone(final long nowNs) {
        final SyncRound r = round;
        if (r == null || !r.allCompleted()) {
            return;
        }
        round = null;
        if (r.participants.isEmpty()) {
            LOG.info("master: group {} sync at revision {}: every participant left", group.label,
                    Long.toUnsignedString(r.revision));
            checkConsensus(nowNs);
            return;
        }
        final List<Long> failed = new ArrayList<>();
        for (final Long id : r.participants) {
            if (!r.completed.get(id)) {
                failed.add(id);
            }
        }
        final boolean success = failed.isEmpty();
        final String rev = Long.toUnsignedString(r.revision);
        final String reason;
        if (success) {
            nextRevision = r.revision + 1;
            heldContent = r.content;
            fresh = false;
            holders.clear();
            holders.addAll(r.participants);
            machine.syncSucceeded(group);
            reason = "";
            LOG.debug("master: group {} sync at revision {} done; next revision {}, holders {}", group.label, rev,
                    Long.toUnsignedString(nextRevision), holders);
        } else {
            reason = "shared-state sync of group " + group.label + " at revision " + rev + " failed: peers "
                    + failed + " reported failure; the group's revision stays "
                    + (fresh ? "open (first sync)" : Long.toUnsignedString(nextRevision)) + "; sync again";
            LOG.info("master: {}", reason);
        }
        for (final Long id : r.participants) {
            group.members.get(id).transitionTo(PeerPhase.IDLE, nowNs, success ? "sync done" : "sync failed");
            outbox.syncDone(id, success, reason);
        }
        checkConsensus(nowNs);
    }

    /** Drops {@code peer} from the vote, the running sync and the holders; re-checks what may have waited. */
    void onPeerLost(final Peer peer, final long nowNs) {
        votes.remove(peer.id);
        if (holders.remove(peer.id) && holders.isEmpty() && !fresh) {
            fresh = true;
            machine.holdersLeft();
            LOG.info("master: group {}: every holder of revision {} left; the next sync accepts any revision",
                    group.label, Long.toUnsignedString(nextRevision - 1));
        }
        final SyncRound r = round;
        if (r != null && r.participants.remove(peer.id)) {
            r.completed.remove(peer.id);
            checkDone(nowNs);
        }
        checkConsensus(nowNs);
    }
}
