package io.pccl.master.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topology optimization of one group: the measured bandwidth of each directed edge between members, the
 * optimization vote and its measurement stage, and the ring order the group's establishment rounds prefer.
 *
 * <pre>
 *   IDLE --vote--&gt; VOTED_OPTIMIZE --all accepted members voted: Work{targets}--&gt; BENCHMARKING
 *   BENCHMARKING --BandwidthReport{to, Mbit/s} (each target at most once)--&gt; BENCHMARKING
 *   BENCHMARKING --WorkComplete--&gt; BENCHMARKED --all participants completed: RingOptimizer, Done{ring}--&gt; IDLE
 * </pre>
 *
 * <p>Rules (documented in docs/protocol.md, "Topology optimization"):
 * <ul>
 *   <li>Measurements are kept between optimizations: a member is only asked to measure its edges that have no
 *       value yet and were not reported unreachable, so a later optimization measures just the newcomers' edges.
 *       A member's edges are forgotten when it leaves.</li>
 *   <li>The chosen ring becomes the group's preferred order ({@link #preferredOrder}); it takes effect at the
 *       next establishment round, which the peers start right after {@code Done}. Peers that join later are
 *       appended to it until the next optimization measures their edges.</li>
 *   <li>A participant lost during the optimization drops out of it (its assignments and edges are forgotten);
 *       the others finish without it. A participant that stays connected but does not complete within the
 *       optimization timeout is kicked, like an establishment round's straggler.</li>
 *   <li>A report outside the measurement stage, for a peer that was not assigned (or twice), or with a value
 *       that is not finite, negative or above {@link #MAX_MBPS} kicks the sender.</li>
 * </ul>
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class GroupTopology {
    private static final Logger LOG = LoggerFactory.getLogger(GroupTopology.class);
    /** Largest bandwidth a report may claim: 1 Pbit/s, far above any link. */
    static final double MAX_MBPS = 1e9;

    private final GroupState group;
    private final MasterStateMachine machine;
    private final MasterOutbox outbox;
    /** Measured Mbit/s by sender id, then receiver id; only ids of current members. */
    private final TreeMap<Long, TreeMap<Long, Double>> mbps = new TreeMap<>();
    /** Edges still to be measured in the running optimization, by participant; null when none runs. */
    private TreeMap<Long, TreeSet<Long>> assigned;
    private long startedNs;
    private List<Long> preferred = List.of();

    GroupTopology(final GroupState group, final MasterStateMachine machine, final MasterOutbox outbox) {
        this.group = group;
        this.machine = machine;
        this.outbox = outbox;
    }

    /** Whether an optimization is in its measurement stage. */
    boolean running() {
        return assigned != null;
    }

    /** The measured Mbit/s of the edge {@code from -> to}, or null; for tests. */
    Double measured(final long from, final long to) {
        final TreeMap<Long, Double> row = mbps.get(from);
        return row == null ? null : row.get(to);
    }

    /**
     * Orders round participants by the last optimized ring: its members first, in its order, then the others
     * ascending.
     *
     * @param participants ascending ids
     * @return the preferred order
     */
    List<Long> preferredOrder(final List<Long> participants) {
        final TreeSet<Long> rest = new TreeSet<>(participants);
        final List<Long> order = new ArrayList<>(participants.size());
        for (final Long id : preferred) {
            if (rest.remove(id)) {
                order.add(id);
            }
        }
        order.addAll(rest);
        return order;
    }

    // ---- vote ---------------------------------------------------------------------------------------------

    String onVote(final Peer peer, final long nowNs) {
        if (!peer.accepted || peer.phase() != PeerPhase.IDLE) {
            return "topology optimization vote from peer " + peer.id + " in phase " + peer.phase()
                    + (peer.accepted ? "" : " (not accepted)") + ", expected an accepted IDLE peer";
        }
        if (!peer.activeTags.isEmpty()) {
            return "topology optimization vote from peer " + peer.id + " while collectives " + peer.activeTags
                    + " are running";
        }
        final String conflict = group.conflictingVote(peer, GroupVoteKind.OPTIMIZE);
        if (conflict != null) {
            LOG.info("master: group {} {}", group.label, conflict);
            outbox.optimizeDone(peer.id, false, List.of(), 0, false, MasterError.FAILED_PRECONDITION, conflict);
            return null;
        }
        peer.transitionTo(PeerPhase.VOTED_OPTIMIZE, nowNs, "voted topology optimization");
        checkVoteConsensus(nowNs);
        return null;
    }

    void checkVoteConsensus(final long nowNs) {
        if (assigned != null) {
            return;
        }
        final List<Peer> voters = new ArrayList<>();
        for (final Peer p : group.members.values()) {
            if (!p.accepted) {
                continue;
            }
            if (p.phase() != PeerPhase.VOTED_OPTIMIZE) {
                return;
            }
            voters.add(p);
        }
        if (voters.isEmpty()) {
            return;
        }
        assigned = new TreeMap<>();
        startedNs = nowNs;
        int edges = 0;
        for (final Peer p : voters) {
            final TreeSet<Long> blocked = group.unreachable.get(p.id);
            final TreeMap<Long, Double> row = mbps.get(p.id);
            final TreeSet<Long> targets = new TreeSet<>();
            final List<PeerEndpoint> endpoints = new ArrayList<>();
            for (final Peer q : voters) {
                if (q.id != p.id && (row == null || !row.containsKey(q.id))
                        && (blocked == null || !blocked.contains(q.id))) {
                    targets.add(q.id);
                    endpoints.add(q.endpoint());
                }
            }
            assigned.put(p.id, targets);
            edges += targets.size();
            p.transitionTo(PeerPhase.BENCHMARKING, nowNs, "measures " + targets);
            outbox.optimizeWork(p.id, endpoints);
        }
        LOG.info("master: group {} topology optimization started: {} edges to measure among peers {}", group.label,
                edges, assigned.keySet());
    }

    // ---- measurement stage --------------------------------------------------------------------------------

    String onReport(final Peer peer, final long toPeer, final double value) {
        if (peer.phase() != PeerPhase.BENCHMARKING || assigned == null) {
            return "bandwidth report from peer " + peer.id + " in phase " + peer.phase()
                    + ", expected BENCHMARKING";
        }
        final TreeSet<Long> targets = assigned.get(peer.id);
        if (targets == null || !targets.contains(toPeer)) {
            if (!group.members.containsKey(toPeer) && toPeer > 0) {
                // The target left after this peer was told to measure it: a harmless race.
                return null;
            }
            return "bandwidth report from peer " + peer.id + " for peer " + Long.toUnsignedString(toPeer)
                    + ", which is not among its remaining targets " + targets;
        }
        if (!(value >= 0 && value <= MAX_MBPS)) {
            return "bandwidth report from peer " + peer.id + " for peer " + toPeer + ": " + value
                    + " Mbit/s is not a number in [0, " + MAX_MBPS + "]";
        }
        targets.remove(toPeer);
        mbps.computeIfAbsent(peer.id, k -> new TreeMap<>()).put(toPeer, value);
        return null;
    }

    String onWorkComplete(final Peer peer, final long nowNs) {
        if (peer.phase() != PeerPhase.BENCHMARKING || assigned == null) {
            return "optimization work complete from peer " + peer.id + " in phase " + peer.phase()
                    + ", expected BENCHMARKING";
        }
        final TreeSet<Long> left = assigned.get(peer.id);
        peer.transitionTo(PeerPhase.BENCHMARKED, nowNs, left.isEmpty() ? "measured every target"
                : "completed without measuring " + left);
        checkCompletion(nowNs);
        return null;
    }

    private void checkCompletion(final long nowNs) {
        if (assigned == null) {
            return;
        }
        for (final Long id : assigned.keySet()) {
            if (group.members.get(id).phase() != PeerPhase.BENCHMARKED) {
                return;
            }
        }
        final List<Long> participants = new ArrayList<>(assigned.keySet());
        assigned = null;
        final RingOptimizer.Result result = participants.isEmpty() ? null
                : RingOptimizer.optimize(participants, mbps, group.unreachable);
        if (result != null) {
            preferred = result.ring();
            LOG.info("master: group {} topology optimized: ring {}, bottleneck {} Mbit/s{}", group.label,
                    result.ring(), result.bottleneckMbps(), result.exact() ? " (optimal)" : " (heuristic)");
        } else {
            LOG.info("master: group {} topology optimization found no ring over {} avoiding the unreachable"
                    + " edges; the ring is unchanged", group.label, participants);
        }
        for (final Long id : participants) {
            final Peer p = group.members.get(id);
            p.transitionTo(PeerPhase.IDLE, nowNs, "topology optimization done");
            if (result != null) {
                outbox.optimizeDone(id, true, result.ring(), result.bottleneckMbps(), result.exact(),
                        MasterError.UNSPECIFIED, "");
            } else {
                outbox.optimizeDone(id, false, List.of(), 0, false, MasterError.FAILED_PRECONDITION,
                        "no ring over group " + group.label + " peers " + participants
                                + " avoids the unreachable edges " + group.unreachable);
            }
        }
    }

    /**
     * Kicks (deferred) the participants that have not completed their work within {@code timeoutNs} of the
     * optimization's start; their loss lets the others finish.
     *
     * @return number of peers kicked
     */
    int expire(final long nowNs, final long timeoutNs) {
        if (assigned == null || nowNs - startedNs <= timeoutNs) {
            return 0;
        }
        int kicked = 0;
        for (final Map.Entry<Long, TreeSet<Long>> e : assigned.entrySet()) {
            if (group.members.get(e.getKey()).phase() == PeerPhase.BENCHMARKING) {
                machine.deferKick(e.getKey(), MasterError.KICKED, "peer " + e.getKey() + " did not complete its"
                        + " bandwidth measurements " + e.getValue() + " of group " + group.label + " within "
                        + timeoutNs / 1_000_000 + " ms (the topology optimization timeout)");
                kicked++;
            }
        }
        return kicked;
    }

    // ---- loss ---------------------------------------------------------------------------------------------

    /** Forgets a member that left: its edges, its assignment, and others' assignments to measure it. */
    void onPeerLost(final Peer peer, final long nowNs) {
        mbps.remove(peer.id);
        for (final TreeMap<Long, Double> row : mbps.values()) {
            row.remove(peer.id);
        }
        mbps.values().removeIf(TreeMap::isEmpty);
        if (assigned != null) {
            assigned.remove(peer.id);
            for (final TreeSet<Long> targets : assigned.values()) {
                targets.remove(peer.id);
            }
            checkCompletion(nowNs);
        } else {
            checkVoteConsensus(nowNs);
        }
    }
}
