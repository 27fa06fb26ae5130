package io.pccl.master.state;

import static io.pccl.master.state.Harness.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.VoteStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * Shared-state syncs through {@link MasterStateMachine} in virtual time: the full vote / response / complete /
 * done sequence, the reference's §10.3 scenarios where the master is involved, revision bookkeeping and
 * distributor ordering. Entries are one 1024-byte UINT8 "key1" unless noted; the number after '#' is the
 * expected hash.
 */
class SharedStateSyncTest {
    private static final VoteStrategy EP = VoteStrategy.ENFORCE_POPULAR;
    private static final VoteStrategy RX = VoteStrategy.RECEIVE_ONLY;
    private static final VoteStrategy TX = VoteStrategy.SEND_ONLY;

    private final Harness h = new Harness();

    @Test
    void shouldRunFullSyncWhereThePopularContentWins() {
        h.acceptedGroup(3);
        h.sync(1, 0, EP, 42);
        h.sync(2, 0, EP, 43);
        assertEquals(List.of(), h.out.take(), "waits for every accepted peer");
        assertEquals(PeerPhase.VOTED_SYNC, h.machine.phaseOf(1));
        h.sync(3, 0, EP, 43);
        assertEquals(List.of("sync 1 r0 fetch [key1#43] from [2, 3]", "sync 2 r0 distribute", "sync 3 r0 distribute"),
                h.out.take());
        assertEquals(PeerPhase.SYNCING, h.machine.phaseOf(1));
        h.complete(true, 3, 2);
        assertEquals(List.of(), h.out.take(), "waits for the requester");
        assertEquals(PeerPhase.SYNC_COMPLETED, h.machine.phaseOf(2));
        h.complete(true, 1);
        assertEquals(List.of("sync done 1 ok", "sync done 2 ok", "sync done 3 ok"), h.out.take());
        for (long id = 1; id <= 3; id++) {
            assertEquals(PeerPhase.IDLE, h.machine.phaseOf(id));
        }
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldMoveNothingWhenContentIsIdenticalAndAdvanceEachStep() {
        h.acceptedGroup(2);
        for (long step = 0; step < 5; step++) {
            h.sync(1, step, EP, 42 + step);
            h.sync(2, step, EP, 42 + step);
            h.complete(true, 1, 2);
            assertEquals(List.of("sync 1 r" + step + " distribute", "sync 2 r" + step + " distribute",
                    "sync done 1 ok", "sync done 2 ok"), h.out.take());
        }
        assertEquals(OptionalLong.of(5), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldFetchOnlyTheDirtyKeysFromTheLowestHolderOnATie() {
        h.acceptedGroup(2);
        h.sync(2, 0, entry("key1", 5), entry("key2", 7));
        h.sync(1, 0, entry("key1", 5), entry("key2", 6));
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 fetch [key2#6] from [1]"), h.out.take());
    }

    @Test
    void shouldFetchFourDirtyKeysOfSixteen() {
        h.acceptedGroup(3);
        for (long peer = 1; peer <= 3; peer++) {
            final List<io.pccl.master.state.election.EntryVote> entries = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                entries.add(entry("key" + (char) ('a' + i), i < 4 ? (peer == 1 ? 50 + i : 100 + i) : 7));
            }
            h.machine.onSyncVote(peer, 0, EP, entries);
        }
        assertEquals(List.of("sync 1 r0 fetch [keya#100, keyb#101, keyc#102, keyd#103] from [2, 3]",
                "sync 2 r0 distribute", "sync 3 r0 distribute"), h.out.take());
    }

    @Test
    void shouldRotateDistributorsPerRequester() {
        h.acceptedGroup(5);
        for (long peer = 1; peer <= 5; peer++) {
            h.sync(peer, 0, EP, peer <= 3 ? 7 : 8);
        }
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute", "sync 3 r0 distribute",
                "sync 4 r0 fetch [key1#7] from [1, 2, 3]", "sync 5 r0 fetch [key1#7] from [2, 3, 1]"), h.out.take());
    }

    @Test
    void shouldKeepGroupsApartEvenWithTheSameKeyAndConcurrentVotes() {
        twoGroupsOfTwo();
        h.sync(1, 0, EP, 10);
        h.sync(3, 4, EP, 20);
        h.sync(2, 0, EP, 10);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute"), h.out.take());
        h.sync(4, 4, EP, 20);
        assertEquals(List.of("sync 3 r4 distribute", "sync 4 r4 distribute"), h.out.take());
        h.complete(true, 1, 3, 4, 2);
        assertEquals(List.of("sync done 3 ok", "sync done 4 ok", "sync done 1 ok", "sync done 2 ok"), h.out.take());
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
        assertEquals(OptionalLong.of(5), h.machine.expectedSyncRevision(1));
    }

    @Test
    void shouldFailOnlyThePeerWithAnotherKeySetAndLetItTryAgain() {
        h.acceptedGroup(3);
        h.sync(1, 0, entry("key1", 1));
        h.sync(2, 0, entry("key1", 1));
        h.sync(3, 0, entry("key3", 1));
        final String mismatch = "sync 3 failed SHARED_STATE_MISMATCH: peer 3: shared-state keys differ from the elected"
                + " ones: missing keys [key1]; unexpected keys [key3]";
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute", mismatch), h.out.take());
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(3), "not kicked");
        h.sync(3, 0, entry("key3", 1));
        assertEquals(PeerPhase.VOTED_SYNC, h.machine.phaseOf(3), "waits for the next sync");
        h.complete(true, 1, 2);
        assertEquals(List.of("sync done 1 ok", "sync done 2 ok"), h.out.take());
        h.sync(1, 1, entry("key1", 1));
        h.sync(2, 1, entry("key1", 1));
        assertEquals(List.of("sync 1 r1 distribute", "sync 2 r1 distribute", mismatch), h.out.take());
    }

