package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.VoteStrategy;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Topology optimization in the state machine: the vote, the work lists (only unmeasured edges), the reports and
 * their checks, the chosen ring and its use by the next establishment round, peer loss, the timeout and
 * conflicting votes. Virtual time, recording outbox.
 */
class TopologyOptimizationTest {
    private final Harness h = new Harness();

    /** Peers 1..n optimize; every peer reports {@code mbps[from][to]} for its targets, then completes. */
    private List<String> optimize(final double[][] mbps, final long... peers) {
        for (final long p : peers) {
            h.machine.onOptimizeVote(p);
        }
        for (final long p : peers) {
            for (final long q : peers) {
                if (p != q && h.machine.phaseOf(p) == PeerPhase.BENCHMARKING
                        && groupOf(1).measured(p, q) == null) {
                    h.machine.onBandwidthReport(p, q, mbps[(int) p][(int) q]);
                }
            }
        }
        for (final long p : peers) {
            h.machine.onOptimizeWorkComplete(p);
        }
        return h.out.take();
    }

    private GroupTopology groupOf(final long peer) {
        return h.machine.groupOf(peer).topology;
    }

    /**
     * 4 peers; the ascending ring's edge 2 -> 3 is slow; the best ring is 1 -> 3 -> 2 -> 4 (slowest edge 4 -> 1,
     * 900 Mbit/s); every other ring has an edge of 100 Mbit/s or less.
     */
    private static double[][] fourPeers() {
        final double[][] m = new double[5][5];
        for (final double[] row : m) {
            Arrays.fill(row, 1000);
        }
        m[2][3] = 10;
        m[1][2] = 100;
        m[3][4] = 100;
        m[4][1] = 900;
        m[1][3] = 2000;
        m[3][2] = 2000;
        m[2][4] = 2000;
        m[4][3] = 50;
        return m;
    }

    @Test
    void shouldMeasureEveryEdgeOnceChooseTheFastestRingAndUseItInTheNextRound() {
        h.acceptedGroup(4);
        for (final long p : new long[] {1, 2, 3, 4}) {
            h.machine.onOptimizeVote(p);
        }
        assertEquals(List.of("work 1 [2, 3, 4]", "work 2 [1, 3, 4]", "work 3 [1, 2, 4]", "work 4 [1, 2, 3]"),
                h.out.take());
        final double[][] m = fourPeers();
        for (long p = 1; p <= 4; p++) {
            for (long q = 1; q <= 4; q++) {
                if (p != q) {
                    h.machine.onBandwidthReport(p, q, m[(int) p][(int) q]);
                }
            }
            assertEquals(PeerPhase.BENCHMARKING, h.machine.phaseOf(p));
        }
        for (long p = 1; p <= 3; p++) {
            h.machine.onOptimizeWorkComplete(p);
            assertEquals(PeerPhase.BENCHMARKED, h.machine.phaseOf(p));
        }
        assertEquals(List.of(), h.out.take());
        h.machine.onOptimizeWorkComplete(4);
        final List<String> done = h.out.take();
        assertEquals(4, done.size(), done.toString());
        for (int i = 0; i < 4; i++) {
            assertEquals("optimized " + (i + 1) + " ok [1, 3, 2, 4] 900.0 exact", done.get(i));
            assertEquals(PeerPhase.IDLE, h.machine.phaseOf(i + 1));
        }
        // The next establishment round uses the optimized order.
        h.vote(false, 1, 2, 3, 4);
        final List<String> info = h.out.take();
        assertTrue(info.get(0).startsWith("info 1 r3 [1, 3, 2, 4]"), info.toString());
    }

    @Test
    void shouldMeasureOnlyTheEdgesOfPeersThatJoinedSinceAndAppendThemUntilThen() {
        h.acceptedGroup(3);
        final double[][] m = fourPeers();
        final List<String> first = optimize(m, 1, 2, 3);
        assertEquals("optimized 1 ok [1, 3, 2] 1000.0 exact", first.get(3), first.toString());
        // Nothing new to measure: empty work lists, same ring.
        for (final long p : new long[] {1, 2, 3}) {
            h.machine.onOptimizeVote(p);
        }
        assertEquals(List.of("work 1 []", "work 2 []", "work 3 []"), h.out.take());
        for (final long p : new long[] {1, 2, 3}) {
            h.machine.onOptimizeWorkComplete(p);
        }
        assertEquals("optimized 3 ok [1, 3, 2] 1000.0 exact", h.out.take().get(2));
        // Peer 4 joins: appended to the optimized order until measured.
        h.register(0);
        h.vote(true, 1, 2, 3);
        final List<String> info = h.out.take();
        assertTrue(info.get(0).startsWith("info 1 r3 [1, 3, 2, 4]"), info.toString());
        h.reportOk(3, 1, 2, 3, 4);
        h.out.take();
        for (final long p : new long[] {1, 2, 3, 4}) {
            h.machine.onOptimizeVote(p);
        }
        assertEquals(List.of("work 1 [4]", "work 2 [4]", "work 3 [4]", "work 4 [1, 2, 3]"), h.out.take());
    }

