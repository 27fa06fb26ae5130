package io.pccl.master.state.election;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Election-level versions of the reference's shared-state distribution scenarios (§10.3), plus the rules the
 * reference lacks (name-based comparison, arrival-order independence, RECEIVE_ONLY never distributing).
 */
class SharedStateElectionTest {
    private static final int UINT8 = 1;
    private static final int SIMPLE = 0;
    private static final long SEED = 20261128L;
    private static final VoteStrategy EP = VoteStrategy.ENFORCE_POPULAR;
    private static final VoteStrategy RX = VoteStrategy.RECEIVE_ONLY;
    private static final VoteStrategy TX = VoteStrategy.SEND_ONLY;

    private static EntryVote e(final String key, final long hash) {
        return new EntryVote(key, hash, SIMPLE, 1024, UINT8, false);
    }

    private static SyncVote v(final long peer, final long rev, final VoteStrategy s, final EntryVote... entries) {
        return new SyncVote(peer, rev, s, List.of(entries));
    }

    private static ElectionResult elect(final long expected, final boolean first, final SyncVote... votes) {
        final ElectionResult r = SharedStateElection.elect(expected, first, List.of(votes));
        assertShuffleInvariant(expected, first, List.of(votes), r);
        return r;
    }

    /** Every scenario is also run with shuffled vote orders: the result must not change. */
    private static void assertShuffleInvariant(final long expected, final boolean first, final List<SyncVote> votes,
                                               final ElectionResult r) {
        final Random rnd = new Random(SEED);
        for (int i = 0; i < 10; i++) {
            final List<SyncVote> shuffled = new ArrayList<>(votes);
            Collections.shuffle(shuffled, rnd);
            assertEquals(r, SharedStateElection.elect(expected, first, shuffled), "order " + shuffled);
        }
    }

    private static PeerOutcome.Request request(final ElectionResult r, final long peer) {
        return assertInstanceOf(PeerOutcome.Request.class, r.outcome(peer), "peer " + peer + ": " + r);
    }

    private static PeerOutcome.Failed failed(final ElectionResult r, final long peer, final FailureCode code) {
        final PeerOutcome.Failed f = assertInstanceOf(PeerOutcome.Failed.class, r.outcome(peer), "peer " + peer);
        assertEquals(code, f.code(), f.reason());
        return f;
    }

    private static void distributes(final ElectionResult r, final long peer, final boolean serving) {
        assertEquals(new PeerOutcome.Distribute(serving), r.outcome(peer), "peer " + peer + ": " + r);
    }

    private static List<String> keys(final PeerOutcome.Request q) {
        final List<String> k = new ArrayList<>();
        for (final KeyToFetch f : q.keys()) {
            k.add(f.key());
        }
        return k;
    }

