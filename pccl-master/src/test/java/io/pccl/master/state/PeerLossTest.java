package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.VoteStrategy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Losing a peer, by disconnect or by heartbeat timeout, in every state: the others never wait forever.
 * Setup: accepted peers 1, 2, 3 of group 0 and a pending peer 4; the lost peer is 3 unless noted.
 */
class PeerLossTest {
    private final Harness h = new Harness();

    @ParameterizedTest(name = "{0} by {1}")
    @CsvSource({
        "REGISTERED, disconnect", "REGISTERED, timeout",
        "IDLE, disconnect", "IDLE, timeout",
        "VOTED_ESTABLISH, disconnect", "VOTED_ESTABLISH, timeout",
        "QUERYING_PENDING, disconnect", "QUERYING_PENDING, timeout",
        "CONNECTING, disconnect", "CONNECTING, timeout",
        "CONNECTED, disconnect", "CONNECTED, timeout",
        "COLLECTIVE_VOTING, disconnect", "COLLECTIVE_VOTING, timeout",
        "COLLECTIVE_RUNNING, disconnect", "COLLECTIVE_RUNNING, timeout",
        "VOTED_SYNC, disconnect", "VOTED_SYNC, timeout",
        "SYNCING, disconnect", "SYNCING, timeout",
        "SYNC_COMPLETED, disconnect", "SYNC_COMPLETED, timeout",
    })
    void shouldReleaseOthersWhenPeerIsLost(final String state, final String mode) {
        h.acceptedGroup(3);
        h.register(0);
        long lost = 3;
        final List<String> expected = new ArrayList<>();
        switch (state) {
            case "REGISTERED" -> lost = 4;
            case "IDLE" -> {
                h.vote(true, 1, 2);
                expected.addAll(infos("r3 [1, 2, 4] 3/3/1/3", 1, 2, 4));
            }
            case "VOTED_ESTABLISH" -> h.vote(true, 1, 3);
            case "QUERYING_PENDING" -> {
                h.machine.onPendingQuery(1);
                h.machine.onPendingQuery(3);
            }
            case "CONNECTING", "CONNECTED" -> {
                h.vote(true, 1, 2, 3);
                if (state.equals("CONNECTED")) {
                    h.reportOk(3, 3);
                }
                for (final long id : new long[] {1, 2, 4}) {
                    expected.add("result " + id + " r3 failed: establishment round 3 failed: peer 3 lost ("
                            + (mode.equals("disconnect") ? "connection closed" : "kicked: no message from peer 3"
                            + " for 5000 ms, heartbeat timeout is 5000 ms") + "); vote again");
                }
            }
            case "COLLECTIVE_VOTING" -> {
                h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
                h.machine.onCollectiveInitiate(3, 7, Harness.PARAMS);
            }
            case "COLLECTIVE_RUNNING" -> {
                for (long id = 1; id <= 3; id++) {
                    h.machine.onCollectiveInitiate(id, 7, Harness.PARAMS);
                }
                assertEquals("commence 3 tag7 seq0 [1, 2, 3]", h.out.take().get(2));
                for (final long id : new long[] {1, 2}) {
                    expected.add("abort " + id + " tag7 seq0: peer 3 lost during collective tag 7 seq 0 ("
                            + (mode.equals("disconnect") ? "connection closed" : "kicked: no message from peer 3"
                            + " for 5000 ms, heartbeat timeout is 5000 ms") + ")");
                }
            }
            case "VOTED_SYNC" -> {
                h.sync(1, 0, VoteStrategy.ENFORCE_POPULAR, 1);
                h.sync(3, 0, VoteStrategy.ENFORCE_POPULAR, 1);
            }
            case "SYNCING", "SYNC_COMPLETED" -> {
                h.sync(1, 0, VoteStrategy.ENFORCE_POPULAR, 1);
                h.sync(2, 0, VoteStrategy.ENFORCE_POPULAR, 1);
                h.sync(3, 0, VoteStrategy.ENFORCE_POPULAR, 2);
                assertEquals("sync 3 r0 fetch [key1#1] from [1, 2]", h.out.take().get(2));
                if (state.equals("SYNC_COMPLETED")) {
                    h.complete(true, 3);
                }
            }
            default -> throw new IllegalArgumentException(state);
        }
        h.out.take();
        if (!state.startsWith("COLLECTIVE")) {
            assertEquals(state, h.machine.phaseOf(lost).name());
        }
        lose(lost, mode);
        assertEquals(expected, h.out.take());
        assertEquals(PeerPhase.LEFT, h.machine.phaseOf(lost));
        continueWithoutLostPeer(state);
    }

