package io.pccl.master;

import com.google.protobuf.ByteString;
import io.pccl.master.state.CollectiveParams;
import io.pccl.master.state.MasterError;
import io.pccl.master.state.PeerEndpoint;
import io.pccl.master.state.WorldSizes;
import io.pccl.master.state.election.EntryVote;
import io.pccl.master.state.election.KeyToFetch;
import io.pccl.master.state.election.VoteStrategy;
import io.pccl.proto.CollectiveAbort;
import io.pccl.proto.CollectiveCommence;
import io.pccl.proto.CollectiveDone;
import io.pccl.proto.CollectiveInitiate;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Heartbeat;
import io.pccl.proto.KeyFetch;
import io.pccl.proto.OptimizeTopologyDone;
import io.pccl.proto.OptimizeTopologyWork;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeersPendingResponse;
import io.pccl.proto.RegisterResponse;
import io.pccl.proto.SharedStateEntryInfo;
import io.pccl.proto.SyncSharedStateDone;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import io.pccl.transport.Envelopes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Converts between the master's domain types ({@code io.pccl.master.state}) and protobuf envelopes.
 *
 * <p>Thread-safe (stateless).
 */
final class MasterProtoUtils {
    private MasterProtoUtils() {
    }

    static ErrorCode toProto(final MasterError code) {
        return switch (code) {
            case UNSPECIFIED -> ErrorCode.ERROR_UNSPECIFIED;
            case PROTOCOL_VIOLATION -> ErrorCode.ERROR_PROTOCOL_VIOLATION;
            case INVALID_ARGUMENT -> ErrorCode.ERROR_INVALID_ARGUMENT;
            case FAILED_PRECONDITION -> ErrorCode.ERROR_FAILED_PRECONDITION;
            case KICKED -> ErrorCode.ERROR_KICKED;
            case SHUTTING_DOWN -> ErrorCode.ERROR_SHUTTING_DOWN;
            case INTERNAL -> ErrorCode.ERROR_INTERNAL;
            case COLLECTIVE_MISMATCH -> ErrorCode.ERROR_COLLECTIVE_MISMATCH;
            case SHARED_STATE_MISMATCH -> ErrorCode.ERROR_SHARED_STATE_MISMATCH;
            case REVISION_VIOLATION -> ErrorCode.ERROR_REVISION_VIOLATION;
            case RESOURCE_EXHAUSTED -> ErrorCode.ERROR_RESOURCE_EXHAUSTED;
        };
    }

    static Envelope error(final MasterError code, final String reason) {
        return Envelopes.error(toProto(code), reason);
    }

    static Envelope registered(final long peerId) {
        return Envelope.newBuilder().setRegisterResponse(RegisterResponse.newBuilder().setAccepted(true)
                .setPeerId(peerId)).build();
    }

    static Envelope registrationRefused(final MasterError code, final String reason) {
        return Envelope.newBuilder().setRegisterResponse(RegisterResponse.newBuilder().setAccepted(false)
                .setCode(toProto(code)).setReason(reason)).build();
    }

    static io.pccl.proto.WorldSizes toProto(final WorldSizes w) {
        return io.pccl.proto.WorldSizes.newBuilder().setGlobal(w.global()).setPeerGroup(w.peerGroup())
                .setNumPeerGroups(w.numPeerGroups()).setLargestPeerGroup(w.largestPeerGroup()).build();
    }

    static Envelope connectionInfo(final long round, final List<PeerEndpoint> ring, final WorldSizes world,
                                   final LongFunction<ByteString> certificates) {
        final P2PConnectionInfo.Builder b = P2PConnectionInfo.newBuilder().setRound(round).setWorld(toProto(world));
        for (final PeerEndpoint e : ring) {
            b.addRing(endpoint(e, certificates));
        }
        return Envelope.newBuilder().setP2PConnectionInfo(b).build();
    }

    /**
     * @param certificates the DER subject of the certificate each peer's master connection presented (empty
     *        without TLS), which the receiver holds that peer's ring connections to
     */
    static io.pccl.proto.PeerEndpoint endpoint(final PeerEndpoint e, final LongFunction<ByteString> certificates) {
        return io.pccl.proto.PeerEndpoint.newBuilder().setPeerId(e.peerId()).setHost(e.host()).setPort(e.port())
                .setCertificateSubject(certificates.apply(e.peerId())).build();
    }

