package io.pccl.state.internal;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.SharedState;
import io.pccl.SyncStrategy;
import io.pccl.hash.HashType;
import io.pccl.proto.DataTypeProto;
import io.pccl.proto.HashTypeProto;
import io.pccl.proto.KeyFetch;
import io.pccl.proto.PeerEndpoint;
import io.pccl.proto.SharedStateEntryInfo;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import io.pccl.proto.SyncStrategyProto;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversions between {@link SharedState} and the shared-state messages of {@code pccl.proto}, for the sync flow:
 * the vote a peer sends, and the keys and distributors it reads from the master's answer.
 *
 * <p>Thread-safe (stateless).
 */
public final class SharedStateProtos {
    private SharedStateProtos() {
    }

    /**
     * Builds the sync vote: every entry hashed with {@code hashType}, except allowContentInequality entries, which
     * are sent with hash 0 without hashing (the master never compares them).
     *
     * @param state the local state (hashed now; the caller's thread pays for it)
     * @param strategy the sync strategy
     * @param hashType the hash algorithm
     * @return the request
     */
    public static SyncSharedStateRequest syncRequest(final SharedState state, final SyncStrategy strategy,
                                                     final HashType hashType) {
        final SyncSharedStateRequest.Builder b = SyncSharedStateRequest.newBuilder().setRevision(state.revision())
                .setStrategy(toWire(strategy));
        for (final SharedState.Entry e : state.entries()) {
            b.addEntries(SharedStateEntryInfo.newBuilder().setKey(e.name())
                    .setHash(e.allowContentInequality() ? 0 : e.hash(hashType))
                    .setHashType(HashTypeProto.forNumber(hashType.wireNumber()))
                    .setCount(e.count())
                    .setDataType(toWire(e.dataType()))
                    .setAllowContentInequality(e.allowContentInequality()));
        }
        return b.build();
    }

    /**
     * The keys an outdated peer must fetch, from the master's answer.
     *
     * @param response the answer
     * @param state the local state, to look up each key's flag
     * @return fetch keys in the answer's order; allowContentInequality entries of the local state are not verified
     * @throws PcclException PROTOCOL_VIOLATION for an unknown hash type number
     */
    public static List<FetchKey> fetchKeys(final SyncSharedStateResponse response, final SharedState state) {
        final List<FetchKey> keys = new ArrayList<>(response.getKeysCount());
        for (final KeyFetch k : response.getKeysList()) {
            final HashType type;
            try {
                type = HashType.fromWireNumber(k.getHashTypeValue());
            } catch (final IllegalArgumentException e) {
                throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "master sent key '" + k.getKey()
                        + "' with " + e.getMessage(), e);
            }
            final SharedState.Entry local = state.entry(k.getKey());
            final boolean verify = local == null || !local.allowContentInequality();
            keys.add(new FetchKey(k.getKey(), k.getExpectedHash(), type, verify));
        }
        return keys;
    }

    /**
     * The distributors' peer ports, in the master's order.
     *
     * @param response the answer
     * @return unresolved-if-needed socket addresses (host as the master sees the peer, and its listen port)
     */
    public static List<InetSocketAddress> distributors(final SyncSharedStateResponse response) {
        final List<InetSocketAddress> out = new ArrayList<>(response.getDistributorsCount());
        for (final PeerEndpoint p : response.getDistributorsList()) {
            out.add(new InetSocketAddress(p.getHost(), p.getPort()));
        }
        return out;
    }

    /**
     * The wire number of a data type ({@code DataTypeProto}: UINT8 = 1 ... FLOAT64 = 12, in enum order).
     *
     * @param type the type
     * @return the wire enum
     */
    public static DataTypeProto toWire(final DataType type) {
        return DataTypeProto.forNumber(type.ordinal() + 1);
    }

    /**
     * The wire enum of a strategy.
     *
     * @param strategy the strategy
     * @return the wire enum
     */
    public static SyncStrategyProto toWire(final SyncStrategy strategy) {
        switch (strategy) {
            case RECEIVE_ONLY:
                return SyncStrategyProto.SYNC_RECEIVE_ONLY;
            case SEND_ONLY:
                return SyncStrategyProto.SYNC_SEND_ONLY;
            default:
                return SyncStrategyProto.SYNC_ENFORCE_POPULAR;
        }
    }
}
