package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The transition table of {@link PeerPhase} as enforced by {@code Peer#transitionTo}. */
class PeerPhaseTest {
    @Test
    void shouldThrowOnIllegalTransition() {
        final Peer peer = new Peer(7, 1, "127.0.0.1", true, 4000, 0, 0);
        final IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> peer.transitionTo(PeerPhase.IDLE, 5, "test"));
        assertEquals("peer 7: illegal transition REGISTERED -> IDLE (test)", e.getMessage());
        peer.transitionTo(PeerPhase.CONNECTING, 5, "round");
        assertEquals(5, peer.phaseSinceNs);
    }

    @Test
    void shouldAllowLeavingFromEveryPhaseButLeft() {
        for (final PeerPhase phase : PeerPhase.values()) {
            assertEquals(phase != PeerPhase.LEFT, phase.canTransitionTo(PeerPhase.LEFT), phase.name());
        }
        assertTrue(PeerPhase.CONNECTED.canTransitionTo(PeerPhase.REGISTERED));
        assertFalse(PeerPhase.QUERYING_PENDING.canTransitionTo(PeerPhase.CONNECTING));
    }

    @Test
    void shouldOnlyLeaveASyncThroughItsStages() {
        assertTrue(PeerPhase.IDLE.canTransitionTo(PeerPhase.VOTED_SYNC));
        assertTrue(PeerPhase.VOTED_SYNC.canTransitionTo(PeerPhase.IDLE), "failed for this peer");
        assertTrue(PeerPhase.VOTED_SYNC.canTransitionTo(PeerPhase.SYNCING));
        assertFalse(PeerPhase.SYNCING.canTransitionTo(PeerPhase.IDLE), "must complete first");
        assertTrue(PeerPhase.SYNCING.canTransitionTo(PeerPhase.SYNC_COMPLETED));
        assertTrue(PeerPhase.SYNC_COMPLETED.canTransitionTo(PeerPhase.IDLE));
        assertFalse(PeerPhase.VOTED_ESTABLISH.canTransitionTo(PeerPhase.VOTED_SYNC));
    }
}
