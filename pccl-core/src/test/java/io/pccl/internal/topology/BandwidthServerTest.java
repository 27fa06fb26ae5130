package io.pccl.internal.topology;

import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.testing.ByteBufLeakWatch;
import io.pccl.transport.Envelopes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static io.pccl.internal.topology.BandwidthFixture.LOOPBACK;
import static io.pccl.internal.topology.BandwidthFixture.SERVER_ID;
import static io.pccl.internal.topology.BandwidthFixture.assertClosedByServer;
import static io.pccl.internal.topology.BandwidthFixture.read;
import static io.pccl.internal.topology.BandwidthFixture.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's side of the wire protocol, spoken by hand over raw sockets to a real peer listener: exact counts,
 * bytes pipelined behind the hello, busy refusals, and hostile senders (garbage, partial data then silence, resets,
 * vanishing right after the hello, holding the slot too long), after which a normal probe must still succeed and no
 * buffer may leak. Seeded; the seed is printed.
 *
 * <p>Runs on the test thread.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BandwidthServerTest {
    private static final long SEED = 0xBA4DL;
    private static final long PEER_A = 7;
    private static final long PEER_B = 8;
    private static final Duration IDLE = Duration.ofMillis(300);

    private static Envelope hello(final long peerId) {
        return Envelopes.hello(ConnectionRole.ROLE_BENCHMARK, peerId, 0, 1);
    }

    private static long readCount(final Socket s) throws IOException {
        return new DataInputStream(s.getInputStream()).readLong();
    }

    private static byte[] randomBytes(final Random rnd, final int n) {
        final byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    @Test
    void shouldConfirmTheExactByteCountAfterTheSendersFin() throws Exception {
        System.out.println("BandwidthServerTest seed " + SEED);
        final Random rnd = new Random(SEED);
        try (BandwidthFixture fx = new BandwidthFixture(); Socket s = fx.connect()) {
            write(s, hello(PEER_A));
            assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
            final OutputStream out = s.getOutputStream();
            long sent = 0;
            for (int i = 0; i < 50; i++) {
                final byte[] piece = randomBytes(rnd, 1 + rnd.nextInt(64 << 10));
                out.write(piece);
                sent += piece.length;
            }
            s.shutdownOutput();
            assertEquals(sent, readCount(s));
            assertClosedByServer(s);
            fx.awaitReleased(PEER_A);
            assertEquals(sent, fx.server.confirmedBytes());
        }
    }

    @Test
    void shouldCountBytesPipelinedBehindTheHello() throws Exception {
        final Random rnd = new Random(SEED + 1);
        try (BandwidthFixture fx = new BandwidthFixture(); Socket s = fx.connect()) {
            final byte[] helloFrame = BandwidthFixture.frame(hello(PEER_A));
            final byte[] payload = randomBytes(rnd, 10_000);
            final byte[] both = new byte[helloFrame.length + payload.length];
            System.arraycopy(helloFrame, 0, both, 0, helloFrame.length);
            System.arraycopy(payload, 0, both, helloFrame.length, payload.length);
            s.getOutputStream().write(both);
            s.shutdownOutput();
            assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
            assertEquals(payload.length, readCount(s));
            assertClosedByServer(s);
            fx.awaitReleased(PEER_A);
        }
    }

    @Test
    void shouldRefuseAnotherPeerNamingTheBusyPeerAndAcceptMoreConnectionsOfTheMeasuringOne() throws Exception {
        try (BandwidthFixture fx = new BandwidthFixture(); Socket a = fx.connect(); Socket b = fx.connect();
             Socket a2 = fx.connect()) {
            write(a, hello(PEER_A));
            assertEquals(SERVER_ID, read(a).getHelloAck().getPeerId());
            write(b, hello(PEER_B));
            final Envelope refusal = read(b);
            assertEquals(ErrorCode.ERROR_FAILED_PRECONDITION, refusal.getError().getCode());
            final String reason = refusal.getError().getReason();
            assertTrue(reason.startsWith(BandwidthServer.BUSY_PREFIX) && reason.contains("peer " + PEER_A), reason);
            assertClosedByServer(b);
            write(a2, hello(PEER_A));
            assertEquals(SERVER_ID, read(a2).getHelloAck().getPeerId());
            a.shutdownOutput();
            a2.shutdownOutput();
            assertEquals(0, readCount(a));
            assertEquals(0, readCount(a2));
            fx.awaitReleased(PEER_A);
        }
    }

    @Test
    void shouldShrugOffHostileSendersAndKeepServingWithoutLeaks() throws Exception {
        System.out.println("BandwidthServerTest seed " + SEED);
        final Random rnd = new Random(SEED + 2);
        try (ByteBufLeakWatch watch = new ByteBufLeakWatch();
             BandwidthFixture fx = new BandwidthFixture(IDLE, BandwidthServer.DEFAULT_MAX_SLOT_TIME)) {
            // hello, garbage, then a reset
            try (Socket s = fx.connect()) {
                write(s, hello(10));
                assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
                s.getOutputStream().write(randomBytes(rnd, 100_000));
                s.setSoLinger(true, 0);
            }
            fx.awaitReleased(10);
            // hello, then gone before the answer
            try (Socket s = fx.connect()) {
                write(s, hello(11));
            }
            fx.awaitReleased(11);
            // hello, a little data, then silence: closed after the idle timeout
            try (Socket s = fx.connect()) {
                write(s, hello(12));
                assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
                s.getOutputStream().write(randomBytes(rnd, 1 + rnd.nextInt(5000)));
                final long t0 = System.nanoTime();
                assertClosedByServer(s);
                final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(waitedMs < IDLE.toMillis() + 5_000, "closed after " + waitedMs + " ms");
            }
            fx.awaitReleased(12);
            // hello, a frame-shaped lie (huge length prefix) and garbage as payload, then FIN: just bytes
            try (Socket s = fx.connect()) {
                write(s, hello(13));
                assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
                final byte[] junk = randomBytes(rnd, 4096);
                junk[0] = (byte) 0x7f;
                s.getOutputStream().write(junk);
                s.shutdownOutput();
                assertEquals(junk.length, readCount(s));
                assertClosedByServer(s);
            }
            fx.awaitReleased(13);
            // hello and an immediate FIN: a count of zero
            try (Socket s = fx.connect()) {
                write(s, hello(14));
                s.shutdownOutput();
                assertEquals(SERVER_ID, read(s).getHelloAck().getPeerId());
                assertEquals(0, readCount(s));
            }
            fx.awaitReleased(14);
            final double mbps = BandwidthProbe.measure(fx.group, LOOPBACK, fx.port(), PEER_A, 2,
                    Duration.ofMillis(150), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
            assertTrue(mbps > 0, "a normal measurement after the hostile ones: " + mbps);
            fx.awaitReleased(PEER_A);
            assertEquals(List.of(), watch.leaks());
        }
    }

    @Test
    void shouldCloseEveryConnectionOfAPeerThatHoldsTheSlotTooLong() throws Exception {
        try (BandwidthFixture fx = new BandwidthFixture(Duration.ofSeconds(30), Duration.ofMillis(300));
             Socket a1 = fx.connect(); Socket a2 = fx.connect()) {
            write(a1, hello(PEER_A));
            assertEquals(SERVER_ID, read(a1).getHelloAck().getPeerId());
            write(a2, hello(PEER_A));
            assertEquals(SERVER_ID, read(a2).getHelloAck().getPeerId());
            assertClosedByServer(a1);
            assertClosedByServer(a2);
            fx.awaitReleased(PEER_A);
            try (Socket b = fx.connect()) {
                write(b, hello(PEER_B));
                assertEquals(SERVER_ID, read(b).getHelloAck().getPeerId(), "the slot is free again");
            }
        }
    }
}
