package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.HeldRevision;
import io.pccl.master.state.election.SharedStateElection;
import io.pccl.master.state.election.VoteStrategy;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A master restarted with the groups' last synced revisions from its state file
 * ({@link MasterStateMachine#restoreHeldRevisions}): a peer that fell behind cannot seed the group, a holder that
 * comes back is elected, the grace ends the wait, and {@link MasterStateMachine#heldRevisions} says what the
 * file must keep.
 */
class RestoredRevisionTest {
    private static final VoteStrategy EP = VoteStrategy.ENFORCE_POPULAR;
    private static final VoteStrategy RX = VoteStrategy.RECEIVE_ONLY;
    private static final long GRACE_NS = 30 * Harness.SECOND_NS;

    private final Harness h = new Harness();

    private static final HeldRevision OTHER = new HeldRevision(77, 7);

    /** What a sync of "key1" with content {@code hash} at {@code revision} leaves in the state file. */
    private static HeldRevision held(final long revision, final long hash) {
        return new HeldRevision(revision, SharedStateElection.contentFingerprint(List.of(Harness.entry("key1", hash))));
    }

    private void restore(final int group, final long revision) {
        h.machine.restoreHeldRevisions(new TreeMap<>(Map.of(group, held(revision, revision), 5, OTHER)), GRACE_NS);
    }

    /** Accepts a third peer (id 3) into the group of peers 1 and 2 built by {@code acceptedGroup(2)}. */
    private void acceptThird() {
        h.register(0);
        h.vote(true, 1, 2);
        h.reportOk(3, 1, 2, 3);
        h.out.take();
    }

    /** Moves virtual time on; the peers' messages carry the time to the machine, as the conductor's do. */
    private void later(final long deltaNs, final long... peers) {
        h.advance(deltaNs);
        for (final long peer : peers) {
            h.machine.onMessage(peer, h.nowNs);
        }
    }

    private void assertRefusedBelow(final long floor, final long... peers) {
        final List<String> events = h.out.take();
        assertEquals(peers.length, events.size(), events.toString());
        for (int i = 0; i < peers.length; i++) {
            final String e = events.get(i);
            assertTrue(e.startsWith("sync " + peers[i] + " failed SHARED_STATE_MISMATCH: ") && e.contains(
                    "no voter holds revision " + floor + " with the content the group synced before the master"
                    + " restarted"), e);
        }
    }

    @Test
    void aPeerThatFellBehindWaitsForAHolderAndThenFetchesItsState() {
        restore(0, 13);
        h.acceptedGroup(2);
        h.sync(1, 9, EP, 9);
        h.sync(2, 0, RX, 0);
        assertRefusedBelow(13, 1, 2);
        assertEquals(OptionalLong.empty(), h.machine.expectedSyncRevision(0), "still a first sync");
        assertEquals(Map.of(0, held(13, 13), 5, OTHER), h.machine.heldRevisions(),
                "the file keeps the restored revisions");
        // The same peer, had it incremented its revision 12 to 13 after missing sync 13, is refused as well.
        h.sync(1, 13, EP, 12);
        h.sync(2, 0, RX, 0);
        assertRefusedBelow(13, 1, 2);
        // The refused voters are IDLE and vote again once the holder is back.
        acceptThird();
        h.sync(1, 13, EP, 12);
        h.sync(2, 0, RX, 0);
        h.sync(3, 13, EP, 13);
        assertEquals(List.of("sync 1 r13 fetch [key1#13] from [3]", "sync 2 r13 fetch [key1#13] from [3]",
                "sync 3 r13 distribute"), h.out.take());
        final long version = h.machine.heldRevisionsVersion();
        h.complete(true, 3, 1, 2);
        h.out.take();
        assertNotEquals(version, h.machine.heldRevisionsVersion());
        assertEquals(OptionalLong.of(14), h.machine.expectedSyncRevision(0));
        assertEquals(Map.of(0, held(13, 13), 5, OTHER), h.machine.heldRevisions());
        // The restored revision has served its purpose: once every holder leaves, the group is fresh as usual.
        for (long peer = 1; peer <= 3; peer++) {
            h.machine.onDisconnected(peer);
        }
        assertEquals(Map.of(5, OTHER), h.machine.heldRevisions());
    }

    @Test
    void afterTheGraceAGroupWhoseHoldersNeverCameBackAcceptsAnyRevision() {
        restore(0, 13);
        h.advance(100 * Harness.SECOND_NS);
        h.acceptedGroup(2);
        h.sync(1, 9, EP, 9);
        h.sync(2, 9, EP, 9);
        assertRefusedBelow(13, 1, 2);
        later(GRACE_NS - 1, 1, 2);
        h.sync(1, 9, EP, 9);
        h.sync(2, 9, EP, 9);
        assertRefusedBelow(13, 1, 2);
        final long version = h.machine.heldRevisionsVersion();
        later(1, 1, 2);
        h.sync(1, 9, EP, 9);
        h.sync(2, 9, EP, 9);
        assertEquals(List.of("sync 1 r9 distribute", "sync 2 r9 distribute"), h.out.take());
        assertNotEquals(version, h.machine.heldRevisionsVersion());
        h.complete(true, 1, 2);
        h.out.take();
        assertEquals(Map.of(0, held(9, 9), 5, OTHER), h.machine.heldRevisions());
    }

    @Test
    void otherGroupsAndLaterSyncsAreUntouched() {
        restore(3, 13);
        h.acceptedGroup(2);
        h.sync(1, 0, EP, 4);
        h.sync(2, 0, EP, 4);
        assertEquals(List.of("sync 1 r0 distribute", "sync 2 r0 distribute"), h.out.take());
        h.complete(true, 1, 2);
        h.out.take();
        assertEquals(Map.of(0, held(0, 4), 3, held(13, 13), 5, OTHER), h.machine.heldRevisions());
    }

    @Test
    void restoringIsRefusedAfterTheFirstRegistrationOrWithoutAGrace() {
        assertThrows(IllegalArgumentException.class, () -> h.machine.restoreHeldRevisions(new TreeMap<>(), 0));
        h.register(0);
        final IllegalStateException late = assertThrows(IllegalStateException.class,
                () -> h.machine.restoreHeldRevisions(new TreeMap<>(Map.of(0, OTHER)), GRACE_NS));
        assertTrue(late.getMessage().contains("before the first registration"), late.getMessage());
    }
}
