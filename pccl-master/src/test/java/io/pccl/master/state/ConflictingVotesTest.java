package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pccl.master.state.election.VoteStrategy;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A group votes on one kind of operation at a time: a vote of another kind is refused at once for its sender
 * (FAILED_PRECONDITION in that kind's answer, never a kick), the vote in progress goes on, and nobody waits
 * forever. Setup: accepted peers 1, 2, 3 of group 0.
 */
class ConflictingVotesTest {
    private static final String ORDER = "); the peers of a group must call group operations in the same order";
    private static final VoteStrategy EP = VoteStrategy.ENFORCE_POPULAR;

    private final Harness h = new Harness();

    @BeforeEach
    void threeAcceptedPeers() {
        h.acceptedGroup(3);
    }

    @Test
    void shouldRefuseSyncWhileCollectiveVoteRuns() {
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        h.machine.onCollectiveInitiate(1, 8, Harness.PARAMS);
        h.sync(2, 0, EP, 1);
        assertEquals(List.of("sync 2 failed FAILED_PRECONDITION: shared-state sync vote from peer 2 refused: group 0 is"
                + " voting on collective tags [7, 8] (peers [1]" + ORDER), h.out.take());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(2));
        for (final long id : new long[] {2, 3}) {
            h.machine.onCollectiveInitiate(id, 7, Harness.PARAMS);
        }
        assertEquals(List.of("commence 1 tag7 seq0 [1, 2, 3]", "commence 2 tag7 seq0 [1, 2, 3]",
                "commence 3 tag7 seq0 [1, 2, 3]"), h.out.take());
    }

    @Test
    void shouldRefuseCollectiveWhileSyncVoteRuns() {
        h.sync(1, 0, EP, 1);
        h.machine.onCollectiveInitiate(2, 7, Harness.PARAMS);
        assertEquals(List.of("done 2 tag7 seq0 failed FAILED_PRECONDITION: collective vote from peer 2 refused: group"
                + " 0 is voting on shared-state sync (peers [1]" + ORDER), h.out.take());
        h.sync(2, 0, EP, 1);
        h.sync(3, 0, EP, 1);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute", "sync 3 r0 distribute"), h.out.take());
    }

    @Test
    void shouldRefuseEstablishWhileSyncVoteRunsAndTheReverse() {
        h.sync(1, 0, EP, 1);
        h.sync(3, 0, EP, 1);
        h.vote(true, 2);
        assertEquals(List.of("establish refused 2 FAILED_PRECONDITION: establishment vote from peer 2 refused: group 0"
                + " is voting on shared-state sync (peers [1, 3]" + ORDER), h.out.take());
        h.sync(2, 0, EP, 1);
        h.complete(true, 1, 2, 3);
        h.out.take();
        h.vote(false, 3);
        h.sync(1, 1, EP, 1);
        assertEquals(List.of("sync 1 failed FAILED_PRECONDITION: shared-state sync vote from peer 1 refused: group 0"
                + " is voting on establishment (peers [3]" + ORDER), h.out.take());
        h.vote(false, 1, 2);
        assertEquals(List.of("info 1 r3 [1, 2, 3] 3/3/1/3", "info 2 r3 [1, 2, 3] 3/3/1/3",
                "info 3 r3 [1, 2, 3] 3/3/1/3"), h.out.take());
    }

    @Test
    void shouldRefuseEstablishWhileCollectiveVoteRuns() {
        h.machine.onCollectiveInitiate(3, 9, Harness.PARAMS);
        h.vote(true, 1);
        assertEquals(List.of("establish refused 1 FAILED_PRECONDITION: establishment vote from peer 1 refused: group 0"
                + " is voting on collective tags [9] (peers [3]" + ORDER), h.out.take());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(1));
    }

    @Test
    void shouldRefusePendingQueryWhileEstablishVoteRunsAndTheReverse() {
        h.vote(true, 1);
        h.machine.onPendingQuery(2);
        assertEquals(List.of("pending refused 2 FAILED_PRECONDITION: pending-peers query vote from peer 2 refused:"
                + " group 0 is voting on establishment (peers [1]" + ORDER), h.out.take());
        h.vote(true, 2, 3);
        h.reportOk(3, 1, 2, 3);
        h.out.take();
        h.machine.onPendingQuery(2);
        h.vote(true, 1);
        assertEquals(List.of("establish refused 1 FAILED_PRECONDITION: establishment vote from peer 1 refused: group 0"
                + " is voting on pending-peers query (peers [2]" + ORDER), h.out.take());
        h.machine.onPendingQuery(1);
        h.machine.onPendingQuery(3);
        assertEquals(List.of("pending 1 false", "pending 2 false", "pending 3 false"), h.out.take());
    }

    @Test
    void shouldLetAPeerExcludedFromASyncVoteOtherwiseWithoutConflict() {
        // Peer 3's sync fails (other key); while 1 and 2 transfer it votes establish: not a conflict, the
        // transfer is not a vote. Once 1 and 2 are done, their sync vote conflicts with it.
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 1);
        h.machine.onSyncVote(3, 0, EP, List.of(Harness.entry("other", 1)));
        h.out.take();
        h.vote(true, 3);
        assertEquals(List.of(), h.out.take());
        h.complete(true, 1, 2);
        assertEquals(List.of("sync done 1 ok", "sync done 2 ok"), h.out.take());
        h.sync(1, 1, EP, 1);
        assertEquals(List.of("sync 1 failed FAILED_PRECONDITION: shared-state sync vote from peer 1 refused: group 0"
                + " is voting on establishment (peers [3]" + ORDER), h.out.take());
        h.vote(true, 1, 2);
        assertEquals(3, h.out.take().size());
    }

    @Test
    void shouldNotConflictAcrossGroups() {
        h.joinFirst(1, 4, 3);
        h.sync(4, 0, EP, 1);
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        assertEquals(List.of("sync 4 r0 distribute"), h.out.take());
    }
}
