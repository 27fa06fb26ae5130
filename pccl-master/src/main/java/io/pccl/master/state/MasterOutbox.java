package io.pccl.master.state;

import io.pccl.master.state.election.KeyToFetch;
import java.util.List;

/**
 * Everything the {@link MasterStateMachine} says to the outside world. The Netty adapter implements it by
 * converting to protobuf and writing to the peer's connection; tests record the calls.
 *
 * <p>Implementations are called on the thread that drives the state machine and must not call back into
 * it (they are assumed to never throw).
 */
public interface MasterOutbox {
    /**
     * A registration was accepted: answer {@code RegisterResponse{accepted, peerId}} on that connection.
     *
     * @param connectionId the adapter's connection id passed to {@code onRegister}
     * @param peerId the peer id assigned
     */
    void registered(long connectionId, long peerId);

    /**
     * A registration was refused: answer {@code RegisterResponse{accepted = false, code, reason}} and close.
     *
     * @param connectionId the adapter's connection id passed to {@code onRegister}
     * @param code why
     * @param reason human-readable reason naming the values involved
     */
    void registrationRefused(long connectionId, MasterError code, String reason);

    /**
     * Start of an establishment round for a participant.
     *
     * @param peerId receiver
     * @param round round id
     * @param ring the group ring in order, receiver included
     * @param world sizes as they will be if the round succeeds
     */
    void p2pConnectionInfo(long peerId, long round, List<PeerEndpoint> ring, WorldSizes world);

    /**
     * End of an establishment round for a participant.
     *
     * @param peerId receiver
     * @param round round id
     * @param success whether the round succeeded
     * @param ring final ring order on success, empty on failure
     * @param world world sizes after the round
     * @param reason why it failed, empty on success
     */
    void p2pEstablishResult(long peerId, long round, boolean success, List<Long> ring, WorldSizes world,
                            String reason);

    /**
     * An establishment vote was refused without a round (the group is voting on another operation): answer
     * {@code P2PEstablishResult{round = 0, success = false, code, reason}}. The peer stays accepted and idle.
     *
     * @param peerId receiver
     * @param code why ({@link MasterError#FAILED_PRECONDITION})
     * @param reason names the vote in progress and its voters
     */
    void establishRefused(long peerId, MasterError code, String reason);

    /**
     * Answer to a pending-peers vote.
     *
     * @param peerId receiver
     * @param pending whether the receiver's group has a registered but not accepted peer
     */
    void peersPending(long peerId, boolean pending);

    /**
     * A pending-peers vote was refused (the group is voting on another operation): answer
     * {@code PeersPendingResponse{pending = false, code, reason}}.
     *
     * @param peerId receiver
     * @param code why ({@link MasterError#FAILED_PRECONDITION})
     * @param reason names the vote in progress and its voters
     */
    void pendingQueryRefused(long peerId, MasterError code, String reason);

    /**
     * A collective starts.
     *
     * @param peerId receiver
     * @param tag the collective's tag
     * @param seq the master's operation sequence number
     * @param ring ring the op runs on
     */
    void collectiveCommence(long peerId, long tag, long seq, List<Long> ring);

    /**
     * A running collective failed somewhere; sent at most once per op per peer.
     *
     * @param peerId receiver
     * @param tag the collective's tag
     * @param seq its sequence number
     * @param code why
     * @param reason human-readable reason
     */
    void collectiveAbort(long peerId, long tag, long seq, MasterError code, String reason);

    /**
     * Final outcome of a collective; exactly one per op per peer.
     *
     * @param peerId receiver
     * @param tag the collective's tag
     * @param seq its sequence number, 0 when the op never commenced (mismatch)
     * @param success whether the op succeeded everywhere
     * @param code why it failed, {@link MasterError#UNSPECIFIED} on success
     * @param reason why it failed, empty on success
     */
    void collectiveDone(long peerId, long tag, long seq, boolean success, MasterError code, String reason);

    /**
     * Outcome of the shared-state election for one voter whose sync goes on: it distributes ({@code outdated}
     * false, no distributors, no keys) or fetches {@code keys} ({@code outdated} true; possibly no keys when
     * only its revision was behind). Either way it must answer with one sync completion.
     *
     * @param peerId receiver
     * @param outdated whether the receiver must adopt {@code revision} and fetch {@code keys}
     * @param revision the revision every participant holds after the sync
     * @param distributors where to fetch from: the receiver's assigned distributor first, then fallbacks
     * @param keys keys to fetch in name order with the expected hashes
     */
    void syncResponse(long peerId, boolean outdated, long revision, List<PeerEndpoint> distributors,
                      List<KeyToFetch> keys);

    /**
     * A voter's shared-state sync failed (it broke a rule, or its vote conflicted with the group's): answer
     * {@code SyncSharedStateResponse{code, reason}}. The peer is idle again and takes no further part in this
     * sync; it sends no completion.
     *
     * @param peerId receiver
     * @param code why
     * @param reason names the values and what was expected
     */
    void syncFailed(long peerId, MasterError code, String reason);

    /**
     * End of a shared-state sync; exactly one per participant.
     *
     * @param peerId receiver
     * @param success whether every remaining participant reported success
     * @param reason why it failed, empty on success
     */
    void syncDone(long peerId, boolean success, String reason);

    /**
     * A topology optimization reached consensus: the edges this peer measures.
     *
     * @param peerId receiver
     * @param targets the peers it measures its send bandwidth to, possibly none
     */
    void optimizeWork(long peerId, List<PeerEndpoint> targets);

    /**
     * End of a topology optimization for a participant, or the refusal of its vote.
     *
     * @param peerId receiver
     * @param success whether a ring was chosen
     * @param ring the chosen ring (empty when not)
     * @param bottleneckMbps the slowest edge of that ring in Mbit/s (0 when an edge is unmeasured)
     * @param exact whether the ring is provably optimal
     * @param code why it failed ({@link MasterError#UNSPECIFIED} on success)
     * @param reason human-readable reason, empty on success
     */
    void optimizeDone(long peerId, boolean success, List<Long> ring, double bottleneckMbps, boolean exact,
                      MasterError code, String reason);

    /**
     * Remove a peer: send {@code Error{code, reason}} and close its connection. The state machine has
     * already forgotten the peer when this is called.
     *
     * @param peerId the peer
     * @param code why
     * @param reason human-readable reason
     */
    void kick(long peerId, MasterError code, String reason);
}
