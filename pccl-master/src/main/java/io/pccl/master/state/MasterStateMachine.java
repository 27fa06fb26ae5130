package io.pccl.master.state;

import io.pccl.master.state.election.EntryVote;
import io.pccl.master.state.election.HeldRevision;
import io.pccl.master.state.election.SyncVote;
import io.pccl.master.state.election.VoteStrategy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's membership, collective and shared-state logic: pure and deterministic. Inputs are
 * {@code onXxx(...)} calls, time arrives through {@code nowNs} arguments and {@link #doWork(long)}, outputs leave
 * only through the injected {@link MasterOutbox}. Peers, groups and tags are kept in sorted maps, so the same
 * inputs always produce the same outputs in the same order.
 *
 * <p>Per-peer phases ({@link PeerPhase}; every move is checked by {@code Peer#transitionTo}):
 * <pre>
 *                       onRegister (peer id = 1, 2, 3, ...)
 *                           |
 *                           v
 *    +---------------- REGISTERED ---------------+   group has no accepted peer: round with just this peer;
 *    | round failed         |  included in round |   or every accepted peer voted accept_new_peers
 *    |                      v                    |
 *    |   +-----------&gt; CONNECTING &lt;--------------+---------------+
 *    |   | round failed     |  onP2PReport                        | every accepted peer of the group voted
 *    |   | (accepted)       v                                     |
 *    +---+----------- CONNECTED                                   |
 *        |                  | all participants reported ok        |
 *        |                  v                                     |
 *        +------------&gt;   IDLE ---- onEstablishVote ----&gt; VOTED_ESTABLISH
 *                         ^   |  \
 *      every accepted     |   |   \ onSyncVote           election failed this peer (response with a code)
 *      peer queried       |   |    +------&gt; VOTED_SYNC ------------------------------------------&gt; IDLE
 *                         |   | onPendingQuery   | election: distribute or fetch (response)
 *                         |   v                  v
 *                     QUERYING_PENDING        SYNCING --onSyncComplete--&gt; SYNC_COMPLETED --all done--&gt; IDLE
 *
 *    any phase -- onDisconnected / heartbeat timeout in doWork / kick --&gt; LEFT (peer forgotten)
 * </pre>
 * Collectives run per (group, tag) beside the phase, only while the peer is accepted and IDLE
 * ({@link GroupCollectives}); shared-state syncs are described in {@link GroupSync}, topology optimizations
 * (IDLE, VOTED_OPTIMIZE, BENCHMARKING, BENCHMARKED, IDLE) in {@link GroupTopology}. A group votes on one kind
 * of operation at a time; a vote of another kind is refused at once with {@link MasterError#FAILED_PRECONDITION}
 * in that kind's answer ({@link GroupState#conflictingVote}).
 *
 * <p>Every illegal input kicks only its sender through {@link MasterOutbox#kick}; no input from a peer makes
 * this class throw. Inputs naming an unknown peer id (one already removed) are ignored.
 *
 * <p>Not thread-safe; confined to the master conductor thread.
 */
public final class MasterStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(MasterStateMachine.class);

    private final MasterOutbox outbox;
    /** Default bound on a collective initiate vote: 5 minutes. */
    public static final long DEFAULT_COLLECTIVE_VOTE_TIMEOUT_NS = 300_000_000_000L;

    /**
     * Default bound on an establishment round, from its start to the last participant's report: 2 minutes, well
     * above a peer's own worst case (each pool dial is bounded by its handshake timeout, 10 s by default).
     */
    public static final long DEFAULT_ESTABLISH_ROUND_TIMEOUT_NS = 120_000_000_000L;

    /**
     * Default bound on a topology optimization's measurement stage: 10 minutes (each peer measures its
     * unmeasured edges one after another, a few seconds each, retrying targets that are busy).
     */
    public static final long DEFAULT_OPTIMIZE_TIMEOUT_NS = 600_000_000_000L;

    private final long heartbeatTimeoutNs;
    private long collectiveVoteTimeoutNs;
    private long establishRoundTimeoutNs = DEFAULT_ESTABLISH_ROUND_TIMEOUT_NS;
    private long optimizeTimeoutNs = DEFAULT_OPTIMIZE_TIMEOUT_NS;
    private final TreeMap<Long, Peer> peers = new TreeMap<>();
    private final TreeMap<Long, Long> peerByConnection = new TreeMap<>();
    private final TreeMap<Integer, GroupState> groups = new TreeMap<>();
    private final ArrayDeque<Kick> kicks = new ArrayDeque<>();
    /**
     * Revisions restored from the master's state file ({@link #restoreHeldRevisions}) that no sync of their group
     * has reached or given up on yet, by group.
     */
    private final TreeMap<Integer, RestoredRevision> restored = new TreeMap<>();
    private long restoreGraceNs;
    /** Counts the changes of {@link #heldRevisions}. */
    private long heldRevisionsVersion;
    private long nextPeerId = 1;
    private long nextRoundId = 1;
    private long nextCollectiveSeq;
    private long lastNowNs;

    /**
     * Creates a machine.
     *
     * @param outbox where decisions go
     * @param heartbeatTimeoutNs a peer not heard from for longer than this is removed by {@link #doWork}
     */
    public MasterStateMachine(final MasterOutbox outbox, final long heartbeatTimeoutNs) {
        this.outbox = Objects.requireNonNull(outbox, "outbox");
        if (heartbeatTimeoutNs <= 0) {
            throw new IllegalArgumentException("heartbeatTimeoutNs must be positive, got " + heartbeatTimeoutNs);
        }
        this.heartbeatTimeoutNs = heartbeatTimeoutNs;
        this.collectiveVoteTimeoutNs = DEFAULT_COLLECTIVE_VOTE_TIMEOUT_NS;
    }

    /**
     * Sets how long a collective initiate vote waits for the rest of its group before its voters get
     * {@code CollectiveDone{success = false, FAILED_PRECONDITION}}.
     *
     * @param timeoutNs positive
     * @return this
     */
    public MasterStateMachine collectiveVoteTimeoutNs(final long timeoutNs) {
        if (timeoutNs <= 0) {
            throw new IllegalArgumentException("collectiveVoteTimeoutNs must be positive, got " + timeoutNs);
        }
        this.collectiveVoteTimeoutNs = timeoutNs;
        return this;
    }

    /**
     * Sets how long an establishment round may run before the participants that have not reported are kicked
     * ({@code KICKED}, naming the round and the limit); their loss fails the round for the others, who vote again.
     * Without it a peer that stays connected and heartbeats but never reports would hold its group.
     *
     * @param timeoutNs positive
     * @return this
     */
    public MasterStateMachine establishRoundTimeoutNs(final long timeoutNs) {
        if (timeoutNs <= 0) {
            throw new IllegalArgumentException("establishRoundTimeoutNs must be positive, got " + timeoutNs);
        }
        this.establishRoundTimeoutNs = timeoutNs;
        return this;
    }

    /**
     * Sets how long the measurement stage of a topology optimization may run before the participants that have
     * not completed are kicked ({@code KICKED}, naming their remaining targets and the limit).
     *
     * @param timeoutNs positive
     * @return this
     */
    public MasterStateMachine optimizeTimeoutNs(final long timeoutNs) {
        if (timeoutNs <= 0) {
            throw new IllegalArgumentException("optimizeTimeoutNs must be positive, got " + timeoutNs);
        }
        this.optimizeTimeoutNs = timeoutNs;
        return this;
    }

    /**
     * Makes the machine remember, for each group, what its last successful sync before the master restarted made
     * current (as the master's state file recorded it; see {@link #heldRevisions}). A group's first sync then elects
     * only from candidates at that revision with that content, or at a later revision
     * ({@link io.pccl.master.state.election.SharedStateElection}); without one its voters fail with
     * {@code SHARED_STATE_MISMATCH} and sync again. A group waits so for at most {@code graceNs} after its first
     * peer registered; after that its first sync accepts any revision, as for a new group (a run that ended while
     * the master was down). Call before any input.
     *
     * @param held revision and content fingerprint by group
     * @param graceNs how long a group waits for a holder; positive
     * @return this
     * @throws IllegalArgumentException if {@code graceNs} is not positive
     * @throws IllegalStateException after the first registration
     */
    public MasterStateMachine restoreHeldRevisions(final SortedMap<Integer, HeldRevision> held,
                                                   final long graceNs) {
        if (graceNs <= 0) {
            throw new IllegalArgumentException("restore grace must be positive, got " + graceNs + " ns");
        }
        if (nextPeerId != 1) {
            throw new IllegalStateException("held revisions must be restored before the first registration");
        }
        restoreGraceNs = graceNs;
        held.forEach((group, revision) -> restored.put(group, new RestoredRevision(revision)));
        return this;
    }

    // ---- inputs -------------------------------------------------------------------------------------------

    /**
     * A connection that passed the hello asks to register.
     *
     * @param connectionId the adapter's id for the connection, echoed in the answer
     * @param remoteHost address the master sees the peer at
     * @param loopback whether that address is a loopback address
     * @param listenPort the peer's listen port
     * @param group the peer group
     * @param nowNs current time
     */
    public void onRegister(final long connectionId, final String remoteHost, final boolean loopback,
                           final int listenPort, final int group, final long nowNs) {
        lastNowNs = nowNs;
        final Long existing = peerByConnection.get(connectionId);
        if (existing != null) {
            deferKick(existing, MasterError.PROTOCOL_VIOLATION, "duplicate registration: connection "
                    + connectionId + " is already registered as peer " + existing);
            drainKicks();
            return;
        }
        if (listenPort <= 0 || listenPort > 0xFFFF) {
            outbox.registrationRefused(connectionId, MasterError.INVALID_ARGUMENT,
                    "listen port " + Integer.toUnsignedString(listenPort) + " is outside 1..65535");
            return;
        }
        for (final Peer p : peers.values()) {
            if (p.loopback != loopback) {
                outbox.registrationRefused(connectionId, MasterError.FAILED_PRECONDITION, "peer address "
                        + remoteHost + " is " + (loopback ? "" : "not ") + "loopback but registered peer " + p.id
                        + " is at " + p.host + "; loopback and non-loopback peers cannot mix (peers are told the"
                        + " addresses the master sees)");
                return;
            }
        }
        final Peer peer = new Peer(nextPeerId++, connectionId, remoteHost, loopback, listenPort, group, nowNs);
        peers.put(peer.id, peer);
        peerByConnection.put(connectionId, peer.id);
        LOG.info("master: peer {} registered from {}:{} in group {}", peer.id, remoteHost, listenPort,
                Integer.toUnsignedString(group));
        outbox.registered(connectionId, peer.id);
        final RestoredRevision r = restored.get(group);
        if (r != null && !r.graceStarted) {
            r.graceStarted = true;
            r.deadlineNs = nowNs + restoreGraceNs;
        }
        groups.computeIfAbsent(group, g -> new GroupState(g, this, outbox)).addPeer(peer, nowNs);
        drainKicks();
    }

    /**
     * Any message from a registered peer: proof of life.
     *
     * @param peerId the sender
     * @param nowNs current time
     */
    public void onMessage(final long peerId, final long nowNs) {
        lastNowNs = nowNs;
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            peer.lastHeardNs = nowNs;
        }
    }

    /**
     * A heartbeat from a registered peer; same as {@link #onMessage}.
     *
     * @param peerId the sender
     * @param nowNs current time
     */
    public void onHeartbeat(final long peerId, final long nowNs) {
        onMessage(peerId, nowNs);
    }

    /**
     * Vote for an establishment round of the sender's group.
     *
     * @param peerId the sender
     * @param acceptNewPeers whether pending peers may join in this round
     */
    public void onEstablishVote(final long peerId, final boolean acceptNewPeers) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).onEstablishVote(peer, acceptNewPeers, lastNowNs));
        }
    }

    /**
     * A participant's report on connecting to its ring neighbours.
     *
     * @param peerId the sender
     * @param round the round id from the connection info
     * @param ok whether every connection succeeded
     * @param unreachable peers the sender could not connect to
     */
    public void onP2PReport(final long peerId, final long round, final boolean ok, final long[] unreachable) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).onP2PReport(peer, round, ok, unreachable, lastNowNs));
        }
    }

    /**
     * Vote in a pending-peers query of the sender's group.
     *
     * @param peerId the sender
     */
    public void onPendingQuery(final long peerId) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).onPendingQuery(peer, lastNowNs));
        }
    }

    /**
     * Vote to start the collective {@code tag} of the sender's group.
     *
     * @param peerId the sender
     * @param tag the collective's tag
     * @param params its parameters, which every member must match
     */
    public void onCollectiveInitiate(final long peerId, final long tag, final CollectiveParams params) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).collectives.onInitiate(peer, tag, params, lastNowNs));
        }
    }

    /**
     * The sender finished its part of a running collective.
     *
     * @param peerId the sender
     * @param tag the collective's tag
     * @param seq the sequence number from the commence
     * @param aborted whether it failed locally
     */
    public void onCollectiveComplete(final long peerId, final long tag, final long seq, final boolean aborted) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).collectives.onComplete(peer, tag, seq, aborted));
        }
    }

    /**
     * Vote for a shared-state sync of the sender's group.
     *
     * @param peerId the sender
     * @param revision the revision the sender holds (unsigned)
     * @param strategy the sender's strategy
     * @param entries the sender's entries
     */
    public void onSyncVote(final long peerId, final long revision, final VoteStrategy strategy,
                           final List<EntryVote> entries) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).sync.onVote(peer,
                    new SyncVote(peerId, revision, strategy, entries), lastNowNs));
        }
    }

    /**
     * The sender finished its part of the running shared-state sync.
     *
     * @param peerId the sender
     * @param success whether its fetch (if any) succeeded and verified
     */
    public void onSyncComplete(final long peerId, final boolean success) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).sync.onComplete(peer, success, lastNowNs));
        }
    }

    /**
     * Vote to optimize the ring of the sender's group.
     *
     * @param peerId the sender
     */
    public void onOptimizeVote(final long peerId) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).topology.onVote(peer, lastNowNs));
        }
    }

    /**
     * One measured edge of the running topology optimization.
     *
     * @param peerId the sender (the edge's sending side)
     * @param toPeer the receiving side
     * @param mbps the measured Mbit/s
     */
    public void onBandwidthReport(final long peerId, final long toPeer, final double mbps) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).topology.onReport(peer, toPeer, mbps));
        }
    }

    /**
     * The sender finished its measurements of the running topology optimization.
     *
     * @param peerId the sender
     */
    public void onOptimizeWorkComplete(final long peerId) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            guard(peer, () -> groups.get(peer.group).topology.onWorkComplete(peer, lastNowNs));
        }
    }

    /**
     * The sender did something the adapter judged illegal (e.g. a message kind the master does not
     * handle): kick it.
     *
     * @param peerId the sender
     * @param code the code to kick with
     * @param reason why
     */
    public void onProtocolViolation(final long peerId, final MasterError code, final String reason) {
        if (peers.containsKey(peerId)) {
            deferKick(peerId, code, reason);
            drainKicks();
        }
    }

    /**
     * The peer's connection closed. Unknown ids (already removed) are ignored.
     *
     * @param peerId the peer
     */
    public void onDisconnected(final long peerId) {
        final Peer peer = peers.get(peerId);
        if (peer != null) {
            removePeer(peer, "connection closed");
            drainKicks();
        }
    }

    /**
     * Periodic work: removes peers not heard from within the heartbeat timeout, fails collective votes past the
     * collective vote timeout and kicks round participants that have not reported within the establishment round
     * timeout.
     *
     * @param nowNs current time
     * @return number of peers removed
     */
    public int doWork(final long nowNs) {
        lastNowNs = nowNs;
        int work = 0;
        for (final Peer p : peers.values()) {
            final long silentNs = nowNs - p.lastHeardNs;
            if (silentNs > heartbeatTimeoutNs) {
                deferKick(p.id, MasterError.KICKED, "no message from peer " + p.id + " for " + silentNs / 1_000_000
                        + " ms, heartbeat timeout is " + heartbeatTimeoutNs / 1_000_000 + " ms");
                work++;
            }
        }
        for (final GroupState g : groups.values()) {
            work += g.collectives.expireVotes(nowNs, collectiveVoteTimeoutNs);
            work += g.expireRound(nowNs, establishRoundTimeoutNs);
            work += g.topology.expire(nowNs, optimizeTimeoutNs);
        }
        drainKicks();
        return work;
    }

    // ---- queries (for tests and the adapter) ----------------------------------------------------------

    /**
     * Phase of a peer.
     *
     * @param peerId the peer
     * @return its phase, or {@link PeerPhase#LEFT} if unknown
     */
    public PeerPhase phaseOf(final long peerId) {
        final Peer p = peers.get(peerId);
        return p == null ? PeerPhase.LEFT : p.phase();
    }

    /**
     * Whether a peer is an accepted member of its group.
     *
     * @param peerId the peer
     * @return true if registered and accepted
     */
    public boolean isAccepted(final long peerId) {
        final Peer p = peers.get(peerId);
        return p != null && p.accepted;
    }

    /**
     * Ids of the registered peers, ascending.
     *
     * @return a copy
     */
    public List<Long> peerIds() {
        return new ArrayList<>(peers.keySet());
    }

    /**
     * The revision a group expects in its next shared-state sync.
     *
     * @param group the group
     * @return the expected revision (unsigned), or empty when the next sync accepts any revision (a fresh group,
     *         or one whose every holder of the revision left)
     */
    public OptionalLong expectedSyncRevision(final int group) {
        final GroupState g = groups.get(group);
        return g == null || g.sync.fresh() ? OptionalLong.empty() : OptionalLong.of(g.sync.nextRevision());
    }

    /**
     * What the master's state file keeps: per group, the revision and content of its last successful sync (its
     * holders'), and the restored ones no sync has reached or given up on yet. Groups whose next sync accepts any
     * revision are absent.
     *
     * @return revision and content fingerprint by group, a new map
     */
    public TreeMap<Integer, HeldRevision> heldRevisions() {
        final TreeMap<Integer, HeldRevision> out = new TreeMap<>();
        restored.forEach((group, r) -> out.put(group, r.held));
        groups.forEach((group, g) -> {
            if (!g.sync.fresh()) {
                out.put(group, g.sync.held());
            }
        });
        return out;
    }

    /**
     * A number that changes whenever {@link #heldRevisions} may have changed, so that a caller can skip building
     * the map after inputs that did not touch it.
     *
     * @return the version
     */
    public long heldRevisionsVersion() {
        return heldRevisionsVersion;
    }

    /**
     * One group as the metrics report it.
     *
     * @param group the group id
     * @param peers its registered peers
     * @param accepted those of them accepted into the ring
     * @param expectedRevision the revision its next sync expects, or empty (see {@link #expectedSyncRevision})
     */
    public record GroupSummary(int group, int peers, int accepted, OptionalLong expectedRevision) {
    }

    /**
     * Every group with at least one registered peer, ascending by id.
     *
     * @return a new list
     */
    public List<GroupSummary> groupSummaries() {
        final TreeMap<Integer, int[]> counts = new TreeMap<>();
        for (Peer p : peers.values()) {
            final int[] c = counts.computeIfAbsent(p.group, g -> new int[2]);
            c[0]++;
            if (p.accepted) {
                c[1]++;
            }
        }
        final List<GroupSummary> out = new ArrayList<>(counts.size());
        counts.forEach((g, c) -> out.add(new GroupSummary(g, c[0], c[1], expectedSyncRevision(g))));
        return out;
    }

    /** The group of a peer, or null; for tests in this package. */
    GroupState groupOf(final long peerId) {
        final Peer p = peers.get(peerId);
        return p == null ? null : groups.get(p.group);
    }

    /** The record of a peer, or null; for tests in this package. */
    Peer peer(final long peerId) {
        return peers.get(peerId);
    }

    // ---- collaborators' hooks -------------------------------------------------------------------------

    /**
     * The floor of a first sync of {@code group}: the restored revision and content, until the grace has passed
     * (then null, and it is forgotten with a log line); null when there is none.
     */
    HeldRevision restoredRevision(final GroupState group, final long nowNs) {
        final RestoredRevision r = restored.get(group.group);
        if (r == null) {
            return null;
        }
        if (r.graceStarted && nowNs - r.deadlineNs >= 0) {
            restored.remove(group.group);
            heldRevisionsVersion++;
            LOG.info("master: group {}: no peer at revision {} (synced before the restart, from the state file)"
                    + " voted within {} ms; the next sync accepts any revision", group.label,
                    Long.toUnsignedString(r.held.revision()), TimeUnit.NANOSECONDS.toMillis(restoreGraceNs));
            return null;
        }
        return r.held;
    }

    /** A sync of {@code group} succeeded: its restored revision, if any, has served its purpose. */
    void syncSucceeded(final GroupState group) {
        heldRevisionsVersion++;
        if (restored.remove(group.group) != null) {
            LOG.info("master: group {} synced again after the restart", group.label);
        }
    }

    long nextRoundId() {
        return nextRoundId++;
    }

    long peekNextRoundId() {
        return nextRoundId;
    }

    long nextCollectiveSeq() {
        return nextCollectiveSeq++;
    }

    /** Queues a kick; it runs after the current input so no collection is modified while iterated. */
    void deferKick(final long peerId, final MasterError code, final String reason) {
        kicks.add(new Kick(peerId, code, reason));
    }

    /**
     * World sizes counting accepted peers, plus {@code extraInGroup} peers of {@code group} about to be.
     */
    WorldSizes worldSizes(final int group, final int extraInGroup) {
        int global = 0;
        int groupsWithAccepted = 0;
        int largest = 0;
        int own = 0;
        for (final GroupState g : groups.values()) {
            int n = g.acceptedCount();
            if (g.group == group) {
                n += extraInGroup;
                own = n;
            }
            global += n;
            if (n > 0) {
                groupsWithAccepted++;
            }
            largest = Math.max(largest, n);
        }
        return new WorldSizes(global, own, groupsWithAccepted, largest);
    }

    private void guard(final Peer peer, final Input input) {
        try {
            final String violation = input.apply();
            if (violation != null) {
                deferKick(peer.id, MasterError.PROTOCOL_VIOLATION, violation);
            }
        } catch (final RuntimeException e) {
            LOG.error("master: bug while handling input from peer {}; kicking it", peer.id, e);
            deferKick(peer.id, MasterError.INTERNAL, "internal error handling your message: " + e);
        }
        drainKicks();
    }

    private void drainKicks() {
        Kick k;
        while ((k = kicks.poll()) != null) {
            final Peer peer = peers.get(k.peerId());
            if (peer == null) {
                continue;
            }
            final String reason = k.reason();
            LOG.debug("master: kicking peer {}: {}", peer.id, reason);
            outbox.kick(peer.id, k.code(), reason);
            try {
                removePeer(peer, "kicked: " + reason);
            } catch (final RuntimeException e) {
                LOG.error("master: bug while removing peer {}", peer.id, e);
            }
        }
    }

    private void removePeer(final Peer peer, final String why) {
        peers.remove(peer.id);
        peerByConnection.remove(peer.connectionId);
        peer.transitionTo(PeerPhase.LEFT, lastNowNs, why);
        LOG.info("master: peer {} left group {} ({})", peer.id, Integer.toUnsignedString(peer.group), why);
        final GroupState g = groups.get(peer.group);
        g.onPeerLost(peer, why, lastNowNs);
        if (g.members.isEmpty()) {
            groups.remove(peer.group);
        }
    }

    /** Every holder of a group's revision left: its next sync accepts any revision. */
    void holdersLeft() {
        heldRevisionsVersion++;
    }

    /** A revision restored from the state file; its grace starts when the group's first peer registers. */
    private static final class RestoredRevision {
        final HeldRevision held;
        boolean graceStarted;
        long deadlineNs;

        RestoredRevision(final HeldRevision held) {
            this.held = held;
        }
    }

    /** A kick decided during an input, run after it. */
    private record Kick(long peerId, MasterError code, String reason) {
    }

    /** One input applied to a peer; returns a kick reason or null. */
    @FunctionalInterface
    private interface Input {
        String apply();
    }
}
