package io.pccl;

import io.pccl.proto.Envelope;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeerEndpoint;
import io.pccl.proto.WorldSizes;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.testing.RandomEnvelopes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A master that turns hostile (or buggy) after registering a peer: seeded random control messages of every kind with
 * random fields ({@link RandomEnvelopes}; every host the loopback address and every port the peer's own or 0, so the
 * peer dials nothing else), garbage bytes, length
 * prefixes over the limit or negative, empty frames. Whether it happens while the peer connects or once it is
 * accepted and asking for a topology update, the peer's call must end within a bound, either normally or with a
 * {@link PcclException} (never another exception type), and {@link Communicator#close()} must return.
 *
 * <p>Runs on the test thread; each round's blocking call runs on a pool thread.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileMasterTest {
    private static final long SEED = 0x3A57E2L;
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final int ROUNDS = 30;
    private static final long PEER_ID = 5;

    @Test
    void everyCallEndsNormallyOrWithATypedErrorWhateverTheMasterSends() throws Exception {
        System.out.println("HostileMasterTest seed " + SEED);
        final Random rnd = new Random(SEED);
        int typedFailures = 0;
        for (int round = 0; round < ROUNDS; round++) {
            final boolean afterAcceptance = round % 2 == 1;
            final String what = "round " + round + (afterAcceptance ? " (after acceptance)" : " (during connect)");
            try (ScriptedMaster master = new ScriptedMaster();
                 Communicator comm = Communicator.builder().masterAddress(master.address()).peerBasePort(0)
                         .bindHost(LOOPBACK).connectTimeout(Duration.ofSeconds(5))
                         .topologyTimeout(Duration.ofSeconds(5)).heartbeatInterval(Duration.ofMillis(100))
                         .heartbeatTimeout(Duration.ofMillis(600)).build()) {
                CompletableFuture<Void> call = CompletableFuture.runAsync(comm::connect);
                final int listenPort = master.handshakeAndRegister(PEER_ID).getRegisterRequest().getListenPort();
                if (afterAcceptance) {
                    acceptAlone(master, listenPort);
                    call.get(10, TimeUnit.SECONDS);
                    call = CompletableFuture.runAsync(comm::updateTopology);
                }
                final int messages = 1 + rnd.nextInt(5);
                for (int m = 0; m < messages; m++) {
                    if (!sendHostile(master, rnd, listenPort)) {
                        break;
                    }
                }
                // Silent from here on (the heartbeat timeout bounds the wait).
                try {
                    call.get(20, TimeUnit.SECONDS);
                } catch (final ExecutionException e) {
                    assertInstanceOf(PcclException.class, e.getCause(), what);
                    assertTrue(e.getCause().getMessage() != null && !e.getCause().getMessage().isEmpty(), what);
                    typedFailures++;
                }
                final CompletableFuture<Void> closed = CompletableFuture.runAsync(comm::close);
                closed.get(10, TimeUnit.SECONDS);
            }
        }
        System.out.println("HostileMasterTest: " + typedFailures + " of " + ROUNDS + " calls failed with a "
                + "PcclException");
        assertTrue(typedFailures > 0, "no round reached a failure");
    }

    /** What a master sends a lone first peer to accept it (as in {@code CommunicatorClientTest}). */
    private static void acceptAlone(final ScriptedMaster master, final int listenPort) throws IOException {
        final WorldSizes world = WorldSizes.newBuilder().setGlobal(1).setPeerGroup(1).setNumPeerGroups(1)
                .setLargestPeerGroup(1).build();
        master.send(Envelope.newBuilder().setP2PConnectionInfo(P2PConnectionInfo.newBuilder().setRound(1)
                .addRing(PeerEndpoint.newBuilder().setPeerId(PEER_ID).setHost(LOOPBACK).setPort(listenPort))
                .setWorld(world)).build());
        master.expect(Envelope.BodyCase.P2P_CONNECTIONS_ESTABLISHED);
        master.send(Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(1)
                .setSuccess(true).addRing(PEER_ID).setWorld(world)).build());
    }

    /**
     * Sends one hostile thing.
     *
     * @return false once the peer closed the connection (nothing more can be sent)
     */
    private static boolean sendHostile(final ScriptedMaster master, final Random rnd, final int listenPort) {
        try {
            switch (rnd.nextInt(12)) {
                case 0:
                    master.sendRaw(RandomEnvelopes.bytes(rnd, 1 + rnd.nextInt(100)));
                    break;
                case 1: {
                    final int length = rnd.nextBoolean() ? ProtocolConstants.MAX_CONTROL_FRAME_BYTES + 1
                            + rnd.nextInt(1000) : -1 - rnd.nextInt(1000);
                    master.sendRaw(ByteBuffer.allocate(4).putInt(length).array());
                    break;
                }
                case 2:
                    master.sendRaw(new byte[4]); // an empty frame: a protobuf envelope with no body
                    break;
                default:
                    master.send(RandomEnvelopes.envelope(rnd, new int[] {0, listenPort}, PEER_ID));
                    break;
            }
            return true;
        } catch (final IOException closedByPeer) {
            return false;
        }
    }
}
