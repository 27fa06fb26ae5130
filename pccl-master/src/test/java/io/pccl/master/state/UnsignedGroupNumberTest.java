package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Group numbers are unsigned 32-bit on the wire; every reason and description prints them as unsigned decimal.
 */
class UnsignedGroupNumberTest {
    private static final int GROUP = 0xFFFF_FFFE;
    private static final String PRINTED = "4294967294";
    private final Harness h = new Harness();

    @Test
    void shouldPrintTheGroupUnsignedInCollectiveMismatchReasons() {
        h.joinFirst(GROUP, 1, 1);
        h.register(GROUP);
        h.vote(true, 1);
        h.reportOk(2, 1, 2);
        h.out.take();
        h.machine.onCollectiveInitiate(1, 7, Harness.PARAMS);
        h.machine.onCollectiveInitiate(2, 7, new CollectiveParams(1024, "DT_FLOAT32", "OP_MAX", "QUANT_NONE",
                "DT_UNSPECIFIED"));
        final String reason = "collective tag 7 in group " + PRINTED
                + ": reduce op mismatch: peer 1 sent OP_SUM, peer 2 sent OP_MAX";
        assertEquals(List.of("done 1 tag7 seq0 failed COLLECTIVE_MISMATCH: " + reason,
                "done 2 tag7 seq0 failed COLLECTIVE_MISMATCH: " + reason), h.out.take());
    }

    @Test
    void shouldPrintTheGroupUnsignedInPeerDescriptions() {
        final Peer peer = new Peer(3, 100, "127.0.0.1", true, 45000, -1, 0);
        assertEquals("peer 3 (group 4294967295, REGISTERED)", peer.toString());
        assertEquals(PRINTED, new GroupState(GROUP, h.machine, h.out).label);
    }
}
