package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Collective votes, mismatches, aborts and completions of {@link MasterStateMachine}. */
class CollectivesTest {
    private final Harness h = new Harness();

    @BeforeEach
    void threeAcceptedPeers() {
        h.acceptedGroup(3);
    }

    @Test
    void shouldCommenceWhenAllAgreeAndFinishWithOneDoneEach() {
        initiateAll(7, Harness.PARAMS);
        assertEquals(List.of("commence 1 tag7 seq0 [1, 2, 3]", "commence 2 tag7 seq0 [1, 2, 3]",
                "commence 3 tag7 seq0 [1, 2, 3]"), h.out.take());
        initiateAll(8, Harness.PARAMS);
        assertEquals("commence 1 tag8 seq1 [1, 2, 3]", h.out.take().get(0));
        for (long id = 1; id <= 3; id++) {
            h.machine.onCollectiveComplete(id, 7, 0, false);
        }
        assertEquals(List.of("done 1 tag7 seq0 ok", "done 2 tag7 seq0 ok", "done 3 tag7 seq0 ok"), h.out.take());
        initiateAll(7, Harness.PARAMS);
        assertEquals("commence 1 tag7 seq2 [1, 2, 3]", h.out.take().get(0));
    }

    @Test
    void shouldFailAStalledInitiateVoteAfterTheVoteTimeoutAndFreeTheTag() {
        h.machine.collectiveVoteTimeoutNs(2 * Harness.SECOND_NS);
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        h.machine.onCollectiveInitiate(2, 7, Harness.PARAMS);
        h.machine.doWork(h.advance(2 * Harness.SECOND_NS));
        assertEquals(List.of(), h.out.take(), "still within the vote timeout");
        h.machine.doWork(h.advance(1));
        final String reason = "collective tag 7 in group 0: peers [1, 2] launched it but peers [3] did not within"
                + " 2000 ms (the collective vote timeout)";
        assertEquals(List.of("done 1 tag7 seq0 failed FAILED_PRECONDITION: " + reason,
                "done 2 tag7 seq0 failed FAILED_PRECONDITION: " + reason), h.out.take());
        initiateAll(7, Harness.PARAMS);
        assertEquals("commence 1 tag7 seq0 [1, 2, 3]", h.out.take().get(0), "the tag is free again");
    }

    @Test
    void shouldFailAllVotersWithTheMismatchingField() {
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        h.machine.onCollectiveInitiate(2, 7, Harness.PARAMS);
        h.machine.onCollectiveInitiate(3, 7, new CollectiveParams(1024, "DT_FLOAT32", "OP_MAX", "QUANT_NONE",
                "DT_UNSPECIFIED"));
        final String reason = "collective tag 7 in group 0: reduce op mismatch: peer 1 sent OP_SUM, peer 3 sent OP_MAX";
        assertEquals(List.of("done 1 tag7 seq0 failed COLLECTIVE_MISMATCH: " + reason,
                "done 2 tag7 seq0 failed COLLECTIVE_MISMATCH: " + reason,
                "done 3 tag7 seq0 failed COLLECTIVE_MISMATCH: " + reason), h.out.take());
        initiateAll(7, Harness.PARAMS);
        assertEquals("commence 1 tag7 seq0 [1, 2, 3]", h.out.take().get(0));
    }

    @Test
    void shouldNameCountMismatch() {
        h.machine.onCollectiveInitiate(2, 9, new CollectiveParams(10, "DT_INT8", "OP_SUM", "QUANT_NONE", "X"));
        h.machine.onCollectiveInitiate(1, 9, new CollectiveParams(20, "DT_INT8", "OP_SUM", "QUANT_NONE", "X"));
        h.machine.onCollectiveInitiate(3, 9, new CollectiveParams(10, "DT_INT8", "OP_SUM", "QUANT_NONE", "X"));
        assertEquals("done 1 tag9 seq0 failed COLLECTIVE_MISMATCH: collective tag 9 in group 0: count mismatch:"
                + " peer 1 sent 20, peer 2 sent 10", h.out.take().get(0));
    }

    @Test
    void shouldAbortOthersOnceAndReportFailureToAll() {
        initiateAll(7, Harness.PARAMS);
        h.out.take();
        h.machine.onCollectiveComplete(2, 7, 0, true);
        assertEquals(List.of("abort 1 tag7 seq0: peer 2 aborted collective tag 7 seq 0",
                "abort 3 tag7 seq0: peer 2 aborted collective tag 7 seq 0"), h.out.take());
        h.machine.onCollectiveComplete(3, 7, 0, true);
        h.machine.onCollectiveComplete(1, 7, 0, false);
        final String why = " failed UNSPECIFIED: peer 2 aborted collective tag 7 seq 0";
        assertEquals(List.of("done 1 tag7 seq0" + why, "done 2 tag7 seq0" + why, "done 3 tag7 seq0" + why),
                h.out.take());
    }

    @Test
    void shouldKickOnUnknownCompletionsAndRepeatedInitiate() {
        initiateAll(7, Harness.PARAMS);
        h.out.take();
        h.machine.onCollectiveComplete(1, 7, 5, false);
        assertEquals("kick 1 PROTOCOL_VIOLATION: collective complete for tag 7 with seq 5 from peer 1, the running"
                + " op has seq 0", h.out.take().get(0));
        h.machine.onCollectiveComplete(2, 8, 0, false);
        assertEquals("kick 2 PROTOCOL_VIOLATION: collective complete for tag 8 seq 0 from peer 2, which runs no"
                + " such collective", h.out.take().get(0));
        h.machine.onCollectiveInitiate(3, 7, Harness.PARAMS);
        assertEquals(List.of("kick 3 PROTOCOL_VIOLATION: collective tag 7 initiated again by peer 3 while it is"
                + " still running"), h.out.take());
    }

    @Test
    void shouldKickDuplicateCompletion() {
        initiateAll(7, Harness.PARAMS);
        h.out.take();
        h.machine.onCollectiveComplete(1, 7, 0, false);
        h.machine.onCollectiveComplete(1, 7, 0, false);
        final List<String> events = h.out.take();
        assertEquals("kick 1 PROTOCOL_VIOLATION: duplicate collective complete for tag 7 seq 0 from peer 1",
                events.get(0));
        assertEquals("abort 2 tag7 seq0: peer 1 lost during collective tag 7 seq 0 (kicked: duplicate collective"
                + " complete for tag 7 seq 0 from peer 1)", events.get(1));
    }

    private void initiateAll(final long tag, final CollectiveParams params) {
        for (long id = 1; id <= 3; id++) {
            h.machine.onCollectiveInitiate(id, tag, params);
        }
    }
}