    @Test
    void shouldFailTheLoserOfTwoSendOnlyPeersWithDifferentContent() {
        h.acceptedGroup(2);
        h.sync(2, 0, TX, 2);
        h.sync(1, 0, TX, 1);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 failed SHARED_STATE_MISMATCH: peer 2 is SEND_ONLY but"
                + " would have to receive keys [key1] elected from peers [1]"), h.out.take());
        h.complete(true, 1);
        assertEquals(List.of("sync done 1 ok"), h.out.take());
    }

    @Test
    void shouldFailEveryReceiveOnlyPeerWhenNobodyCanSend() {
        h.acceptedGroup(2);
        h.sync(1, 0, RX, 1);
        h.sync(2, 0, RX, 1);
        final String why = " failed SHARED_STATE_MISMATCH: no voter can provide shared state: every remaining voter"
                + " is RECEIVE_ONLY or failed";
        assertEquals(List.of("sync 1" + why, "sync 2" + why), h.out.take());
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0), "nothing advanced");
        assertEquals(PeerPhase.IDLE, h.machine.phaseOf(1));
    }

    @Test
    void shouldFailSendOnlyPeersMixedWithEnforcePopularButLetReceiveOnlyJoinersFetch() {
        h.acceptedGroup(3);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, TX, 1);
        h.sync(3, 0, RX, 2);
        assertEquals(List.of("sync 1 r0 distribute",
                "sync 2 failed SHARED_STATE_MISMATCH: peer 2 uses SEND_ONLY but peers [1] use ENFORCE_POPULAR; a group"
                        + " cannot mix ENFORCE_POPULAR with SEND_ONLY (RECEIVE_ONLY joiners are allowed)",
                "sync 3 r0 fetch [key1#1] from [1]"), h.out.take());
    }

    @Test
    void shouldApplyStrategyRulesPerGroup() {
        twoGroupsOfTwo();
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, TX, 1);
        h.sync(3, 0, TX, 9);
        h.sync(4, 0, TX, 9);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 failed SHARED_STATE_MISMATCH: peer 2 uses SEND_ONLY but"
                + " peers [1] use ENFORCE_POPULAR; a group cannot mix ENFORCE_POPULAR with SEND_ONLY (RECEIVE_ONLY"
                + " joiners are allowed)",
                "sync 3 r0 distribute", "sync 4 r0 distribute"), h.out.take());
    }

    @Test
    void shouldLetAReceiveOnlyPeerFetchButNeverDistribute() {
        h.acceptedGroup(3);
        h.sync(1, 0, RX, 5);
        h.sync(2, 0, TX, 5);
        h.sync(3, 0, RX, 6);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute", "sync 3 r0 fetch [key1#5] from [2]"),
                h.out.take());
    }

    @Test
    void shouldFailAnEmptyVoteWithoutKicking() {
        h.acceptedGroup(2);
        h.machine.onSyncVote(1, 0, EP, List.of());
        h.sync(2, 0, EP, 3);
        assertEquals(List.of("sync 1 failed INVALID_ARGUMENT: peer 1: shared state has 0 entries; at least 1 is"
                + " required", "sync 2 r0 distribute"), h.out.take());
    }

    @Test
    void shouldResumeAtAnyRevisionOnTheFirstSync() {
        h.acceptedGroup(2);
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0));
        h.sync(2, 0, EP, 0);
        h.sync(1, 13, EP, 42);
        assertEquals(List.of("sync 1 r13 distribute", "sync 2 r13 fetch [key1#42] from [1]"), h.out.take());
        h.complete(true, 1, 2);
        h.out.take();
        assertEquals(OptionalLong.of(14), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldElectTheHighestFirstRevisionWhateverTheArrivalOrder() {
        final List<String> first = firstSyncWithOrder(1, 2);
        assertEquals(List.of("sync 1 r5 distribute", "sync 2 r5 fetch [key1#50] from [1]"), first);
        assertEquals(first, firstSyncWithOrder(2, 1));
    }

    @Test
    void shouldGiveTheSameOutputsForEveryArrivalOrder() {
        final long[][] votes = {{1, 4, 7}, {2, 4, 8}, {3, 3, 1}, {4, 4, 7}};  // peer, revision, content
        List<String> reference = null;
        for (final List<Integer> order : permutations(List.of(0, 1, 2, 3))) {
            final Harness x = new Harness();
            x.acceptedGroup(4);
            for (final int i : order) {
                x.sync(votes[i][0], votes[i][1], EP, votes[i][2]);
            }
            for (final int i : order) {
                x.complete(true, votes[i][0]);
            }
            final List<String> events = x.out.take();
            if (reference == null) {
                reference = events;
                assertEquals(List.of("sync 1 r4 distribute", "sync 2 r4 fetch [key1#7] from [1, 4]",
                        "sync 3 r4 fetch [key1#7] from [4, 1]", "sync 4 r4 distribute", "sync done 1 ok",
                        "sync done 2 ok", "sync done 3 ok", "sync done 4 ok"), events);
            }
            assertEquals(reference, events, "order " + order);
        }
    }

    private static List<List<Integer>> permutations(final List<Integer> items) {
        if (items.isEmpty()) {
            return List.of(List.of());
        }
        final List<List<Integer>> all = new ArrayList<>();
        for (final Integer head : items) {
            final List<Integer> rest = new ArrayList<>(items);
            rest.remove(head);
            for (final List<Integer> tail : permutations(rest)) {
                final List<Integer> p = new ArrayList<>();
                p.add(head);
                p.addAll(tail);
                all.add(p);
            }
        }
        return all;
    }

    private List<String> firstSyncWithOrder(final long a, final long b) {
        final Harness x = new Harness();
        x.acceptedGroup(2);
        for (final long peer : new long[] {a, b}) {
            x.sync(peer, peer == 1 ? 5 : 3, EP, peer == 1 ? 50 : 30);
        }
        return x.out.take();
    }

    @Test
    void shouldKickARevisionJumpAndLeaveTheOtherWithoutCandidate() {
        h.acceptedGroup(2);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 1);
        h.complete(true, 1, 2);
        h.out.take();
        h.sync(1, 2, EP, 1);
        h.sync(2, 0, EP, 1);
        assertEquals(List.of("sync 2 failed SHARED_STATE_MISMATCH: no voter holds the group's revision 1 (its holders"
                + " left or failed); voters behind cannot be updated",
                "kick 1 REVISION_VIOLATION: peer 1 revision 2 is ahead of the group's expected revision 1; a revision"
                        + " must advance by exactly one per sync"), h.out.take());
        assertEquals(PeerPhase.LEFT, h.machine.phaseOf(1));
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0), "peer 2 still holds revision 0");
    }

    @Test
    void shouldDragAlongAFollowerThatNeverAdvancesItself() {
        h.acceptedGroup(3);
        for (long step = 0; step < 5; step++) {
            h.sync(1, step, EP, 42);
            h.sync(2, step, EP, 42);
            // The follower holds the revision it adopted in the previous sync and, after step 0, the content.
            h.sync(3, step == 0 ? 0 : step - 1, EP, step == 0 ? 0 : 42);
            final String fetch = step == 0 ? "[key1#42]" : "[]";
            assertEquals(List.of("sync 1 r" + step + " distribute", "sync 2 r" + step + " distribute",
                    "sync 3 r" + step + " fetch " + fetch + " from [1, 2]"), h.out.take(), "step " + step);
            h.complete(true, 1, 2, 3);
            assertEquals(3, h.out.take().size());
        }
    }

    @Test
    void shouldDragAlongAFollowerWithAdvancingContent() {
        h.acceptedGroup(3);
        for (long step = 0; step < 4; step++) {
            h.sync(3, step == 0 ? 0 : step - 1, EP, step == 0 ? 0 : 41 + step);
            h.sync(1, step, EP, 42 + step);
            h.sync(2, step, EP, 42 + step);
            assertEquals("sync 3 r" + step + " fetch [key1#" + (42 + step) + "] from [1, 2]", h.out.take().get(2));
            h.complete(true, 1, 2, 3);
            h.out.take();
        }
    }

    @Test
    void shouldNotAdvanceWhenAParticipantFailsAndSucceedOnRetry() {
        h.acceptedGroup(2);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 2);
        h.out.take();
        h.complete(false, 2);
        h.complete(true, 1);
        final String why = " failed: shared-state sync of group 0 at revision 0 failed: peers [2] reported failure;"
                + " the group's revision stays open (first sync); sync again";
        assertEquals(List.of("sync done 1" + why, "sync done 2" + why), h.out.take());
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0));
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 2);
        h.complete(true, 1, 2);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 fetch [key1#1] from [1]", "sync done 1 ok",
                "sync done 2 ok"), h.out.take());
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
        h.sync(1, 1, EP, 1);
        h.sync(2, 1, EP, 2);
        h.complete(false, 1, 2);
        assertEquals("sync done 1 failed: shared-state sync of group 0 at revision 1 failed: peers [1, 2] reported"
                + " failure; the group's revision stays 1; sync again", h.out.take().get(2));
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldFinishWithoutALostDistributorWhoseRequesterReportsFailure() {
        h.acceptedGroup(3);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 1);
        h.sync(3, 0, EP, 2);
        assertEquals("sync 3 r0 fetch [key1#1] from [1, 2]", h.out.take().get(2));
        h.complete(true, 2);
        h.machine.onDisconnected(1);
        assertEquals(List.of(), h.out.take(), "the requester is still fetching");
        h.complete(false, 3);
        final String why = " failed: shared-state sync of group 0 at revision 0 failed: peers [3] reported failure;"
                + " the group's revision stays open (first sync); sync again";
        assertEquals(List.of("sync done 2" + why, "sync done 3" + why), h.out.take());
        h.sync(2, 0, EP, 1);
        h.sync(3, 0, EP, 2);
        assertEquals(List.of("sync 2 r0 distribute", "sync 3 r0 fetch [key1#1] from [2]"), h.out.take());
    }

    @Test
    void shouldFinishWhenTheLastMissingParticipantIsLost() {
        h.acceptedGroup(3);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 1);
        h.sync(3, 0, EP, 2);
        h.complete(true, 1, 2);
        h.out.take();
        h.machine.onDisconnected(3);
        assertEquals(List.of("sync done 1 ok", "sync done 2 ok"), h.out.take());
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldElectWithoutAVoterLostDuringTheVote() {
        h.acceptedGroup(3);
        h.sync(1, 0, EP, 1);
        h.sync(3, 0, EP, 2);
        h.machine.onDisconnected(3);
        assertEquals(List.of(), h.out.take(), "peer 2 has not voted");
        h.sync(2, 0, EP, 2);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 fetch [key1#1] from [1]"), h.out.take());
    }

    @Test
    void shouldReopenTheRevisionWhenEveryHolderLeft() {
        h.acceptedGroup(2);
        h.sync(1, 9, EP, 1);
        h.sync(2, 9, EP, 1);
        h.complete(true, 1, 2);
        h.register(0);
        h.vote(true, 1, 2);
        h.reportOk(3, 1, 2, 3);
        h.out.take();
        assertEquals(OptionalLong.of(10), h.machine.expectedSyncRevision(0));
        h.machine.onDisconnected(1);
        assertEquals(OptionalLong.of(10), h.machine.expectedSyncRevision(0), "peer 2 still holds revision 9");
        h.machine.onDisconnected(2);
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0), "peer 3 never synced");
        h.sync(3, 0, EP, 5);
        h.complete(true, 3);
        assertEquals(List.of("sync 3 r0 distribute", "sync done 3 ok"), h.out.take());
        assertEquals(OptionalLong.of(1), h.machine.expectedSyncRevision(0));
    }

    @Test
    void shouldStartFreshWhenAGroupEmptiesAndRefills() {
        h.joinFirst(0, 1, 1);
        h.sync(1, 3, EP, 1);
        h.complete(true, 1);
        assertEquals(List.of("sync 1 r3 distribute", "sync done 1 ok"), h.out.take());
        assertEquals(OptionalLong.of(4), h.machine.expectedSyncRevision(0));
        h.machine.onDisconnected(1);
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0));
        h.joinFirst(0, 2, 2);
        h.sync(2, 0, EP, 1);
        assertEquals(List.of("sync 2 r0 distribute"), h.out.take());
    }

    @Test
    void shouldKickIllegalSyncMessages() {
        h.acceptedGroup(3);
        h.register(0);
        h.out.take();
        h.sync(4, 0, EP, 1);
        h.sync(1, 0, EP, 1);
        h.sync(1, 0, EP, 1);
        h.machine.onSyncComplete(2, true);
        assertEquals(List.of("kick 4 PROTOCOL_VIOLATION: shared-state sync vote from peer 4 in phase REGISTERED (not"
                        + " accepted), expected an accepted IDLE peer",
                "kick 1 PROTOCOL_VIOLATION: shared-state sync vote from peer 1 in phase VOTED_SYNC, expected an"
                        + " accepted IDLE peer",
                "kick 2 PROTOCOL_VIOLATION: shared-state sync complete from peer 2 in phase IDLE, expected SYNCING"
                        + " (only a peer told to distribute or fetch completes, once)"), h.out.take());
        h.sync(3, 0, EP, 1);
        h.complete(true, 3);
        assertEquals(List.of("sync 3 r0 distribute", "sync done 3 ok"), h.out.take());
        h.machine.onCollectiveInitiate(3, 7, Harness.PARAMS);
        h.out.take();
        h.sync(3, 1, EP, 1);
        assertEquals(List.of("kick 3 PROTOCOL_VIOLATION: shared-state sync vote from peer 3 while collectives [7] are"
                + " running"), h.out.take());
    }

    @Test
    void shouldKickASecondCompletion() {
        h.acceptedGroup(2);
        h.sync(1, 0, EP, 1);
        h.sync(2, 0, EP, 1);
        h.complete(true, 1, 1);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute",
                "kick 1 PROTOCOL_VIOLATION: shared-state sync complete from peer 1 in phase SYNC_COMPLETED, expected"
                        + " SYNCING (only a peer told to distribute or fetch completes, once)"), h.out.take());
        h.complete(true, 2);
        assertEquals(List.of("sync done 2 ok"), h.out.take());
    }

    /** Group 0: accepted peers 1, 2 (rounds 1, 2); group 1: accepted peers 3, 4 (rounds 3, 4). */
    private void twoGroupsOfTwo() {
        h.acceptedGroup(2);
        h.joinFirst(1, 3, 3);
        h.register(1);
        h.vote(true, 3);
        h.reportOk(4, 3, 4);
        h.out.take();
        assertTrue(h.machine.isAccepted(4));
        assertFalse(h.machine.expectedSyncRevision(1).isPresent());
    }
}
