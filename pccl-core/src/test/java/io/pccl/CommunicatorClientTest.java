package io.pccl;

import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Heartbeat;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeerEndpoint;
import io.pccl.proto.RegisterResponse;
import io.pccl.proto.WorldSizes;
import io.pccl.transport.Envelopes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The communicator's client side against a scripted master: failures, kicks, refusals, acceptance. */
@Timeout(30)
class CommunicatorClientTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();

    private static Communicator.Builder builder(final String master) {
        return Communicator.builder().masterAddress(master).peerBasePort(0).bindHost(LOOPBACK)
                .connectTimeout(Duration.ofSeconds(20)).heartbeatInterval(Duration.ofMillis(100))
                .heartbeatTimeout(Duration.ofMillis(600));
    }

    private static PcclException failureOf(final CompletableFuture<?> f) throws Exception {
        final ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(15, TimeUnit.SECONDS));
        return assertInstanceOf(PcclException.class, e.getCause());
    }

    @Test
    void unreachableMasterFailsFastNamingTheAddress() throws Exception {
        final int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (Communicator comm = builder(LOOPBACK + ":" + port).build()) {
            final long start = System.nanoTime();
            final MasterLostException e = assertThrows(MasterLostException.class, comm::connect);
            assertTrue(e.getMessage().contains(LOOPBACK + ":" + port), e.getMessage());
            assertEquals(PcclException.Code.MASTER_UNAVAILABLE, e.code());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "failed fast");
        }
    }

    @Test
    void silentMasterIsDetectedByTheHeartbeatTimeout() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.handshakeAndRegister(1);
            // Silent from here on: the peer must give up after its heartbeat timeout and close the connection.
            assertTrue(master.awaitEof());
            final PcclException e = failureOf(connect);
            assertInstanceOf(MasterLostException.class, e);
            assertTrue(e.getMessage().contains("heartbeatTimeout 600 ms"), e.getMessage());
            // A failed connect releases everything: the handle is back to "not connected".
            assertEquals(PcclException.Code.FAILED_PRECONDITION,
                    assertThrows(PcclException.class, comm::updateTopology).code());
        }
    }

    @Test
    void refusedRegistrationCarriesTheMastersCodeAndReason() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.accept();
            master.expect(Envelope.BodyCase.HELLO);
            master.send(Envelopes.helloAck(0));
            final Envelope register = master.expect(Envelope.BodyCase.REGISTER_REQUEST);
            assertTrue(register.getRegisterRequest().getListenPort() > 0);
            master.send(Envelope.newBuilder().setRegisterResponse(RegisterResponse.newBuilder().setAccepted(false)
                    .setCode(ErrorCode.ERROR_FAILED_PRECONDITION).setReason("peer 10.0.0.5 is not loopback"))
                    .build());
            final PcclException e = failureOf(connect);
            assertEquals(PcclException.Code.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().contains("peer 10.0.0.5 is not loopback"), e.getMessage());
            assertTrue(e.getMessage().contains(master.address()), e.getMessage());
        }
    }

    @Test
    void errorFromTheMasterIsAKickWithItsReason() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.handshakeAndRegister(3);
            master.send(Envelopes.error(ErrorCode.ERROR_KICKED, "second registration"));
            final PcclException e = failureOf(connect);
            assertInstanceOf(KickedException.class, e);
            assertTrue(e.getMessage().contains("second registration"), e.getMessage());
            assertTrue(master.awaitEof());
        }
    }

    @Test
    void errorWithoutAReasonSaysSo() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.handshakeAndRegister(3);
            master.send(Envelopes.error(ErrorCode.ERROR_UNSPECIFIED, ""));
            final PcclException e = failureOf(connect);
            assertInstanceOf(KickedException.class, e);
            assertTrue(e.getMessage().endsWith("removed peer 3 (ERROR_UNSPECIFIED): no reason given"), e.getMessage());
        }
    }

    @Test
    void aSecondRegisterResponseIsAProtocolViolationNotANewId() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.handshakeAndRegister(3);
            master.send(Envelope.newBuilder().setRegisterResponse(RegisterResponse.newBuilder().setAccepted(true)
                    .setPeerId(9)).build());
            final PcclException e = failureOf(connect);
            assertEquals(PcclException.Code.PROTOCOL_VIOLATION, e.code());
            assertTrue(e.getMessage().contains("second RegisterResponse (peer id 9) after registering this peer as 3"),
                    e.getMessage());
            assertTrue(master.awaitEof());
        }
    }

    @Test
    void connectionRefusedAtTheMastersConnectionLimitIsARetryableMasterLoss() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.accept();
            // What pccl-master sends on a connection beyond its limit, before reading anything.
            master.send(Envelopes.error(ErrorCode.ERROR_RESOURCE_EXHAUSTED,
                    "the master's connection limit is reached (2 open, limit 2); try again later"));
            final PcclException e = failureOf(connect);
            assertInstanceOf(MasterLostException.class, e);
            assertEquals(PcclException.Code.MASTER_UNAVAILABLE, e.code());
            assertTrue(e.code().isRetryable());
            assertTrue(e.getMessage().contains("refused the connection: the master's connection limit is reached"
                    + " (2 open, limit 2)"), e.getMessage());
        }
    }

    @Test
    void loneFirstPeerIsAcceptedAndAdoptsTheRound() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            final Envelope register = master.handshakeAndRegister(5);
            final WorldSizes world = WorldSizes.newBuilder().setGlobal(1).setPeerGroup(1).setNumPeerGroups(1)
                    .setLargestPeerGroup(1).build();
            master.send(Envelope.newBuilder().setP2PConnectionInfo(P2PConnectionInfo.newBuilder().setRound(7)
                    .addRing(PeerEndpoint.newBuilder().setPeerId(5).setHost(LOOPBACK)
                            .setPort(register.getRegisterRequest().getListenPort()))
                    .setWorld(world)).build());
            final Envelope report = master.expect(Envelope.BodyCase.P2P_CONNECTIONS_ESTABLISHED);
            assertEquals(7, report.getP2PConnectionsEstablished().getRound());
            assertTrue(report.getP2PConnectionsEstablished().getSuccess());
            // A stale result of another round is ignored.
            master.send(Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(6)
                    .setSuccess(false)).build());
            master.send(Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(7)
                    .setSuccess(true).addRing(5).setWorld(world)).build());
            connect.get(10, TimeUnit.SECONDS);
            assertEquals(5, comm.peerId());
            assertEquals(1, comm.globalWorldSize());
            assertEquals(1, comm.peerGroupWorldSize());
            assertEquals(List.of(5L), comm.ring());
            final PcclException again = assertThrows(PcclException.class, comm::connect);
            assertEquals(PcclException.Code.FAILED_PRECONDITION, again.code());
            comm.close();
            comm.close();
            assertTrue(master.awaitEof());
            assertEquals(PcclException.Code.CLOSED, assertThrows(PcclException.class, comm::updateTopology).code());
        }
    }

    @Test
    void closeWakesABlockedConnect() throws Exception {
        try (ScriptedMaster master = new ScriptedMaster();
             Communicator comm = builder(master.address()).build()) {
            final CompletableFuture<Void> connect = CompletableFuture.runAsync(comm::connect);
            master.handshakeAndRegister(2);
            master.send(Envelope.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
            comm.close();
            assertEquals(PcclException.Code.CLOSED, failureOf(connect).code());
        }
    }

    @Test
    void builderRejectsBadSettingsNamingThem() {
        final PcclException e = assertThrows(PcclException.class,
                () -> Communicator.builder().masterAddress("host:notaport"));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("host:notaport"), e.getMessage());
        assertTrue(assertThrows(PcclException.class, () -> Communicator.builder().connectionsPerPeer(0))
                .getMessage().contains("connectionsPerPeer 0"));
        assertTrue(assertThrows(PcclException.class, () -> Communicator.builder().build()).getMessage()
                .contains("masterAddress"));
        assertTrue(assertThrows(PcclException.class, () -> Communicator.builder().masterAddress("h:1")
                .heartbeatInterval(Duration.ofSeconds(5)).heartbeatTimeout(Duration.ofSeconds(2)).build())
                .getMessage().contains("heartbeatTimeout"));
    }
}