    @Test
    void basicTieGoesToLowestPeerId() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 42)), v(2, 0, EP, e("key1", 0)));
        distributes(r, 1, true);
        final PeerOutcome.Request q = request(r, 2);
        assertEquals(List.of(new KeyToFetch("key1", 42, SIMPLE, false)), q.keys());
        assertEquals(List.of(1L), q.distributors());
        assertTrue(r.advanced());
        assertEquals(0, r.revision());
    }

    @Test
    void identicalStatesTransferNothing() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 7)), v(2, 0, EP, e("key1", 7)));
        distributes(r, 1, true);
        distributes(r, 2, true);
    }

    @Test
    void partiallyDirtyStateFetchesOnlyDirtyKeys() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 1), e("key2", 2)),
                v(2, 0, EP, e("key1", 1), e("key2", 3)));
        assertEquals(List.of("key2"), keys(request(r, 2)));
    }

    @Test
    void popularContentWinsOverLowerPeerId() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 42)), v(2, 0, EP, e("key1", 43)),
                v(3, 0, EP, e("key1", 43)));
        final PeerOutcome.Request q = request(r, 1);
        assertEquals(43, q.keys().get(0).expectedHash());
        assertEquals(List.of(2L, 3L), q.distributors(), "all holders distribute");
        distributes(r, 2, true);
        distributes(r, 3, true);
    }

    @Test
    void popularContentWithMultipleKeysFetchesOnlyTheDirtyOnes() {
        final EntryVote[] a = new EntryVote[16];
        final EntryVote[] b = new EntryVote[16];
        for (int i = 0; i < 16; i++) {
            a[i] = e("key" + i, i < 4 ? 50 + i : 7);
            b[i] = e("key" + i, i < 4 ? 100 + i : 7);
        }
        final ElectionResult r = elect(0, true, v(1, 0, EP, a), v(2, 0, EP, b), v(3, 0, EP, b));
        assertEquals(List.of("key0", "key1", "key2", "key3"), keys(request(r, 1)));
    }

    @Test
    void groupsAreElectedIndependentlyEvenWithOverlappingKeys() {
        final ElectionResult g0 = elect(0, true, v(1, 0, EP, e("key2", 1)), v(2, 0, EP, e("key2", 1)));
        final ElectionResult g1 = elect(0, true, v(3, 0, EP, e("key1", 2)), v(4, 0, EP, e("key1", 2)));
        final ElectionResult g2 = elect(0, true, v(5, 0, EP, e("key1", 9)), v(6, 0, EP, e("key1", 9)));
        for (final ElectionResult r : List.of(g0, g1, g2)) {
            for (final PeerOutcome o : r.outcomes().values()) {
                assertEquals(new PeerOutcome.Distribute(true), o);
            }
        }
    }

    @Test
    void multiStepAdvancementWithIdenticalUpdates() {
        for (int step = 0; step < 5; step++) {
            final ElectionResult r = elect(step, step == 0, v(1, step, EP, e("key1", 42 + step)),
                    v(2, step, EP, e("key1", 42 + step)));
            distributes(r, 1, true);
            distributes(r, 2, true);
            assertEquals(step, r.revision());
        }
    }

    @Test
    void dragAlongFollowerWithoutAdvancedContentGetsOnlyTheRevision() {
        long followerHash = 0;
        for (int step = 0; step < 5; step++) {
            final ElectionResult r = elect(step, step == 0, v(1, step, EP, e("key1", 42)),
                    v(2, step, EP, e("key1", 42)), v(3, 0, EP, e("key1", followerHash)));
            final PeerOutcome.Request q = request(r, 3);
            assertEquals(step == 0 ? List.of("key1") : List.of(), keys(q), "step " + step);
            assertEquals(step, r.revision());
            followerHash = 42;
        }
    }

    @Test
    void dragAlongFollowerWithAdvancedContentReceivesEveryStep() {
        for (int step = 0; step < 4; step++) {
            final ElectionResult r = elect(step, step == 0, v(1, step, EP, e("key1", 42 + step)),
                    v(2, step, EP, e("key1", 42 + step)), v(3, 0, EP, e("key1", 41 + step)));
            assertEquals(List.of("key1"), keys(request(r, 3)), "step " + step);
            assertEquals(List.of(1L, 2L), request(r, 3).distributors());
        }
    }

    @Test
    void incrementViolationFailsTheSkipperAndLeavesNoDistributor() {
        final ElectionResult step0 = elect(0, true, v(1, 0, EP, e("key1", 1)), v(2, 0, EP, e("key1", 1)));
        assertTrue(step0.advanced());
        final ElectionResult step1 = elect(1, false, v(1, 2, EP, e("key1", 1)), v(2, 0, EP, e("key1", 1)));
        assertTrue(failed(step1, 1, FailureCode.REVISION_AHEAD).reason().contains("revision 2"));
        assertTrue(failed(step1, 2, FailureCode.NO_CANDIDATE).reason().contains("revision 1"));
        assertFalse(step1.advanced());
    }

    @Test
    void firstSyncMayStartAtAnyRevisionIndependentOfArrivalOrder() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 5)), v(2, 13, EP, e("key1", 6)));
        assertEquals(13, r.revision());
        distributes(r, 2, true);
        assertEquals(List.of("key1"), keys(request(r, 1)));
        final ElectionResult mixed = elect(0, true, v(1, 5, EP, e("key1", 1)), v(2, 3, EP, e("key1", 1)));
        assertEquals(5, mixed.revision(), "5 then 3 and 3 then 5 give the same result");
        assertEquals(List.of(), keys(request(mixed, 2)));
    }

    @Test
    void keySetMismatchFailsTheOddPeerEvenWithTheLowestId() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key3", 1)), v(2, 0, EP, e("key1", 1)),
                v(3, 0, EP, e("key1", 2)));
        final String reason = failed(r, 1, FailureCode.KEY_SET_MISMATCH).reason();
        assertTrue(reason.contains("missing keys [key1]") && reason.contains("unexpected keys [key3]"), reason);
        distributes(r, 2, true);
        assertEquals(List.of("key1"), keys(request(r, 3)));
        final ElectionResult next = elect(1, false, v(2, 1, EP, e("key1", 1)), v(3, 1, EP, e("key1", 1)));
        assertEquals(1, next.revision());
    }

    @Test
    void shapeDifferencesAreNamed() {
        final ElectionResult r = elect(0, true, v(1, 0, EP, e("key1", 1)), v(2, 0, EP, e("key1", 1)),
                v(3, 0, EP, new EntryVote("key1", 1, SIMPLE, 512, 11, false)));
        final String reason = failed(r, 3, FailureCode.KEY_SET_MISMATCH).reason();
        assertTrue(reason.contains("count 512 (elected 1024)") && reason.contains("data type 11 (elected 1)"),
                reason);
    }

    @Test
    void joiningPeerReceivesTheRevisionAndContentInequalityEntries() {
        final EntryVote free = new EntryVote("rng", 99, SIMPLE, 8, UINT8, true);
        final EntryVote freeOther = new EntryVote("rng", 5, SIMPLE, 8, UINT8, true);
        final ElectionResult r = elect(2, false, v(1, 2, EP, e("key1", 1), free), v(2, 2, EP, e("key1", 1),
                freeOther), v(3, 0, EP, e("key1", 1), freeOther));
        distributes(r, 1, true);
        distributes(r, 2, true);
        final PeerOutcome.Request q = request(r, 3);
        assertEquals(List.of(new KeyToFetch("rng", 99, SIMPLE, true)), q.keys());
        assertEquals(List.of(1L, 2L), q.distributors());
    }

    @Test
    void twoSendOnlyPeersWithDifferentContentFailOne() {
        final ElectionResult r = elect(0, true, v(1, 0, TX, e("key1", 1)), v(2, 0, TX, e("key1", 2)));
        distributes(r, 1, true);
        failed(r, 2, FailureCode.SEND_ONLY_MUST_RECEIVE);
    }

    @Test
    void receiveOnlyGroupsFail() {
        for (final long other : new long[] {1, 2}) {
            final ElectionResult r = elect(0, true, v(1, 0, RX, e("key1", 1)), v(2, 0, RX, e("key1", other)));
            failed(r, 1, FailureCode.NO_CANDIDATE);
            failed(r, 2, FailureCode.NO_CANDIDATE);
        }
    }

    @Test
    void enforcePopularCannotBeMixedWithSendOnly() {
        final ElectionResult tx = elect(0, true, v(1, 0, EP, e("key1", 1)), v(2, 0, TX, e("key1", 1)),
                v(3, 0, TX, e("key1", 1)));
        distributes(tx, 1, true);
        failed(tx, 2, FailureCode.STRATEGY_MIX);
        failed(tx, 3, FailureCode.STRATEGY_MIX);
        final ElectionResult all = elect(0, true, v(1, 0, EP, e("key1", 1)), v(2, 0, TX, e("key1", 1)),
                v(3, 0, RX, e("key1", 1)));
        distributes(all, 1, true);
        failed(all, 2, FailureCode.STRATEGY_MIX);
        distributes(all, 3, false);
        final ElectionResult otherGroup = elect(0, true, v(4, 0, TX, e("key1", 3)), v(5, 0, TX, e("key1", 3)));
        distributes(otherGroup, 4, true);
        distributes(otherGroup, 5, true);
    }

    @Test
    void receiveOnlyJoinerTakesTheEnforcedStateAndNeverSeedsIt() {
        // A joiner at revision 0 with its own content beside a holder of revision 7: it receives, never serves.
        final ElectionResult joined = elect(0, true, v(1, 7, EP, e("key1", 70)), v(2, 0, RX, e("key1", 99)));
        assertEquals(7, joined.revision());
        distributes(joined, 1, true);
        final PeerOutcome.Request q = request(joined, 2);
        assertEquals(List.of(new KeyToFetch("key1", 70, SIMPLE, false)), q.keys());
        assertEquals(List.of(1L), q.distributors());
        // The joiner's content would be the most popular one; ENFORCE_POPULAR voters still win, RX is no candidate.
        final ElectionResult outvoted = elect(0, true, v(1, 3, EP, e("key1", 30)), v(2, 3, RX, e("key1", 31)),
                v(3, 3, RX, e("key1", 31)));
        assertEquals(30, request(outvoted, 2).keys().get(0).expectedHash());
        assertEquals(30, request(outvoted, 3).keys().get(0).expectedHash());
        // Joiners alone (say, the first to reach a restarted master) cannot start a lineage of their own.
        final ElectionResult alone = elect(0, true, v(2, 0, RX, e("key1", 1)), v(3, 0, RX, e("key1", 2)));
        assertFalse(alone.advanced());
        failed(alone, 2, FailureCode.NO_CANDIDATE);
        failed(alone, 3, FailureCode.NO_CANDIDATE);
        // Once a holder is there, the same joiners receive its revision and content.
        final ElectionResult later = elect(0, true, v(1, 12, EP, e("key1", 5)), v(2, 0, RX, e("key1", 1)),
                v(3, 0, RX, e("key1", 2)));
        assertEquals(12, later.revision());
        assertEquals(List.of(1L), request(later, 2).distributors());
        assertEquals(List.of(1L), request(later, 3).distributors());
    }

    @Test
    void receiveOnlyPeersNeverDistribute() {
        final ElectionResult r = elect(0, true, v(1, 0, RX, e("key1", 1)), v(2, 0, TX, e("key1", 1)),
                v(3, 0, RX, e("key1", 2)));
        distributes(r, 1, false);
        distributes(r, 2, true);
        assertEquals(List.of(2L), request(r, 3).distributors());
    }

    @Test
    void contentInequalityEntriesAreNotComparedAtTheSameRevision() {
        final EntryVote a = new EntryVote("free", 1, SIMPLE, 8, UINT8, true);
        final EntryVote b = new EntryVote("free", 2, SIMPLE, 8, UINT8, true);
        final ElectionResult r = elect(0, true, v(1, 0, EP, a), v(2, 0, EP, b));
        distributes(r, 1, true);
        distributes(r, 2, true);
    }

    @Test
    void malformedVotesFailOnlyTheirSender() {
        final ElectionResult r = elect(0, true, v(1, 0, EP), v(2, 0, EP, e("k", 1), e("k", 2)),
                v(3, 0, EP, e("k", 1)));
        assertTrue(failed(r, 1, FailureCode.INVALID_VOTE).reason().contains("0 entries"));
        assertTrue(failed(r, 2, FailureCode.INVALID_VOTE).reason().contains("duplicate"));
        distributes(r, 3, true);
        assertThrows(IllegalArgumentException.class, () -> SharedStateElection.elect(0, true,
                List.of(v(1, 0, EP, e("k", 1)), v(1, 0, EP, e("k", 1)))));
    }

    @Test
    void shuffledLargeGroupsGiveIdenticalResults() {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        for (int round = 0; round < 50; round++) {
            final List<SyncVote> votes = new ArrayList<>();
            final int n = 2 + rnd.nextInt(12);
            for (int p = 0; p < n; p++) {
                final VoteStrategy s = VoteStrategy.values()[rnd.nextInt(3)];
                votes.add(v(100 - p * 7, rnd.nextInt(3), s, e("a", rnd.nextInt(3)), e("b", rnd.nextInt(2))));
            }
            final boolean first = rnd.nextBoolean();
            final ElectionResult r = SharedStateElection.elect(2, first, votes);
            assertShuffleInvariant(2, first, votes, r);
            assertEquals(n, r.outcomes().size());
        }
    }

    @Test
    void aFirstSyncWithAFloorElectsOnlyTheHeldContentAtItsRevisionOrALaterRevision() {
        final HeldRevision floor = new HeldRevision(13, SharedStateElection.contentFingerprint(List.of(e("w", 13))));
        // A peer that fell behind (revision 9) and a joiner reach the restarted master first: nothing is elected.
        final ElectionResult waiting = SharedStateElection.elect(0, true, floor,
                List.of(v(1, 9, EP, e("w", 9)), v(2, 0, RX, e("w", 0))));
        assertFalse(waiting.advanced());
        for (final long peer : new long[] {1, 2}) {
            final String reason = failed(waiting, peer, FailureCode.NO_CANDIDATE).reason();
            assertTrue(reason.contains("no voter holds revision 13 with the content the group synced before the master"
                    + " restarted, or a later revision (highest voted: 9)"), reason);
        }
        // A peer that missed sync 13 and incremented its revision 12 votes 13 with other content: refused too.
        failed(SharedStateElection.elect(0, true, floor, List.of(v(1, 13, EP, e("w", 12)))), 1,
                FailureCode.NO_CANDIDATE);
        // A holder of 13 comes back: its content is elected even against two such peers, who fetch it.
        final ElectionResult back = SharedStateElection.elect(0, true, floor, List.of(v(1, 13, EP, e("w", 12)),
                v(2, 0, RX, e("w", 0)), v(3, 13, EP, e("w", 13)), v(4, 13, EP, e("w", 12))));
        assertTrue(back.advanced());
        assertEquals(13, back.revision());
        for (final long peer : new long[] {1, 2, 4}) {
            assertEquals(List.of("w"), keys(request(back, peer)));
        }
        distributes(back, 3, true);
        // A later revision is accepted whatever its content: a holder that incremented and trained on wins.
        final ElectionResult ahead = SharedStateElection.elect(0, true, floor,
                List.of(v(1, 13, EP, e("w", 13)), v(2, 14, EP, e("w", 14))));
        assertEquals(14, ahead.revision());
        assertEquals(List.of("w"), keys(request(ahead, 1)));
        // Unsigned: a floor above 2^63 is not below a small revision by a signed comparison.
        assertFalse(SharedStateElection.elect(0, true, new HeldRevision(-2L, 0), List.of(v(1, 5, EP, e("w", 5))))
                .advanced());
        // Without a first sync the floor does not apply: the expected revision rules.
        final ElectionResult later = SharedStateElection.elect(10, false, floor, List.of(v(1, 10, EP, e("w", 1))));
        assertEquals(10, later.revision());
        distributes(later, 1, true);
    }

    @Test
    void theContentFingerprintCoversNamesShapesAndHashesButNotTheHashesOfUnequalEntries() {
        final long base = SharedStateElection.contentFingerprint(List.of(e("a", 1), e("b", 2)));
        assertEquals(base, SharedStateElection.contentFingerprint(List.of(e("a", 1), e("b", 2))));
        for (final List<EntryVote> other : List.of(List.of(e("a", 1), e("b", 3)), List.of(e("a", 1), e("c", 2)),
                List.of(e("a", 1)), List.of(e("a", 1), new EntryVote("b", 2, SIMPLE, 2048, UINT8, false)),
                List.of(e("ab", 1), e("", 2)))) {
            assertTrue(base != SharedStateElection.contentFingerprint(other), other.toString());
        }
        assertEquals(SharedStateElection.contentFingerprint(List.of(new EntryVote("m", 1, SIMPLE, 8, UINT8, true))),
                SharedStateElection.contentFingerprint(List.of(new EntryVote("m", 2, SIMPLE, 8, UINT8, true))));
    }
}
