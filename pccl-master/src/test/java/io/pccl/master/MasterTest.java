package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.PeerPhase;
import io.pccl.proto.CollectiveCommence;
import io.pccl.proto.CollectiveComplete;
import io.pccl.proto.CollectiveDone;
import io.pccl.proto.CollectiveInitiate;
import io.pccl.proto.DataTypeProto;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.ReduceOpProto;
import io.pccl.proto.SharedStateEntryInfo;
import io.pccl.proto.SyncSharedStateComplete;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Lifecycle of the embeddable {@link Master}: binding, port 0, bind failure, close, heartbeats. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterTest {
    /** Threads that keep the conductor's loop running tasks while the master crashes. */
    private static final int BUSY_THREADS = 3;

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
    void shouldBindItsPortAgainRightAfterClosingWithPeersConnected() throws IOException {
        // An operator restarts the daemon on its fixed port. The old master closed its peers' connections first,
        // so their server-side ends can still be in TIME_WAIT on that port; the new master must bind it anyway.
        final int port;
        try (Master first = Master.builder().host("127.0.0.1").port(0).build().start();
             TestPeerClient a = new TestPeerClient(first.port());
             TestPeerClient b = new TestPeerClient(first.port())) {
            a.joinAlone(0);
            b.hello();
            port = first.port();
            first.close();
            a.awaitErrorOrClose();
            b.awaitErrorOrClose();
        }
        try (Master second = Master.builder().host("127.0.0.1").port(port).build().start();
             TestPeerClient c = new TestPeerClient(port)) {
            assertEquals(port, second.port());
            c.joinAlone(0);
        }
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void shouldCloseEveryConnectionAtOnceWhenShutDownNowWhileItsLoopRunsTasks() throws Exception {
        // A crash must close the peers' connections, so that they see the master gone at once and not after their
        // heartbeat timeout. An event loop stopped without a quiet period while it ran tasks could terminate
        // without closing its channels; another thread keeps the conductor's loop busy with tasks here, which
        // made the old shutdownNow() leave connections open in most rounds.
        final int rounds = 60;
        for (int round = 0; round < rounds; round++) {
            final Master master = Master.builder().host("127.0.0.1").port(0).build().start();
            try (TestPeerClient a = new TestPeerClient(master.port());
                 TestPeerClient b = new TestPeerClient(master.port())) {
                a.joinAlone(0);
                b.hello();
                final AtomicBoolean crashed = new AtomicBoolean();
                final List<Thread> busy = new ArrayList<>();
                for (int t = 0; t < BUSY_THREADS; t++) {
                    busy.add(new Thread(() -> {
                        while (!crashed.get()) {
                            try {
                                master.phaseOf(1);
                            } catch (final RuntimeException e) {
                                return; // the conductor stopped
                            }
                        }
                    }, "keeps-the-conductor-busy-" + t));
                    busy.get(t).start();
                }
                master.shutdownNow();
                crashed.set(true);
                for (final Thread t : busy) {
                    t.join(TimeUnit.SECONDS.toMillis(10));
                }
                assertNull(a.awaitErrorOrClose(), "round " + round + ": a crash says nothing, it closes");
                assertNull(b.awaitErrorOrClose(), "round " + round + ": a crash says nothing, it closes");
            }
        }
    }

    @Test
    void shouldRejectTimeoutNotAboveInterval() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Master.builder()
                .heartbeatInterval(Duration.ofSeconds(2)).heartbeatTimeout(Duration.ofSeconds(2)).build());
        assertEquals("heartbeatTimeout 2000 ms must exceed heartbeatInterval 2000 ms", e.getMessage());
    }

    @Test
    void shouldRejectNonPositiveRegistrationTimeout() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Master.builder().registrationTimeout(Duration.ZERO));
        assertEquals("registrationTimeout must be positive, got PT0S", e.getMessage());
    }

    @Test
    void shouldCloseAConnectionThatHeartbeatsButDoesNotRegisterWithinTheRegistrationTimeout() throws IOException {
        // The heartbeat timeout (10 s) is far beyond the read timeout of the client (5 s): only the registration
        // deadline can close this connection in time.
        try (Master master = Master.builder().host("127.0.0.1").port(0).heartbeatTimeout(Duration.ofSeconds(10))
                .registrationTimeout(Duration.ofMillis(300)).build().start();
             TestPeerClient peer = new TestPeerClient(master.port())) {
            peer.hello();
            peer.send(MasterProtoUtils.heartbeat(1));
            final Envelope e = peer.awaitErrorOrClose();
            assertNotNull(e, "closed without an error");
            assertEquals(ErrorCode.ERROR_KICKED, e.getError().getCode(), e::toString);
            final Matcher m = Pattern.compile("no register request within (\\d+) ms of connecting"
                    + " \\(state AWAIT_REGISTER\\), limit 300 ms").matcher(e.getError().getReason());
            assertTrue(m.matches(), e.getError().getReason());
            // The deadline is strict in nanoseconds (elapsed > 300 ms); the message truncates to whole milliseconds,
            // so 300.4 ms reads "300".
            assertTrue(Long.parseLong(m.group(1)) >= 300, e.getError().getReason());
        }
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
    void shouldRunCollectivesWhenPeersAreServedBySeveralIoLoops() throws IOException {
        // The conductor runs on one of the loops: one peer's messages reach it inline, the other's are handed over.
        try (Master master = Master.builder().host("127.0.0.1").port(0).ioThreads(2).build().start();
             TestPeerClient a = new TestPeerClient(master.port());
             TestPeerClient b = new TestPeerClient(master.port())) {
            joinPairAndRunCollective(a, b);
            runCollective(a, b, 4);
        }
    }

    /** Runs collective {@code tag} on an established pair; both peers get the same commence and a successful done. */
    private static void runCollective(final TestPeerClient a, final TestPeerClient b, final long tag)
            throws IOException {
        final CollectiveInitiate init = CollectiveInitiate.newBuilder().setTag(tag).setCount(16)
                .setDataType(DataTypeProto.DT_FLOAT32).setOp(ReduceOpProto.OP_SUM).build();
        a.send(Envelope.newBuilder().setCollectiveInitiate(init).build());
        b.send(Envelope.newBuilder().setCollectiveInitiate(init).build());
        final CollectiveCommence c = a.expect(Envelope.BodyCase.COLLECTIVE_COMMENCE).getCollectiveCommence();
        assertEquals(c, b.expect(Envelope.BodyCase.COLLECTIVE_COMMENCE).getCollectiveCommence());
        for (final TestPeerClient p : List.of(a, b)) {
            p.send(Envelope.newBuilder().setCollectiveComplete(CollectiveComplete.newBuilder().setTag(tag)
                    .setSeq(c.getSeq())).build());
        }
        assertTrue(a.expect(Envelope.BodyCase.COLLECTIVE_DONE).getCollectiveDone().getSuccess());
        assertTrue(b.expect(Envelope.BodyCase.COLLECTIVE_DONE).getCollectiveDone().getSuccess());
    }

    /** Peer {@code a} joins alone, {@code b} joins it, then both run collective tag 3. */
    private static void joinPairAndRunCollective(final TestPeerClient a, final TestPeerClient b)
            throws IOException {
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
        runCollective(a, b, 3);
    }

    @Test
    void shouldJoinSecondPeerRunACollectiveAndSyncSharedState() throws IOException {
        try (Master master = Master.builder().host("127.0.0.1").port(0).build().start();
             TestPeerClient a = new TestPeerClient(master.port());
             TestPeerClient b = new TestPeerClient(master.port())) {
            joinPairAndRunCollective(a, b);
            final CollectiveInitiate init = CollectiveInitiate.newBuilder().setTag(3).setCount(16)
                    .setDataType(DataTypeProto.DT_FLOAT32).setOp(ReduceOpProto.OP_SUM).build();

            // A sync vote, then a collective initiate: the later kind is refused, nobody hangs.
            a.send(sync(5));
            awaitPhase(master, 1, PeerPhase.VOTED_SYNC);
            b.send(Envelope.newBuilder().setCollectiveInitiate(init).build());
            final CollectiveDone refused = b.expect(Envelope.BodyCase.COLLECTIVE_DONE).getCollectiveDone();
            assertEquals(ErrorCode.ERROR_FAILED_PRECONDITION, refused.getCode(), refused::toString);
            b.send(sync(3));
            final SyncSharedStateResponse sa = a.expect(Envelope.BodyCase.SYNC_SHARED_STATE_RESPONSE)
                    .getSyncSharedStateResponse();
            final SyncSharedStateResponse sb = b.expect(Envelope.BodyCase.SYNC_SHARED_STATE_RESPONSE)
                    .getSyncSharedStateResponse();
            assertEquals(SyncSharedStateResponse.newBuilder().setRevision(5).build(), sa);
            assertTrue(sb.getOutdated(), sb::toString);
            assertEquals(5, sb.getRevision());
            assertEquals(List.of(1L), List.of(sb.getDistributors(0).getPeerId()));
            assertEquals(0, sb.getKeysCount(), "same content, only the revision was behind");
            for (final TestPeerClient p : List.of(a, b)) {
                p.send(Envelope.newBuilder().setSyncSharedStateComplete(SyncSharedStateComplete.newBuilder()
                        .setSuccess(true)).build());
            }
            assertTrue(a.expect(Envelope.BodyCase.SYNC_SHARED_STATE_DONE).getSyncSharedStateDone().getSuccess());
            assertTrue(b.expect(Envelope.BodyCase.SYNC_SHARED_STATE_DONE).getSyncSharedStateDone().getSuccess());
        }
    }

    /** Bounded wait (each poll is a round trip to the conductor thread) until a peer reached {@code phase}. */
    private static void awaitPhase(final Master master, final long peerId, final PeerPhase phase) {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (master.phaseOf(peerId) != phase) {
            assertTrue(System.nanoTime() - deadlineNs < 0, "peer " + peerId + " never reached " + phase);
        }
    }

    private static Envelope sync(final long revision) {
        return Envelope.newBuilder().setSyncSharedStateRequest(SyncSharedStateRequest.newBuilder()
                .setRevision(revision).addEntries(SharedStateEntryInfo.newBuilder().setKey("weights").setHash(99)
                        .setCount(16).setDataType(DataTypeProto.DT_FLOAT32))).build();
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
