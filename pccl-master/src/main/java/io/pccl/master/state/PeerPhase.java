package io.pccl.master.state;

import java.util.EnumSet;
import java.util.Set;

/**
 * Phase of one peer's control session as the master sees it. Collectives are tracked per tag beside the
 * phase (a peer in {@link #IDLE} may run several); a peer with collectives running may only stay
 * {@link #IDLE}.
 *
 * <pre>
 *                      onRegister
 *                          |
 *                          v
 *   +--------------&gt; REGISTERED  (pending: not accepted)
 *   |  round failed        |  included in a round
 *   |                      v
 *   |   +----------&gt; CONNECTING &lt;-------------------+
 *   |   |                  |  reported              |
 *   |   |                  v                        | establishment consensus
 *   +---+---------- CONNECTED                       |
 *       |   round over     |  round succeeded       |
 *       |  (accepted)      v  (now accepted)        |
 *       +----------&gt;     IDLE  ----vote----&gt; VOTED_ESTABLISH
 *                        ^  |  \
 *            answer sent |  |   \ sync vote          election failed this peer (response with a code)
 *                        |  |    +------&gt; VOTED_SYNC ---------------------------------------------&gt; IDLE
 *           pending query|  v                  | election: distribute or fetch (response)
 *                   QUERYING_PENDING           v
 *                                           SYNCING --sync complete--&gt; SYNC_COMPLETED --all done--&gt; IDLE
 *
 *   IDLE --optimize vote--&gt; VOTED_OPTIMIZE --all voted: work--&gt; BENCHMARKING --work complete--&gt; BENCHMARKED
 *                                                                       all completed: ring chosen, Done --&gt; IDLE
 *
 *   every state --(disconnect, heartbeat timeout, kick)--&gt; LEFT
 * </pre>
 *
 * <p>Thread-safe (immutable).
 */
public enum PeerPhase {
    /** Registered but not accepted: waits for an establishment round of its group that includes it. */
    REGISTERED,
    /** Accepted member of its group with no group vote or round in progress. */
    IDLE,
    /** Accepted and voted for an establishment round; waits for the rest of its group. */
    VOTED_ESTABLISH,
    /** Accepted and voted in a pending-peers query; waits for the rest of its group. */
    QUERYING_PENDING,
    /** Accepted and voted for a shared-state sync; waits for the rest of its group (or for a running sync). */
    VOTED_SYNC,
    /** Participant of a shared-state sync: got its response, distributes or fetches, has not completed. */
    SYNCING,
    /** Participant of a shared-state sync that sent its completion; waits for the other participants. */
    SYNC_COMPLETED,
    /** Accepted and voted to optimize the group's ring; waits for the rest of its group. */
    VOTED_OPTIMIZE,
    /** Participant of a topology optimization: got its measurement work, has not completed it. */
    BENCHMARKING,
    /** Participant of a topology optimization that completed its work; waits for the other participants. */
    BENCHMARKED,
    /** Participant of an establishment round: got the connection info, has not reported yet. */
    CONNECTING,
    /** Participant of an establishment round that reported; waits for the other participants. */
    CONNECTED,
    /** Removed (disconnected, timed out or kicked); terminal. */
    LEFT;

    private Set<PeerPhase> successors;

    static {
        REGISTERED.successors = EnumSet.of(CONNECTING, LEFT);
        IDLE.successors = EnumSet.of(VOTED_ESTABLISH, QUERYING_PENDING, VOTED_SYNC, VOTED_OPTIMIZE, LEFT);
        VOTED_ESTABLISH.successors = EnumSet.of(CONNECTING, LEFT);
        QUERYING_PENDING.successors = EnumSet.of(IDLE, LEFT);
        VOTED_SYNC.successors = EnumSet.of(SYNCING, IDLE, LEFT);
        SYNCING.successors = EnumSet.of(SYNC_COMPLETED, LEFT);
        SYNC_COMPLETED.successors = EnumSet.of(IDLE, LEFT);
        VOTED_OPTIMIZE.successors = EnumSet.of(BENCHMARKING, LEFT);
        BENCHMARKING.successors = EnumSet.of(BENCHMARKED, LEFT);
        BENCHMARKED.successors = EnumSet.of(IDLE, LEFT);
        CONNECTING.successors = EnumSet.of(CONNECTED, IDLE, REGISTERED, LEFT);
        CONNECTED.successors = EnumSet.of(IDLE, REGISTERED, LEFT);
        LEFT.successors = EnumSet.noneOf(PeerPhase.class);
    }

    /**
     * Whether the transition table allows moving from this phase to {@code next}.
     *
     * @param next the target phase
     * @return true if legal
     */
    public boolean canTransitionTo(final PeerPhase next) {
        return successors.contains(next);
    }
}
