package io.pccl.state.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.DataType;
import io.pccl.SharedState;
import io.pccl.SyncStrategy;
import io.pccl.hash.HashType;
import io.pccl.proto.HashTypeProto;
import io.pccl.proto.KeyFetch;
import io.pccl.proto.PeerEndpoint;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import io.pccl.proto.SyncStrategyProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Vote building and answer parsing for the sync flow. */
class SharedStateProtosTest {
    @Test
    void dataTypeWireNumbersMatchByName() {
        for (final DataType t : DataType.values()) {
            assertEquals("DT_" + t.name(), SharedStateProtos.toWire(t).name());
        }
    }

    @Test
    void voteHashesComparedEntriesOnlyAndAnswerParses() {
        final float[] w = {1f, 2f, 3f};
        final SharedState s = SharedState.builder().revision(9).entry("w", w)
                .entry("rng", new long[2], DataType.UINT64, 2, true).build();
        final SyncSharedStateRequest req = SharedStateProtos.syncRequest(s, SyncStrategy.SEND_ONLY, HashType.SIMPLE);
        assertEquals(9, req.getRevision());
        assertEquals(SyncStrategyProto.SYNC_SEND_ONLY, req.getStrategy());
        assertEquals(s.entry("w").hash(HashType.SIMPLE), req.getEntries(0).getHash());
        assertEquals(3, req.getEntries(0).getCount());
        assertEquals(0, req.getEntries(1).getHash());
        assertTrue(req.getEntries(1).getAllowContentInequality());
        final SyncSharedStateResponse resp = SyncSharedStateResponse.newBuilder().setOutdated(true).setRevision(10)
                .addKeys(KeyFetch.newBuilder().setKey("w").setExpectedHash(5).setHashType(HashTypeProto.HASH_CRC32C))
                .addKeys(KeyFetch.newBuilder().setKey("rng").setExpectedHash(0))
                .addDistributors(PeerEndpoint.newBuilder().setPeerId(3).setHost("127.0.0.1").setPort(4000)).build();
        final List<FetchKey> keys = SharedStateProtos.fetchKeys(resp, s);
        assertEquals(new FetchKey("w", 5, HashType.CRC32C, true), keys.get(0));
        assertFalse(keys.get(1).verify());
        assertEquals(4000, SharedStateProtos.distributors(resp).get(0).getPort());
    }
}