    static Envelope establishResult(final long round, final boolean success, final List<Long> ring,
                                    final WorldSizes world, final String reason) {
        return Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(round)
                .setSuccess(success).addAllRing(ring).setWorld(toProto(world)).setReason(reason)).build();
    }

    static Envelope establishRefused(final MasterError code, final String reason) {
        return Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(0)
                .setSuccess(false).setCode(toProto(code)).setReason(reason)).build();
    }

    static Envelope optimizeWork(final List<PeerEndpoint> targets, final LongFunction<ByteString> certificates) {
        final OptimizeTopologyWork.Builder b = OptimizeTopologyWork.newBuilder();
        for (final PeerEndpoint e : targets) {
            b.addTargets(endpoint(e, certificates));
        }
        return Envelope.newBuilder().setOptimizeTopologyWork(b).build();
    }

    static Envelope optimizeDone(final boolean success, final List<Long> ring, final double bottleneckMbps,
                                 final boolean exact, final MasterError code, final String reason) {
        return Envelope.newBuilder().setOptimizeTopologyDone(OptimizeTopologyDone.newBuilder().setSuccess(success)
                .addAllRing(ring).setBottleneckMbitPerS(bottleneckMbps).setExact(exact).setCode(toProto(code))
                .setReason(reason)).build();
    }

    static Envelope pendingQueryRefused(final MasterError code, final String reason) {
        return Envelope.newBuilder().setPeersPendingResponse(PeersPendingResponse.newBuilder().setPending(false)
                .setCode(toProto(code)).setReason(reason)).build();
    }

    static Envelope peersPending(final boolean pending) {
        return Envelope.newBuilder().setPeersPendingResponse(PeersPendingResponse.newBuilder().setPending(pending))
                .build();
    }

    static Envelope commence(final long tag, final long seq, final List<Long> ring) {
        return Envelope.newBuilder().setCollectiveCommence(CollectiveCommence.newBuilder().setTag(tag).setSeq(seq)
                .addAllRing(ring)).build();
    }

    static Envelope abort(final long tag, final long seq, final MasterError code, final String reason) {
        return Envelope.newBuilder().setCollectiveAbort(CollectiveAbort.newBuilder().setTag(tag).setSeq(seq)
                .setCode(toProto(code)).setReason(reason)).build();
    }

    static Envelope done(final long tag, final long seq, final boolean success, final MasterError code,
                         final String reason) {
        return Envelope.newBuilder().setCollectiveDone(CollectiveDone.newBuilder().setTag(tag).setSeq(seq)
                .setSuccess(success).setCode(toProto(code)).setReason(reason)).build();
    }

    static Envelope syncResponse(final boolean outdated, final long revision, final List<PeerEndpoint> distributors,
                                 final List<KeyToFetch> keys, final LongFunction<ByteString> certificates) {
        final SyncSharedStateResponse.Builder b = SyncSharedStateResponse.newBuilder().setOutdated(outdated)
                .setRevision(revision);
        for (final PeerEndpoint e : distributors) {
            b.addDistributors(endpoint(e, certificates));
        }
        for (final KeyToFetch k : keys) {
            b.addKeys(KeyFetch.newBuilder().setKey(k.key()).setExpectedHash(k.expectedHash())
                    .setHashTypeValue(k.hashType()));
        }
        return Envelope.newBuilder().setSyncSharedStateResponse(b).build();
    }

    static Envelope syncFailed(final MasterError code, final String reason) {
        return Envelope.newBuilder().setSyncSharedStateResponse(SyncSharedStateResponse.newBuilder()
                .setCode(toProto(code)).setReason(reason)).build();
    }

    static Envelope syncDone(final boolean success, final String reason) {
        return Envelope.newBuilder().setSyncSharedStateDone(SyncSharedStateDone.newBuilder().setSuccess(success)
                .setReason(reason)).build();
    }

    /**
     * The strategy of a sync request, or null when the wire value is unknown.
     *
     * @param m the request
     * @return the strategy with the same number
     */
    static VoteStrategy strategy(final SyncSharedStateRequest m) {
        final int v = m.getStrategyValue();
        final VoteStrategy[] all = VoteStrategy.values();
        return v >= 0 && v < all.length ? all[v] : null;
    }

    /** Entries of a sync request in the sender's order; enum fields stay wire numbers. */
    static List<EntryVote> entries(final SyncSharedStateRequest m) {
        final List<EntryVote> list = new ArrayList<>(m.getEntriesCount());
        for (final SharedStateEntryInfo e : m.getEntriesList()) {
            list.add(new EntryVote(e.getKey(), e.getHash(), e.getHashTypeValue(), e.getCount(),
                    e.getDataTypeValue(), e.getAllowContentInequality()));
        }
        return list;
    }

    static Envelope heartbeat(final long wallClockMs) {
        return Envelope.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(wallClockMs)).build();
    }

    /** Parameters of an initiate; enum fields become their wire names ("UNRECOGNIZED(17)" for unknown). */
    static CollectiveParams params(final CollectiveInitiate m) {
        return new CollectiveParams(m.getCount(),
                name(m.getDataType(), m.getDataTypeValue()),
                name(m.getOp(), m.getOpValue()),
                name(m.getQuantization(), m.getQuantizationValue()),
                name(m.getQuantizedType(), m.getQuantizedTypeValue()));
    }

    private static String name(final Enum<?> e, final int value) {
        return "UNRECOGNIZED".equals(e.name()) ? "UNRECOGNIZED(" + value + ")" : e.name();
    }
}
