package io.pccl.master.state;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership of one peer group: its peers, the establishment vote and round, the pending-peers vote, the
 * reported unreachable edges and the group's ring. Collectives live in {@link GroupCollectives}, shared-state
 * syncs in {@link GroupSync}. Each kind of group vote is a pair "record the vote" + "check consensus"
 * ({@code onXxxVote}/{@code checkXxx}) plus a re-check in {@link #onPeerLost}.
 *
 * <p>A group votes on one {@link GroupVoteKind} at a time: every vote needs all accepted members and a member
 * in one vote cannot cast another, so two kinds at once would wait on each other forever. A vote of another
 * kind than the one in progress is therefore refused at once for its sender ({@link #conflictingVote}); the
 * vote in progress goes on. (Same for a member voting while it runs collectives: that is its own error and a
 * kick.)
 *
 * <p>Kicks decided here are queued on the machine ({@link MasterStateMachine#deferKick}) and run after the
 * current input, so no collection is modified while it is iterated.
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class GroupState {
    private static final Logger LOG = LoggerFactory.getLogger(GroupState.class);

    final int group;
    /** The group number as printed in logs and reasons: unsigned decimal. */
    final String label;
    final TreeMap<Long, Peer> members = new TreeMap<>();
    final GroupCollectives collectives;
    final GroupSync sync;
    final GroupTopology topology;
    /** Dialer id to the ids it reported unreachable; only ids of current members. */
    final TreeMap<Long, TreeSet<Long>> unreachable = new TreeMap<>();
    private final MasterStateMachine machine;
    private final MasterOutbox outbox;
    private EstablishRound round;
    private List<Long> ring = List.of();

    GroupState(final int group, final MasterStateMachine machine, final MasterOutbox outbox) {
        this.group = group;
        this.label = Integer.toUnsignedString(group);
        this.machine = machine;
        this.outbox = outbox;
        this.collectives = new GroupCollectives(this, machine, outbox);
        this.sync = new GroupSync(this, machine, outbox);
        this.topology = new GroupTopology(this, machine, outbox);
    }

    int acceptedCount() {
        int n = 0;
        for (final Peer p : members.values()) {
            if (p.accepted) {
                n++;
            }
        }
        return n;
    }

    /** Ring of the last successful round, restricted to current accepted members. */
    List<Long> ring() {
        final List<Long> live = new ArrayList<>(ring.size());
        for (final Long id : ring) {
            final Peer p = members.get(id);
            if (p != null && p.accepted) {
                live.add(id);
            }
        }
        return Collections.unmodifiableList(live);
    }

    EstablishRound round() {
        return round;
    }

    void addPeer(final Peer peer, final long nowNs) {
        members.put(peer.id, peer);
        maybeAcceptFirstPeer(nowNs);
    }

    // ---- establishment vote ---------------------------------------------------------------------------

    String onEstablishVote(final Peer peer, final boolean acceptNewPeers, final long nowNs) {
        if (!peer.accepted) {
            return "establish vote from pending peer " + peer.id + " (phase " + peer.phase()
                    + "); a pending peer waits for its group's round";
        }
        if (peer.phase() != PeerPhase.IDLE) {
            return "establish vote from peer " + peer.id + " in phase " + peer.phase() + ", expected IDLE";
        }
        if (!peer.activeTags.isEmpty()) {
            return "establish vote from peer " + peer.id + " while collectives " + peer.activeTags
                    + " are running";
        }
        final String conflict = conflictingVote(peer, GroupVoteKind.ESTABLISH);
        if (conflict != null) {
            LOG.info("master: group {} {}", label, conflict);
            outbox.establishRefused(peer.id, MasterError.FAILED_PRECONDITION, conflict);
            return null;
        }
        peer.acceptNewPeersVote = acceptNewPeers;
        peer.transitionTo(PeerPhase.VOTED_ESTABLISH, nowNs, "voted establish, acceptNewPeers=" + acceptNewPeers);
        checkEstablishConsensus(nowNs);
        return null;
    }

    private void checkEstablishConsensus(final long nowNs) {
        if (round != null) {
            return;
        }
        boolean anyAccepted = false;
        boolean acceptAll = true;
        for (final Peer p : members.values()) {
            if (!p.accepted) {
                continue;
            }
            anyAccepted = true;
            if (p.phase() != PeerPhase.VOTED_ESTABLISH) {
                return;
            }
            acceptAll &= p.acceptNewPeersVote;
        }
        if (anyAccepted) {
            final TreeMap<Long, Peer> participants = new TreeMap<>();
            for (final Peer p : members.values()) {
                if (p.accepted || acceptAll && p.phase() == PeerPhase.REGISTERED) {
                    participants.put(p.id, p);
                }
            }
            startRound(participants, acceptAll, nowNs);
        }
    }

    /** A group without accepted peers accepts its lowest pending peer at once, in a round of its own. */
    private void maybeAcceptFirstPeer(final long nowNs) {
        if (round != null || acceptedCount() > 0) {
            return;
        }
        for (final Peer p : members.values()) {
            if (p.phase() == PeerPhase.REGISTERED) {
                final TreeMap<Long, Peer> participants = new TreeMap<>();
                participants.put(p.id, p);
                startRound(participants, true, nowNs);
                return;
            }
        }
    }

    private void startRound(final TreeMap<Long, Peer> participants, final boolean includesPending,
                            final long nowNs) {
        List<Long> order = ringFor(participants);
        while (order == null) {
            // No ring avoids the reported edges: drop the highest-id participant that reported any edge to
            // another participant, and kick it (deferred) with the reason.
            final Peer offender = highestReporter(participants);
            participants.remove(offender.id);
            machine.deferKick(offender.id, MasterError.KICKED, "no ring over group " + label + " peers "
                    + participants.keySet() + " plus you avoids the unreachable peers you reported "
                    + unreachable.get(offender.id));
            order = ringFor(participants);
        }
        if (participants.isEmpty()) {
            return;
        }
        final EstablishRound r = new EstablishRound(machine.nextRoundId(), nowNs, includesPending, participants,
                Collections.unmodifiableList(order));
        round = r;
        int newcomers = 0;
        for (final Peer p : participants.values()) {
            if (!p.accepted) {
                newcomers++;
            }
        }
        final WorldSizes world = machine.worldSizes(group, newcomers);
        final List<PeerEndpoint> endpoints = new ArrayList<>(order.size());
        for (final Long id : order) {
            endpoints.add(participants.get(id).endpoint());
        }
        final List<PeerEndpoint> ringInfo = Collections.unmodifiableList(endpoints);
        LOG.info("master: group {} establishment round {} started, ring {} (pending included: {})", label, r.id,
                order, includesPending);
        for (final Peer p : participants.values()) {
            p.round = r.id;
            p.transitionTo(PeerPhase.CONNECTING, nowNs, "round " + r.id + " started");
            outbox.p2pConnectionInfo(p.id, r.id, ringInfo, world);
        }
    }

    /**
     * The ring of a round: the order of the last topology optimization when it avoids every reported edge,
     * otherwise the first ring {@link RingBuilder} finds (null when none exists).
     */
    private List<Long> ringFor(final TreeMap<Long, Peer> participants) {
        final List<Long> ids = new ArrayList<>(participants.keySet());
        final List<Long> preferred = topology.preferredOrder(ids);
        return RingBuilder.usable(preferred, unreachable) ? preferred : RingBuilder.build(ids, unreachable);
    }

    private Peer highestReporter(final TreeMap<Long, Peer> participants) {
        for (final Peer p : participants.descendingMap().values()) {
            final TreeSet<Long> blocked = unreachable.get(p.id);
            if (blocked != null) {
                for (final Long b : blocked) {
                    if (participants.containsKey(b)) {
                        return p;
                    }
                }
            }
        }
        // RingBuilder only fails through reported edges (or its step bound): fall back to the highest id.
        return participants.lastEntry().getValue();
    }

    /**
     * Kicks (deferred) the participants of a round that has run longer than {@code timeoutNs} without their
     * report; their loss then fails the round for the others, who vote again.
     *
     * @return number of peers kicked
     */
    int expireRound(final long nowNs, final long timeoutNs) {
        final EstablishRound r = round;
        if (r == null || nowNs - r.startedNs <= timeoutNs) {
            return 0;
        }
        int kicked = 0;
        for (final Peer p : r.participants.values()) {
            if (p.phase() == PeerPhase.CONNECTING && p.round == r.id) {
                machine.deferKick(p.id, MasterError.KICKED, "no connection report from peer " + p.id
                        + " for establishment round " + r.id + " of group " + label + " within "
                        + timeoutNs / 1_000_000 + " ms (the establishment round timeout)");
                kicked++;
            }
        }
        return kicked;
    }

    // ---- establishment reports ------------------------------------------------------------------------

    String onP2PReport(final Peer peer, final long roundId, final boolean ok, final long[] unreachablePeers,
                       final long nowNs) {
        if (roundId <= 0 || roundId >= machine.peekNextRoundId()) {
            return "p2p report for unknown round " + roundId + " from peer " + peer.id;
        }
        if (peer.phase() == PeerPhase.CONNECTED && peer.round == roundId) {
            return "duplicate p2p report for round " + roundId + " from peer " + peer.id;
        }
        if (peer.phase() != PeerPhase.CONNECTING || peer.round != roundId) {
            // A report for a round that already failed (e.g. a participant was lost): harmless, ignored.
            LOG.debug("master: ignoring stale p2p report for round {} from peer {}", roundId, peer.id);
            return null;
        }
        final EstablishRound r = round;
        if (r == null || r.id != roundId) {
            return "internal: peer " + peer.id + " connecting in round " + roundId + " that is not running";
        }
        r.reported++;
        if (!ok) {
            final TreeSet<Long> listed = new TreeSet<>();
            for (final long u : unreachablePeers) {
                if (u != peer.id && r.participants.containsKey(u)) {
                    listed.add(u);
                }
            }
            if (!listed.isEmpty()) {
                unreachable.computeIfAbsent(peer.id, k -> new TreeSet<>()).addAll(listed);
            }
            r.failedReporters.add(peer.id);
            r.failures.add("peer " + peer.id + " cannot reach " + listed);
        }
        peer.transitionTo(PeerPhase.CONNECTED, nowNs, "reported round " + roundId + (ok ? " ok" : " failed"));
        if (r.allReported()) {
            finishRound(r, nowNs);
        }
        return null;
    }

    private void finishRound(final EstablishRound r, final long nowNs) {
        round = null;
        if (r.failedReporters.isEmpty()) {
            for (final Peer p : r.participants.values()) {
                p.accepted = true;
            }
            ring = r.ring;
            final WorldSizes world = machine.worldSizes(group, 0);
            LOG.info("master: group {} round {} succeeded, ring {}, world {}", label, r.id, r.ring, world);
            for (final Peer p : r.participants.values()) {
                p.round = 0;
                p.transitionTo(PeerPhase.IDLE, nowNs, "round " + r.id + " succeeded");
                outbox.p2pEstablishResult(p.id, r.id, true, r.ring, world, "");
            }
            return;
        }
        // Kick failed reporters (latest first) until a ring over the rest avoids every reported edge.
        final TreeMap<Long, Peer> remaining = new TreeMap<>(r.participants);
        for (int i = r.failedReporters.size() - 1; i >= 0; i--) {
            if (RingBuilder.build(new ArrayList<>(remaining.keySet()), unreachable) != null) {
                break;
            }
            final long reporter = r.failedReporters.get(i);
            remaining.remove(reporter);
            machine.deferKick(reporter, MasterError.KICKED, "round " + r.id + ": no ring over group " + label
                    + " peers " + r.participants.keySet() + " avoids the unreachable peers you reported "
                    + unreachable.get(reporter));
        }
        failRound(r, remaining, "establishment round " + r.id + " failed: " + String.join("; ", r.failures)
                + "; vote again", nowNs);
    }

    private void failRound(final EstablishRound r, final TreeMap<Long, Peer> notify, final String reason,
                           final long nowNs) {
        round = null;
        LOG.info("master: group {} {}", label, reason);
        final WorldSizes world = machine.worldSizes(group, 0);
        for (final Peer p : r.participants.values()) {
            if (p.phase() == PeerPhase.LEFT) {
                continue;
            }
            p.round = 0;
            p.transitionTo(p.accepted ? PeerPhase.IDLE : PeerPhase.REGISTERED, nowNs, reason);
            if (notify.containsKey(p.id)) {
                outbox.p2pEstablishResult(p.id, r.id, false, List.of(), world, reason);
            }
        }
        maybeAcceptFirstPeer(nowNs);
    }

    // ---- pending-peers query --------------------------------------------------------------------------

    String onPendingQuery(final Peer peer, final long nowNs) {
        if (!peer.accepted || peer.phase() != PeerPhase.IDLE) {
            return "pending-peers query from peer " + peer.id + " in phase " + peer.phase()
                    + (peer.accepted ? "" : " (not accepted)") + ", expected an accepted IDLE peer";
        }
        if (!peer.activeTags.isEmpty()) {
            return "pending-peers query from peer " + peer.id + " while collectives " + peer.activeTags
                    + " are running";
        }
        final String conflict = conflictingVote(peer, GroupVoteKind.PENDING_QUERY);
        if (conflict != null) {
            LOG.info("master: group {} {}", label, conflict);
            outbox.pendingQueryRefused(peer.id, MasterError.FAILED_PRECONDITION, conflict);
            return null;
        }
        peer.transitionTo(PeerPhase.QUERYING_PENDING, nowNs, "pending-peers query");
        checkPendingConsensus(nowNs);
        return null;
    }

    private void checkPendingConsensus(final long nowNs) {
        boolean anyAccepted = false;
        boolean pending = false;
        for (final Peer p : members.values()) {
            if (!p.accepted) {
                pending = true;
                continue;
            }
            anyAccepted = true;
            if (p.phase() != PeerPhase.QUERYING_PENDING) {
                return;
            }
        }
        if (!anyAccepted) {
            return;
        }
        for (final Peer p : members.values()) {
            if (p.accepted) {
                p.transitionTo(PeerPhase.IDLE, nowNs, "pending-peers answer " + pending);
                outbox.peersPending(p.id, pending);
            }
        }
    }

    // ---- conflicting votes ----------------------------------------------------------------------------

    /**
     * Whether members other than {@code voter} are voting on another kind than {@code kind}.
     *
     * @return null when {@code voter} may vote; else the refusal reason naming the vote in progress and its
     *         voters
     */
    String conflictingVote(final Peer voter, final GroupVoteKind kind) {
        final EnumMap<GroupVoteKind, TreeSet<Long>> voting = new EnumMap<>(GroupVoteKind.class);
        for (final Peer p : members.values()) {
            final GroupVoteKind k = switch (p.phase()) {
                case VOTED_ESTABLISH -> GroupVoteKind.ESTABLISH;
                case QUERYING_PENDING -> GroupVoteKind.PENDING_QUERY;
                case VOTED_SYNC -> GroupVoteKind.SYNC;
                case VOTED_OPTIMIZE -> GroupVoteKind.OPTIMIZE;
                default -> null;
            };
            if (k != null && k != kind && p.id != voter.id) {
                voting.computeIfAbsent(k, x -> new TreeSet<>()).add(p.id);
            }
        }
        final TreeSet<Long> tags = new TreeSet<>();
        if (kind != GroupVoteKind.COLLECTIVE) {
            final TreeSet<Long> voters = new TreeSet<>();
            collectives.collectVotes(voter.id, tags, voters);
            if (!voters.isEmpty()) {
                voting.put(GroupVoteKind.COLLECTIVE, voters);
            }
        }
        if (voting.isEmpty()) {
            return null;
        }
        final Map.Entry<GroupVoteKind, TreeSet<Long>> other = voting.entrySet().iterator().next();
        String what = other.getKey().description();
        if (other.getKey() == GroupVoteKind.COLLECTIVE) {
            final List<String> names = new ArrayList<>();
            for (final Long t : tags) {
                names.add(Long.toUnsignedString(t));
            }
            what += " tags " + names;
        }
        return kind.description() + " vote from peer " + voter.id + " refused: group " + label
                + " is voting on " + what + " (peers " + other.getValue()
                + "); the peers of a group must call group operations in the same order";
    }

    // ---- loss -----------------------------------------------------------------------------------------

    /**
     * Forgets {@code peer} (already in {@link PeerPhase#LEFT}) and re-checks everything that may have waited
     * on it: an in-progress round fails, votes reach consensus without it, its collectives abort.
     */
    void onPeerLost(final Peer peer, final String why, final long nowNs) {
        members.remove(peer.id);
        unreachable.remove(peer.id);
        for (final Map.Entry<Long, TreeSet<Long>> e : unreachable.entrySet()) {
            e.getValue().remove(peer.id);
        }
        unreachable.values().removeIf(TreeSet::isEmpty);
        final EstablishRound r = round;
        if (r != null && r.participants.containsKey(peer.id)) {
            final TreeMap<Long, Peer> notify = new TreeMap<>(r.participants);
            notify.remove(peer.id);
            failRound(r, notify, "establishment round " + r.id + " failed: peer " + peer.id + " lost (" + why
                    + "); vote again", nowNs);
        }
        collectives.onPeerLost(peer, why);
        sync.onPeerLost(peer, nowNs);
        topology.onPeerLost(peer, nowNs);
        checkEstablishConsensus(nowNs);
        checkPendingConsensus(nowNs);
        maybeAcceptFirstPeer(nowNs);
    }
}