    private void continueWithoutLostPeer(final String state) {
        switch (state) {
            case "REGISTERED" -> {
                h.vote(true, 1, 2, 3);
                assertEquals(infos("r3 [1, 2, 3] 3/3/1/3", 1, 2, 3), h.out.take());
            }
            case "IDLE", "CONNECTING", "CONNECTED" -> {
                if (!state.equals("IDLE")) {
                    h.vote(true, 1, 2);
                    assertEquals(infos("r4 [1, 2, 4] 3/3/1/3", 1, 2, 4), h.out.take());
                }
                final long round = state.equals("IDLE") ? 3 : 4;
                h.reportOk(round, 1, 2, 4);
                assertEquals(3, h.out.take().size());
                assertTrue(h.machine.isAccepted(4));
            }
            case "VOTED_ESTABLISH" -> {
                h.vote(true, 2);
                assertEquals(infos("r3 [1, 2, 4] 3/3/1/3", 1, 2, 4), h.out.take());
            }
            case "QUERYING_PENDING" -> {
                h.machine.onPendingQuery(2);
                assertEquals(List.of("pending 1 true", "pending 2 true"), h.out.take());
            }
            case "COLLECTIVE_VOTING" -> {
                h.machine.onCollectiveInitiate(2, 7, Harness.PARAMS);
                assertEquals(List.of("commence 1 tag7 seq0 [1, 2]", "commence 2 tag7 seq0 [1, 2]"), h.out.take());
            }
            case "COLLECTIVE_RUNNING" -> {
                h.machine.onCollectiveComplete(1, 7, 0, false);
                h.machine.onCollectiveComplete(2, 7, 0, false);
                final List<String> done = h.out.take();
                assertEquals(2, done.size());
                assertTrue(done.get(0).startsWith("done 1 tag7 seq0 failed UNSPECIFIED: peer 3 lost"), done.get(0));
            }
            case "VOTED_SYNC" -> {
                h.sync(2, 0, VoteStrategy.ENFORCE_POPULAR, 2);
                h.complete(true, 1, 2);
                assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 fetch [key1#1] from [1]", "sync done 1 ok",
                        "sync done 2 ok"), h.out.take());
            }
            case "SYNCING", "SYNC_COMPLETED" -> {
                h.complete(true, 2);
                assertEquals(List.of(), h.out.take());
                h.complete(true, 1);
                assertEquals(List.of("sync done 1 ok", "sync done 2 ok"), h.out.take());
            }
            default -> throw new IllegalArgumentException(state);
        }
    }

    @Test
    void shouldKickARoundParticipantThatHeartbeatsButNeverReportsAndFailTheRoundForTheOthers() {
        h.machine.establishRoundTimeoutNs(2 * Harness.SECOND_NS);
        h.acceptedGroup(3);
        h.vote(true, 1, 2, 3);
        assertEquals(infos("r3 [1, 2, 3] 3/3/1/3", 1, 2, 3), h.out.take());
        h.reportOk(3, 1, 2);
        h.advance(2 * Harness.SECOND_NS);
        for (long id = 1; id <= 3; id++) {
            h.machine.onHeartbeat(id, h.nowNs);
        }
        assertEquals(0, h.machine.doWork(h.nowNs), "not yet past the round timeout");
        assertEquals(List.of(), h.out.take());
        assertEquals(1, h.machine.doWork(h.advance(1)));
        final String reason = "no connection report from peer 3 for establishment round 3 of group 0 within 2000 ms"
                + " (the establishment round timeout)";
        assertEquals(List.of("kick 3 KICKED: " + reason,
                "result 1 r3 failed: establishment round 3 failed: peer 3 lost (kicked: " + reason + "); vote again",
                "result 2 r3 failed: establishment round 3 failed: peer 3 lost (kicked: " + reason + "); vote again"),
                h.out.take());
        // The survivors' next round runs under its own deadline.
        h.vote(true, 1, 2);
        assertEquals(infos("r4 [1, 2] 2/2/1/2", 1, 2), h.out.take());
        assertEquals(0, h.machine.doWork(h.advance(2 * Harness.SECOND_NS)));
        h.reportOk(4, 1, 2);
        assertEquals(List.of("result 1 r4 ok [1, 2] 2/2/1/2", "result 2 r4 ok [1, 2] 2/2/1/2"), h.out.take());
    }

    private void lose(final long peer, final String mode) {
        if (mode.equals("disconnect")) {
            h.machine.onDisconnected(peer);
            return;
        }
        // Everyone else stays alive; the lost peer went silent at registration time (1000 ns).
        final long silentSince = h.nowNs;
        h.advance(Harness.TIMEOUT_NS);
        for (final long id : h.machine.peerIds()) {
            if (id != peer) {
                h.machine.onHeartbeat(id, h.nowNs);
            }
        }
        assertEquals(0, h.machine.doWork(silentSince + Harness.TIMEOUT_NS), "not yet past the timeout");
        assertEquals(1, h.machine.doWork(h.advance(1)));
        final List<String> events = h.out.events;
        assertTrue(events.get(0).startsWith("kick " + peer + " KICKED: no message from peer " + peer + " for 5000 ms,"
                + " heartbeat timeout is 5000 ms"), events.toString());
        events.remove(0);
    }

    private static List<String> infos(final String rest, final long... peers) {
        final List<String> list = new ArrayList<>();
        for (final long id : peers) {
            list.add("info " + id + " " + rest);
        }
        return list;
    }
}
