package io.pccl.master.state;

import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's record of one registered peer.
 *
 * <p>Not thread-safe; confined to the thread driving the {@link MasterStateMachine}.
 */
final class Peer {
    private static final Logger LOG = LoggerFactory.getLogger(Peer.class);

    final long id;
    final long connectionId;
    final String host;
    final boolean loopback;
    final int listenPort;
    final int group;
    /** Tags of collectives this peer voted for or runs (until its Done is sent). */
    final TreeSet<Long> activeTags = new TreeSet<>();
    boolean accepted;
    boolean acceptNewPeersVote;
    long lastHeardNs;
    long phaseSinceNs;
    /** Round this peer participates in, 0 when none. */
    long round;
    private PeerPhase phase = PeerPhase.REGISTERED;

    Peer(final long id, final long connectionId, final String host, final boolean loopback, final int listenPort,
         final int group, final long nowNs) {
        this.id = id;
        this.connectionId = connectionId;
        this.host = host;
        this.loopback = loopback;
        this.listenPort = listenPort;
        this.group = group;
        this.lastHeardNs = nowNs;
        this.phaseSinceNs = nowNs;
    }

    PeerPhase phase() {
        return phase;
    }

    /**
     * Moves to {@code next}, checking the transition table of {@link PeerPhase}.
     *
     * @param next the target phase
     * @param nowNs current time, recorded as the start of the phase
     * @param reason why, for the log
     * @throws IllegalStateException if the table forbids the move (a bug in the state machine)
     */
    void transitionTo(final PeerPhase next, final long nowNs, final String reason) {
        if (!phase.canTransitionTo(next)) {
            throw new IllegalStateException("peer " + id + ": illegal transition " + phase + " -> " + next
                    + " (" + reason + ")");
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("master: peer {} {} -> {} ({})", id, phase, next, reason);
        }
        phase = next;
        phaseSinceNs = nowNs;
    }

    PeerEndpoint endpoint() {
        return new PeerEndpoint(id, host, listenPort);
    }

    @Override
    public String toString() {
        return "peer " + id + " (group " + Integer.toUnsignedString(group) + ", " + phase + ")";
    }
}