    @Test
    void shouldKickReportsThatWereNotAssignedAreDuplicatedOrOutOfRange() {
        h.acceptedGroup(3);
        h.machine.onBandwidthReport(1, 2, 100);
        assertEquals(List.of("kick 1 PROTOCOL_VIOLATION: bandwidth report from peer 1 in phase IDLE, expected"
                + " BENCHMARKING"), h.out.take().subList(0, 1));
        final Harness g = new Harness();
        g.acceptedGroup(3);
        for (final long p : new long[] {1, 2, 3}) {
            g.machine.onOptimizeVote(p);
        }
        g.out.take();
        g.machine.onBandwidthReport(1, 2, 100);
        g.machine.onBandwidthReport(1, 2, 100);
        assertTrue(g.out.take().get(0).startsWith("kick 1 PROTOCOL_VIOLATION: bandwidth report from peer 1 for peer 2,"
                + " which is not among its remaining targets [3]"));
        g.machine.onBandwidthReport(2, 3, Double.NaN);
        assertTrue(g.out.take().get(0).startsWith("kick 2 PROTOCOL_VIOLATION: bandwidth report from peer 2 for peer 3:"
                + " NaN Mbit/s is not a number in [0, 1.0E9]"));
        g.machine.onBandwidthReport(3, 3, 5);
        assertTrue(g.out.take().get(0).startsWith("kick 3 PROTOCOL_VIOLATION: bandwidth report from peer 3 for peer 3,"
                + " which is not among its remaining targets"));
        assertEquals(List.of(), g.machine.peerIds());
    }

    @Test
    void shouldFinishWithoutAPeerLostWhileMeasuringAndForgetItsEdges() {
        h.acceptedGroup(3);
        for (final long p : new long[] {1, 2, 3}) {
            h.machine.onOptimizeVote(p);
        }
        h.out.take();
        h.machine.onBandwidthReport(1, 2, 500);
        h.machine.onBandwidthReport(2, 1, 400);
        h.machine.onBandwidthReport(3, 1, 300);
        h.machine.onOptimizeWorkComplete(1);
        h.machine.onDisconnected(3);
        assertNull(groupOf(1).measured(3, 1));
        h.out.take();
        // Peer 2 still reports its measurement of 3 (it left meanwhile): ignored, not a violation.
        h.machine.onBandwidthReport(2, 3, 100);
        h.machine.onOptimizeWorkComplete(2);
        assertEquals(List.of("optimized 1 ok [1, 2] 400.0 exact", "optimized 2 ok [1, 2] 400.0 exact"),
                h.out.take());
    }

    @Test
    void shouldCountAVoteLostBeforeConsensusOutAndStartWithTheRest() {
        h.acceptedGroup(3);
        h.machine.onOptimizeVote(1);
        h.machine.onOptimizeVote(2);
        assertEquals(List.of(), h.out.take());
        h.machine.onDisconnected(3);
        final List<String> events = h.out.take();
        assertTrue(events.containsAll(List.of("work 1 [2]", "work 2 [1]")), events.toString());
    }

    @Test
    void shouldKickAParticipantThatDoesNotCompleteWithinTheTimeout() {
        h.machine.optimizeTimeoutNs(60 * Harness.SECOND_NS);
        h.acceptedGroup(2);
        h.machine.onOptimizeVote(1);
        h.machine.onOptimizeVote(2);
        h.out.take();
        h.machine.onBandwidthReport(1, 2, 800);
        h.machine.onOptimizeWorkComplete(1);
        // Both keep heartbeating; peer 2 never completes.
        h.advance(61 * Harness.SECOND_NS);
        h.machine.onHeartbeat(1, h.nowNs);
        h.machine.onHeartbeat(2, h.nowNs);
        h.machine.doWork(h.nowNs);
        final List<String> events = h.out.take();
        assertTrue(events.get(0).startsWith("kick 2 KICKED: peer 2 did not complete its bandwidth measurements [1] of"
                + " group 0 within 60000 ms (the topology optimization timeout)"), events.toString());
        assertTrue(events.contains("optimized 1 ok [1] Infinity exact"), events.toString());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(1));
    }

    @Test
    void shouldRefuseAnOptimizationVoteWhileAnotherKindOfVoteRunsAndTheReverse() {
        h.acceptedGroup(3);
        h.machine.onSyncVote(1, 0, VoteStrategy.ENFORCE_POPULAR, List.of(Harness.entry("key1", 1)));
        h.machine.onOptimizeVote(2);
        assertEquals(List.of("optimized 2 failed FAILED_PRECONDITION topology optimization vote from peer 2 refused:"
                + " group 0 is voting on shared-state sync (peers [1]); the peers of a group must call group"
                + " operations in the same order"), h.out.take());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(2));
        final Harness g = new Harness();
        g.acceptedGroup(2);
        g.machine.onOptimizeVote(1);
        g.vote(false, 2);
        assertEquals(List.of("establish refused 2 FAILED_PRECONDITION: establishment vote from peer 2 refused: group 0"
                + " is voting on topology optimization (peers [1]); the peers of a group must call group operations"
                + " in the same order"), g.out.take());
        g.machine.onOptimizeVote(2);
        assertEquals(List.of("work 1 [2]", "work 2 [1]"), g.out.take());
    }

    @Test
    void shouldFallBackToASearchedRingWhenTheOptimizedOrderHasAnUnreachableEdge() {
        h.acceptedGroup(3);
        final double[][] m = fourPeers();
        optimize(m, 1, 2, 3);
        // Round 3: peer 3 cannot reach peer 2 (the optimized ring's edge 3 -> 2).
        h.vote(false, 1, 2, 3);
        h.out.take();
        h.machine.onP2PReport(1, 3, true, new long[0]);
        h.machine.onP2PReport(2, 3, true, new long[0]);
        h.machine.onP2PReport(3, 3, false, new long[] {2});
        h.out.take();
        h.vote(false, 1, 2, 3);
        final List<String> info = h.out.take();
        assertTrue(info.get(0).startsWith("info 1 r4 [1, 2, 3]"), info.toString());
    }
}
