package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Membership behaviour of {@link MasterStateMachine} in virtual time: joins, groups, pending queries,
 * unreachable rings and illegal inputs, asserting the exact outbox output.
 */
class MasterStateMachineTest {
    private final Harness h = new Harness();

    @Test
    void shouldAcceptLonePeerAtOnce() {
        assertEquals(List.of("registered c100 -> 1", "info 1 r1 [1] 1/1/1/1"), h.register(0));
        assertEquals(PeerPhase.CONNECTING, h.machine.phaseOf(1));
        h.reportOk(1, 1);
        assertEquals(List.of("result 1 r1 ok [1] 1/1/1/1"), h.out.take());
        assertTrue(h.machine.isAccepted(1));
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(1));
    }

    @Test
    void shouldJoinSecondPeerWhenAcceptedPeerVotes() {
        h.acceptedGroup(1);
        assertEquals(List.of("registered c101 -> 2"), h.register(0));
        assertEquals(PeerPhase.REGISTERED, h.machine.phaseOf(2));
        h.vote(true, 1);
        assertEquals(List.of("info 1 r2 [1, 2] 2/2/1/2", "info 2 r2 [1, 2] 2/2/1/2"), h.out.take());
        h.reportOk(2, 2);
        assertEquals(List.of(), h.out.take());
        h.reportOk(2, 1);
        assertEquals(List.of("result 1 r2 ok [1, 2] 2/2/1/2", "result 2 r2 ok [1, 2] 2/2/1/2"), h.out.take());
        assertTrue(h.machine.isAccepted(2));
    }

    @Test
    void shouldJoinFivePeersInOneRound() {
        h.acceptedGroup(1);
        for (int i = 2; i <= 5; i++) {
            assertEquals(List.of("registered c" + (99 + i) + " -> " + i), h.register(0));
        }
        h.vote(true, 1);
        final List<String> infos = new ArrayList<>();
        final List<String> results = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            infos.add("info " + i + " r2 [1, 2, 3, 4, 5] 5/5/1/5");
            results.add("result " + i + " r2 ok [1, 2, 3, 4, 5] 5/5/1/5");
        }
        assertEquals(infos, h.out.take());
        h.reportOk(2, 5, 4, 3, 2);
        assertEquals(List.of(), h.out.take());
        h.reportOk(2, 1);
        assertEquals(results, h.out.take());
    }

    @Test
    void shouldKeepPendingPeersOutWhenAVoteRefusesNewPeers() {
        h.acceptedGroup(2);
        h.register(0);
        h.vote(true, 1);
        h.vote(false, 2);
        assertEquals(List.of("info 1 r3 [1, 2] 2/2/1/2", "info 2 r3 [1, 2] 2/2/1/2"), h.out.take());
        assertEquals(PeerPhase.REGISTERED, h.machine.phaseOf(3));
    }

    @Test
    void shouldNotBlockOtherGroupWhenOneGroupVoteStalls() {
        h.acceptedGroup(2);
        assertEquals(List.of("registered c102 -> 3", "info 3 r3 [3] 3/1/2/2"), h.register(1));
        h.reportOk(3, 3);
        assertEquals(List.of("result 3 r3 ok [3] 3/1/2/2"), h.out.take());
        h.register(1);
        h.vote(true, 1);
        assertEquals(List.of(), h.out.take());
        h.vote(true, 3);
        assertEquals(List.of("info 3 r4 [3, 4] 4/2/2/2", "info 4 r4 [3, 4] 4/2/2/2"), h.out.take());
        h.reportOk(4, 3, 4);
        assertEquals(List.of("result 3 r4 ok [3, 4] 4/2/2/2", "result 4 r4 ok [3, 4] 4/2/2/2"), h.out.take());
        assertEquals(PeerPhase.VOTED_ESTABLISH, h.machine.phaseOf(1));
        h.vote(true, 2);
        assertEquals(List.of("info 1 r5 [1, 2] 4/2/2/2", "info 2 r5 [1, 2] 4/2/2/2"), h.out.take());
    }

    @Test
    void shouldAnswerPendingQueryOnlyWhenEveryAcceptedPeerAsked() {
        h.acceptedGroup(2);
        h.machine.onPendingQuery(1);
        assertEquals(List.of(), h.out.take());
        h.machine.onPendingQuery(2);
        assertEquals(List.of("pending 1 false", "pending 2 false"), h.out.take());
        h.register(0);
        h.machine.onPendingQuery(2);
        h.machine.onPendingQuery(1);
        assertEquals(List.of("pending 1 true", "pending 2 true"), h.out.take());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(1));
    }

    @Test
    void shouldRebuildRingAroundUnreachableEdge() {
        h.acceptedGroup(4);
        h.vote(false, 1, 2, 3, 4);
        assertEquals("info 1 r3 [1, 2, 3, 4] 4/4/1/4", h.out.take().get(0));
        h.machine.onP2PReport(2, 3, false, new long[] {3});
        h.reportOk(3, 1, 3, 4);
        final List<String> failed = h.out.take();
        assertEquals(4, failed.size());
        assertEquals("result 1 r3 failed: establishment round 3 failed: peer 2 cannot reach [3]; vote again",
                failed.get(0));
        h.vote(false, 1, 2, 3, 4);
        // 2 must not dial 3: depth-first from 1 gives 1 -> 2 -> 4 -> 3 -> 1.
        assertEquals("info 1 r4 [1, 2, 4, 3] 4/4/1/4", h.out.take().get(0));
        h.reportOk(4, 1, 2, 3, 4);
        assertEquals("result 4 r4 ok [1, 2, 4, 3] 4/4/1/4", h.out.take().get(3));
    }

    @Test
    void shouldKickReporterWhenNoRingAvoidsItsUnreachablePeers() {
        h.acceptedGroup(3);
        h.vote(true, 1, 2, 3);
        h.out.take();
        h.machine.onP2PReport(1, 3, false, new long[] {2, 3});
        h.reportOk(3, 2, 3);
        final List<String> events = h.out.take();
        assertEquals(3, events.size(), events.toString());
        assertEquals("result 2 r3 failed: establishment round 3 failed: peer 1 cannot reach [2, 3]; vote again",
                events.get(0));
        assertTrue(events.get(2).startsWith("kick 1 KICKED: round 3: no ring over group 0 peers [1, 2, 3] avoids"
                + " the unreachable peers you reported [2, 3]"), events.get(2));
        h.vote(true, 2, 3);
        assertEquals(List.of("info 2 r4 [2, 3] 2/2/1/2", "info 3 r4 [2, 3] 2/2/1/2"), h.out.take());
    }

    @Test
    void shouldKickPeerForEveryIllegalInputWithAReason() {
        h.acceptedGroup(2);
        h.register(0);
        h.vote(true, 3);
        assertKick(3, "establish vote from pending peer 3 (phase REGISTERED); a pending peer waits for its"
                + " group's round");
        h.vote(true, 1);
        h.vote(true, 1);
        assertKick(1, "establish vote from peer 1 in phase VOTED_ESTABLISH, expected IDLE");
        h.machine.onP2PReport(2, 99, true, new long[0]);
        assertKick(2, "p2p report for unknown round 99 from peer 2");
        assertEquals(List.of(), h.machine.peerIds());
    }

    @Test
    void shouldKickDuplicateReportAndFailRoundForOthers() {
        h.acceptedGroup(2);
        h.vote(true, 1, 2);
        h.out.take();
        h.reportOk(3, 1, 1);
        final List<String> events = h.out.take();
        assertEquals(List.of("kick 1 PROTOCOL_VIOLATION: duplicate p2p report for round 3 from peer 1",
                "result 2 r3 failed: establishment round 3 failed: peer 1 lost (kicked: duplicate p2p report for"
                        + " round 3 from peer 1); vote again"), events);
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(2));
    }

    @Test
    void shouldKickVotesWhileCollectivesRun() {
        h.acceptedGroup(3);
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        h.vote(true, 1);
        assertKick(1, "establish vote from peer 1 while collectives [7] are running");
        h.machine.onCollectiveInitiate(2, 7, Harness.PARAMS);
        h.machine.onPendingQuery(2);
        assertKick(2, "pending-peers query from peer 2 while collectives [7] are running");
        h.machine.onCollectiveInitiate(3, 7, Harness.PARAMS);
        assertEquals(List.of("commence 3 tag7 seq0 [3]"), h.out.take());
    }

    @Test
    void shouldKickDuplicateRegistrationAndRefuseMixedAddresses() {
        h.acceptedGroup(1);
        h.machine.onRegister(555, "10.0.0.5", false, 4000, 0, h.nowNs);
        assertEquals(List.of("refused c555 FAILED_PRECONDITION peer address 10.0.0.5 is not loopback but"
                + " registered peer 1 is at 127.0.0.1; loopback and non-loopback peers cannot mix (peers are told"
                + " the addresses the master sees)"), h.out.take());
        h.machine.onRegister(556, "127.0.0.1", true, 0, 0, h.nowNs);
        assertEquals(List.of("refused c556 INVALID_ARGUMENT listen port 0 is outside 1..65535"), h.out.take());
        h.machine.onRegister(100, "127.0.0.1", true, 4000, 0, h.nowNs);
        assertKick(1, "duplicate registration: connection 100 is already registered as peer 1");
    }

    @Test
    void shouldIgnoreInputsFromUnknownPeers() {
        h.acceptedGroup(1);
        h.vote(true, 42);
        h.machine.onP2PReport(42, 1, true, new long[0]);
        h.machine.onPendingQuery(42);
        h.machine.onCollectiveInitiate(42, 1, Harness.PARAMS);
        h.machine.onCollectiveComplete(42, 1, 0, false);
        h.machine.onDisconnected(42);
        h.machine.onHeartbeat(42, h.nowNs);
        assertEquals(List.of(), h.out.take());
    }

    @Test
    void shouldIgnoreStaleReportOfFailedRound() {
        h.acceptedGroup(2);
        h.register(0);
        h.vote(true, 1, 2);
        h.out.take();
        h.machine.onDisconnected(3);
        assertEquals(2, h.out.take().size());
        h.reportOk(3, 1);
        assertEquals(List.of(), h.out.take());
        assertFalse(h.machine.phaseOf(1) == PeerPhase.LEFT);
    }

    @Test
    void shouldAcceptNextPendingPeerWhenLonePeerLeavesMidRound() {
        h.register(0);
        h.register(0);
        assertEquals(PeerPhase.REGISTERED, h.machine.phaseOf(2));
        h.machine.onDisconnected(1);
        assertEquals(List.of("info 2 r2 [2] 1/1/1/1"), h.out.take());
    }

    private void assertKick(final long peer, final String reason) {
        final List<String> events = h.out.take();
        assertEquals("kick " + peer + " PROTOCOL_VIOLATION: " + reason, events.get(0), events.toString());
        assertEquals(PeerPhase.LEFT, h.machine.phaseOf(peer));
    }
}
