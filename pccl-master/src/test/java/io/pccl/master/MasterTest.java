package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.proto.CollectiveCommence;
import io.pccl.proto.CollectiveComplete;
import io.pccl.proto.CollectiveInitiate;
import io.pccl.proto.DataTypeProto;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.ReduceOpProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Lifecycle of the embeddable {@link Master}: binding, port 0, bind failure, close, heartbeats. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterTest {
    @Test
    void shouldBindPortZeroAndCloseIdempotently() {
        final Master master = Master.builder().host("127.0.0.1").port(0).build();
        assertThrows(IllegalStateException.class, master::port);
        master.start();
        assertTrue(master.port() > 0);
        assertThrows(IllegalStateException.class, master::start);
        master.close();
        master.close();
        master.shutdownNow();
    }

    @Test
    void shouldThrowWithAddressWhenPortIsTaken() {
        try (Master first = Master.builder().host("127.0.0.1").port(0).build().start()) {
            final Master second = Master.builder().host("127.0.0.1").port(first.port()).build();
            final UncheckedIOException e = assertThrows(UncheckedIOException.class, second::start);
            assertTrue(e.getMessage().startsWith("cannot bind pccl master to 127.0.0.1:" + first.port()),
                    e.getMessage());
            second.close();
        }
    }

    @Test
    void shouldRejectTimeoutNotAboveInterval() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Master.builder()
                .heartbeatInterval(Duration.ofSeconds(2)).heartbeatTimeout(Duration.ofSeconds(2)).build());
        assertEquals("heartbeatTimeout 2000 ms must exceed heartbeatInterval 2000 ms", e.getMessage());
    }

    @Test
    void shouldSendHeartbeatsAndShutdownErrorToPeers() throws IOException {
        final Master master = Master.builder().host("127.0.0.1").port(0).heartbeatInterval(Duration.ofMillis(50))
                .heartbeatTimeout(Duration.ofSeconds(10)).build().start();
        try (TestPeerClient peer = new TestPeerClient(master.port())) {
            peer.joinAlone(0);
            // Heartbeats are skipped by receive(); read raw frames until one arrives.
            final int length = peer.in.readInt();
            final byte[] bytes = new byte[length];
            peer.in.readFully(bytes);
            assertEquals(Envelope.BodyCase.HEARTBEAT, Envelope.parseFrom(bytes).getBodyCase());
            master.close();
            final Envelope e = peer.awaitErrorOrClose();
            assertEquals(ErrorCode.ERROR_SHUTTING_DOWN, e.getError().getCode(), e::toString);
        } finally {
            master.shutdownNow();
        }
    }

    @Test
    void shouldJoinSecondPeerAndRunACollective() throws IOException {
        try (Master master = Master.builder().host("127.0.0.1").port(0).build().start();
             TestPeerClient a = new TestPeerClient(master.port());
             TestPeerClient b = new TestPeerClient(master.port())) {
            assertEquals(1, a.joinAlone(7));
            b.hello();
            assertEquals(2, b.register(45002, 7).getPeerId());
            a.voteEstablish(true);
            final P2PConnectionInfo infoA = a.expect(Envelope.BodyCase.P2P_CONNECTION_INFO).getP2PConnectionInfo();
            final P2PConnectionInfo infoB = b.expect(Envelope.BodyCase.P2P_CONNECTION_INFO).getP2PConnectionInfo();
            assertEquals(infoA, infoB);
            assertEquals(2, infoA.getRingCount());
            assertEquals(45002, infoA.getRing(1).getPort());
            assertEquals(2, infoA.getWorld().getGlobal());
            a.report(infoA.getRound(), true);
            b.report(infoB.getRound(), true);
            final P2PEstablishResult ra = a.expect(Envelope.BodyCase.P2P_ESTABLISH_RESULT).getP2PEstablishResult();
            assertTrue(ra.getSuccess(), ra::toString);
            assertEquals(List.of(1L, 2L), ra.getRingList());
            b.expect(Envelope.BodyCase.P2P_ESTABLISH_RESULT);
            final CollectiveInitiate init = CollectiveInitiate.newBuilder().setTag(3).setCount(16)
                    .setDataType(DataTypeProto.DT_FLOAT32).setOp(ReduceOpProto.OP_SUM).build();
            a.send(Envelope.newBuilder().setCollectiveInitiate(init).build());
            b.send(Envelope.newBuilder().setCollectiveInitiate(init).build());
            final CollectiveCommence c = a.expect(Envelope.BodyCase.COLLECTIVE_COMMENCE).getCollectiveCommence();
            assertEquals(c, b.expect(Envelope.BodyCase.COLLECTIVE_COMMENCE).getCollectiveCommence());
            a.send(Envelope.newBuilder().setCollectiveComplete(CollectiveComplete.newBuilder().setTag(3)
                    .setSeq(c.getSeq())).build());
            b.send(Envelope.newBuilder().setCollectiveComplete(CollectiveComplete.newBuilder().setTag(3)
                    .setSeq(c.getSeq())).build());
            assertTrue(a.expect(Envelope.BodyCase.COLLECTIVE_DONE).getCollectiveDone().getSuccess());
            assertTrue(b.expect(Envelope.BodyCase.COLLECTIVE_DONE).getCollectiveDone().getSuccess());
        }
    }

    @Test
    void shouldEvictSilentPeer() throws IOException {
        try (Master master = Master.builder().host("127.0.0.1").port(0).heartbeatInterval(Duration.ofMillis(100))
                .heartbeatTimeout(Duration.ofMillis(300)).build().start();
             TestPeerClient peer = new TestPeerClient(master.port())) {
            peer.joinAlone(0);
            final Envelope e = peer.awaitErrorOrClose();
            assertEquals(ErrorCode.ERROR_KICKED, e.getError().getCode(), e::toString);
        }
    }
}
