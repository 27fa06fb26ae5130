package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.proto.CollectiveComplete;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.PeersPendingQuery;
import io.pccl.proto.RegisterRequest;
import io.pccl.transport.Envelopes;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.testing.RandomEnvelopes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input against a real {@link Master} on loopback port 0: after every offence the offender got an
 * {@code Error} or was closed, and a legitimate peer (in a fresh group) still joins.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterHostileInputSystemTest {
    private static final long SEED = 424242L;
    private static Master master;
    private static int nextGroup = 1;

    @BeforeAll
    static void startMaster() {
        master = Master.builder().host("127.0.0.1").port(0).heartbeatInterval(Duration.ofMillis(500))
                .heartbeatTimeout(Duration.ofSeconds(2)).build().start();
    }

    @AfterAll
    static void stopMaster() {
        master.close();
    }

    @Test
    void shouldSurviveRandomBytes() throws IOException {
        System.out.println("MasterHostileInputSystemTest seed " + SEED);
        final Random rnd = new Random(SEED);
        for (int i = 0; i < 10; i++) {
            try (TestPeerClient offender = new TestPeerClient(master.port())) {
                final byte[] junk = new byte[16 + rnd.nextInt(200)];
                rnd.nextBytes(junk);
                offender.sendRaw(junk);
                offender.awaitErrorOrClose();
            }
            assertLegitimatePeerJoins();
        }
    }

    @Test
    void shouldRejectLengthPrefixOverMax() throws IOException {
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.sendRaw(ByteBuffer.allocate(4).putInt(ProtocolConstants.MAX_CONTROL_FRAME_BYTES + 1).array());
            final Envelope e = offender.awaitErrorOrClose();
            assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, e.getError().getCode(), e::toString);
            assertTrue(e.getError().getReason().contains("exceeds"), e::toString);
        }
        assertLegitimatePeerJoins();
    }

    @Test
    void shouldRejectWrongMagicAndWrongVersion() throws IOException {
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.send(Envelope.newBuilder().setHello(Hello.newBuilder().setMagic(0x12345678)
                    .setProtocolVersion(ProtocolConstants.PROTOCOL_VERSION)
                    .setRole(ConnectionRole.ROLE_PEER_TO_MASTER)).build());
            final Envelope e = offender.awaitErrorOrClose();
            assertEquals("bad protocol magic 0x12345678, expected 0x50434331", e.getError().getReason());
        }
        assertLegitimatePeerJoins();
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.send(Envelope.newBuilder().setHello(Hello.newBuilder().setMagic(ProtocolConstants.MAGIC)
                    .setProtocolVersion(99).setRole(ConnectionRole.ROLE_PEER_TO_MASTER)).build());
            final Envelope e = offender.awaitErrorOrClose();
            assertEquals("unsupported protocol version 99, this side speaks 1", e.getError().getReason());
        }
        assertLegitimatePeerJoins();
    }

    @Test
    void shouldSurviveTruncatedFrameThenClose() throws IOException {
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.sendRaw(ByteBuffer.allocate(14).putInt(100).put(new byte[10]).array());
        }
        assertLegitimatePeerJoins();
    }

    /**
     * Registered peers send seeded random envelopes of every kind with random fields ({@link RandomEnvelopes}): the
     * master must go on serving, and a legitimate peer must still join.
     */
    @Test
    void shouldSurviveRandomEnvelopesFromRegisteredPeers() throws IOException {
        final Random rnd = new Random(SEED + 1);
        for (int i = 0; i < 40; i++) {
            try (TestPeerClient offender = new TestPeerClient(master.port())) {
                final long id = offender.joinAlone(nextGroup++);
                final int messages = 1 + rnd.nextInt(5);
                for (int k = 0; k < messages; k++) {
                    try {
                        offender.send(RandomEnvelopes.envelope(rnd, new int[] {0, 1, 65535, 70000}, id));
                    } catch (final IOException kickedAndClosed) {
                        break;
                    }
                }
            }
            if (i % 8 == 7) {
                assertLegitimatePeerJoins();
            }
        }
        assertLegitimatePeerJoins();
    }

    @Test
    void shouldKickIllegalVotesAfterValidRegistration() throws IOException {
        final List<Envelope> illegal = List.of(
                Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0),
                Envelope.newBuilder().setRegisterRequest(RegisterRequest.newBuilder().setListenPort(1)).build(),
                Envelope.newBuilder().setCollectiveComplete(CollectiveComplete.newBuilder().setTag(5)).build(),
                Envelope.newBuilder().setP2PConnectionInfo(P2PConnectionInfo.getDefaultInstance()).build());
        for (final Envelope bad : illegal) {
            try (TestPeerClient offender = new TestPeerClient(master.port())) {
                offender.joinAlone(nextGroup++);
                offender.send(bad);
                final Envelope e = offender.awaitErrorOrClose();
                assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, e.getError().getCode(), e::toString);
            }
            assertLegitimatePeerJoins();
        }
        // An establish vote while the peer's own lone round is still connecting.
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.hello();
            offender.register(45001, nextGroup++);
            offender.expect(Envelope.BodyCase.P2P_CONNECTION_INFO);
            offender.voteEstablish(true);
            final Envelope e = offender.awaitErrorOrClose();
            assertTrue(e.getError().getReason().contains("establish vote from pending peer"), e::toString);
        }
        assertLegitimatePeerJoins();
    }

    @Test
    void shouldSurviveManyConnectionsOpenedAndDropped() throws IOException {
        final List<TestPeerClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                final TestPeerClient c = new TestPeerClient(master.port());
                clients.add(c);
                if (i % 2 == 0) {
                    c.sendRaw(new byte[] {0, 0, 0, 9, 1, 2});
                }
            }
        } finally {
            for (final TestPeerClient c : clients) {
                c.close();
            }
        }
        assertLegitimatePeerJoins();
    }

    @Test
    void shouldHoldAFloodingPeerToItsMessageRateWithoutDroppingItsMessagesOrStallingOthers() throws IOException {
        final int rate = 2_000;
        final int queries = 2 * rate;
        final Master limited = Master.builder().host("127.0.0.1").port(0).heartbeatInterval(Duration.ofSeconds(1))
                .heartbeatTimeout(Duration.ofSeconds(30)).maxMessagesPerSecond(rate).build().start();
        try (TestPeerClient flooder = new TestPeerClient(limited.port())) {
            flooder.joinAlone(1);
            final byte[] query = Envelope.newBuilder().setPeersPendingQuery(PeersPendingQuery.getDefaultInstance())
                    .build().toByteArray();
            final ByteBuffer all = ByteBuffer.allocate(queries * (4 + query.length));
            for (int i = 0; i < queries; i++) {
                all.putInt(query.length).put(query);
            }
            final long start = System.nanoTime();
            flooder.sendRaw(all.array());
            // Another peer joins while the flood is being served.
            try (TestPeerClient other = new TestPeerClient(limited.port())) {
                assertTrue(other.joinAlone(2) > 0);
            }
            for (int i = 0; i < queries; i++) {
                flooder.expect(Envelope.BodyCase.PEERS_PENDING_RESPONSE);
            }
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // A burst of `rate` at once, then `rate` a second: the rest cannot have been answered in under a second.
            // (A lower bound only: a slow machine makes it longer, never shorter.)
            assertTrue(elapsedMs >= 1_000 * (queries - rate) / rate - 1, () -> queries + " queries answered in "
                    + elapsedMs + " ms, faster than the limit of " + rate + " per second allows");
        } finally {
            limited.close();
        }
    }

    @Test
    void shouldRefuseConnectionsBeyondTheLimitAndAcceptOnceSlotsAreFree() throws IOException {
        final Master limited = Master.builder().host("127.0.0.1").port(0).maxConnections(2).build().start();
        try {
            try (TestPeerClient a = new TestPeerClient(limited.port());
                 TestPeerClient b = new TestPeerClient(limited.port())) {
                a.hello();
                b.hello();
                try (TestPeerClient refused = new TestPeerClient(limited.port())) {
                    final Envelope e = refused.awaitErrorOrClose();
                    assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, e.getError().getCode(), e::toString);
                    assertEquals("the master's connection limit is reached (2 open, limit 2); try again later",
                            e.getError().getReason());
                }
            }
            // The master frees the two slots when it sees the closes; until then a newcomer is refused again, so
            // retry (each attempt waits for the master's answer), within a bound.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int refusals = 0;
            while (true) {
                try (TestPeerClient peer = new TestPeerClient(limited.port())) {
                    Envelope answer;
                    try {
                        peer.send(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
                        answer = peer.receive();
                    } catch (final IOException e) {
                        // Refused and closed before the hello arrived: the Error may still be readable.
                        answer = peer.awaitErrorOrClose();
                    }
                    if (answer != null && answer.getBodyCase() == Envelope.BodyCase.HELLO_ACK) {
                        assertTrue(peer.register(45000, 1).getAccepted());
                        break;
                    }
                    if (answer != null) {
                        final Envelope refusal = answer;
                        assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, refusal.getError().getCode(),
                                refusal::toString);
                    }
                    refusals++;
                    assertTrue(System.nanoTime() < deadline, "still refused after " + refusals + " attempts in 10 s");
                }
            }
        } finally {
            limited.close();
        }
    }

    private static void assertLegitimatePeerJoins() throws IOException {
        try (TestPeerClient peer = new TestPeerClient(master.port())) {
            assertTrue(peer.joinAlone(nextGroup++) > 0);
        }
    }
}
