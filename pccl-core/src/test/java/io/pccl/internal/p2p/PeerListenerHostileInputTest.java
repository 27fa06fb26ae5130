package io.pccl.internal.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.pccl.internal.collective.RingDataPlane;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.Hello;
import io.pccl.testing.ByteBufLeakWatch;
import io.pccl.transport.Envelopes;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.data.DataFrameFlyweight;
import io.pccl.transport.netty.NettyTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded hostile connections into a peer's port, served by a real {@link PeerListener} whose data connections feed a
 * real {@link RingDataPlane}: random bytes, oversized and truncated length prefixes, garbage where a protobuf
 * envelope should be, a first message other than a hello, hellos with one field wrong, silence, and accepted data
 * hellos followed by corrupt or well-formed data frames. Every connection must end as the protocol says (closed by
 * the listener within its hello timeout or on the first corrupt byte; kept only when it is a well-formed data
 * connection), the listener must go on accepting a legitimate dialer, and no buffer may leak.
 *
 * <p>Runs on the test thread.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerListenerHostileInputTest {
    private static final long SEED = 0xB0B5L;
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final long SELF_ID = 1;
    private static final int MAX_PAYLOAD = 64 << 10;
    private static final long HELLO_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(300);
    private static final int CONNECTIONS = 60;
    private static final int KINDS = 10;
    private static final int READ_BOUND_MS = 10_000;

    @Test
    void everyHostileConnectionEndsAsTheProtocolSaysAndTheListenerKeepsServing() throws Exception {
        System.out.println("PeerListenerHostileInputTest seed " + SEED);
        final Random rnd = new Random(SEED);
        try (ByteBufLeakWatch watch = new ByteBufLeakWatch()) {
            final EventLoopGroup group = NettyTransport.newEventLoopGroup(2, "hostile-listener");
            final RingDataPlane plane = new RingDataPlane(MAX_PAYLOAD);
            final PeerListener listener = PeerListener.bind(group, LOOPBACK, 0, 1, new IncomingPools(),
                    () -> SELF_ID, () -> plane, HELLO_TIMEOUT_NS);
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    // Every kind once in order, then a random mix.
                    final int kind = i < KINDS ? i : rnd.nextInt(KINDS);
                    try (Socket s = new Socket(LOOPBACK, listener.port())) {
                        s.setSoTimeout(READ_BOUND_MS);
                        hostile(s, rnd, kind, "connection " + i + " (kind " + kind + ")");
                    }
                }
                try (Socket s = new Socket(LOOPBACK, listener.port())) {
                    s.setSoTimeout(READ_BOUND_MS);
                    PeerListenerTest.write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 2, 0, 1));
                    assertEquals(SELF_ID, PeerListenerTest.read(s).getHelloAck().getPeerId(),
                            "a legitimate dialer after the hostile ones");
                }
            } finally {
                listener.close();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
            final List<String> leaks = watch.leaks();
            assertTrue(leaks.isEmpty(), () -> leaks.size() + " buffers leaked, the first: " + leaks.get(0));
        }
    }

    private static void hostile(final Socket s, final Random rnd, final int kind, final String what)
            throws IOException {
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        switch (kind) {
            case 0: // random bytes
                out.write(randomBytes(rnd, 1 + rnd.nextInt(300)));
                break;
            case 1: // a length prefix over the control frame limit, or negative
                out.writeInt(rnd.nextBoolean() ? ProtocolConstants.MAX_CONTROL_FRAME_BYTES + 1 + rnd.nextInt(1000)
                        : -1 - rnd.nextInt(1000));
                out.write(randomBytes(rnd, rnd.nextInt(64)));
                break;
            case 2: { // a well-framed message that is not a protobuf envelope
                final byte[] junk = randomBytes(rnd, 1 + rnd.nextInt(200));
                out.writeInt(junk.length);
                out.write(junk);
                break;
            }
            case 3: // a first message other than a hello
                PeerListenerTest.write(s, rnd.nextBoolean() ? Envelopes.helloAck(rnd.nextLong())
                        : Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 2, 0, 1).toBuilder().clearHello().build());
                break;
            case 4: // a hello with one field wrong
                PeerListenerTest.write(s, badHello(rnd));
                break;
            case 5: // a length prefix promising more than follows, then silence: the hello timeout closes it
                out.writeInt(100 + rnd.nextInt(1000));
                out.write(randomBytes(rnd, rnd.nextInt(50)));
                break;
            case 6: // silence
                break;
            case 7: { // an accepted data connection, then bytes that are not a data frame
                dataHello(s, rnd);
                final byte[] junk = randomBytes(rnd, DataFrameFlyweight.HEADER_LENGTH + rnd.nextInt(200));
                junk[DataFrameFlyweight.MAGIC_OFFSET] = (byte) (DataFrameFlyweight.MAGIC + 1 + rnd.nextInt(200));
                out.write(junk);
                break;
            }
            case 8: { // an accepted data connection, then a frame over the payload limit
                dataHello(s, rnd);
                final ByteBuf b = Unpooled.buffer();
                DataFrameFlyweight.writeHeader(b, rnd.nextLong(), rnd.nextLong(), DataFrameFlyweight.STAGE_ALL_GATHER,
                        0, 0, 0, MAX_PAYLOAD + 1 + rnd.nextInt(1 << 20));
                out.write(b.array(), b.arrayOffset(), b.readableBytes());
                b.release();
                break;
            }
            default: { // an accepted data connection sending well-formed frames of operations that never run here
                dataHello(s, rnd);
                final ByteBuf b = Unpooled.buffer();
                final int frames = 1 + rnd.nextInt(4);
                for (int f = 0; f < frames; f++) {
                    final int len = rnd.nextInt(MAX_PAYLOAD + 1);
                    DataFrameFlyweight.writeHeader(b, rnd.nextLong(), rnd.nextLong(),
                            DataFrameFlyweight.STAGE_REDUCE_SCATTER, rnd.nextInt(8), rnd.nextInt(8), 0, len);
                    b.writeBytes(randomBytes(rnd, len));
                }
                out.write(b.array(), b.arrayOffset(), b.readableBytes());
                b.release();
                out.flush();
                // Well-formed: the listener keeps the connection (nothing to read, and it is not closed).
                s.setSoTimeout(100);
                try {
                    final int got = s.getInputStream().read();
                    fail(what + ": a well-formed data connection was answered or closed (read " + got + ")");
                } catch (final SocketTimeoutException expected) {
                    return;
                }
            }
        }
        out.flush();
        assertClosedByListener(s, what);
    }

    /** A data hello from a random peer id other than 0 and the listener's own, acknowledged. */
    private static void dataHello(final Socket s, final Random rnd) throws IOException {
        final int pool = 1 + rnd.nextInt(4);
        PeerListenerTest.write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 2 + rnd.nextInt(1000),
                rnd.nextInt(pool), pool));
        assertEquals(SELF_ID, PeerListenerTest.read(s).getHelloAck().getPeerId());
    }

    private static Envelope badHello(final Random rnd) {
        final Hello.Builder h = Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 2, 0, 1).getHello().toBuilder();
        switch (rnd.nextInt(6)) {
            case 0:
                h.setMagic(ProtocolConstants.MAGIC + 1 + rnd.nextInt(1000));
                break;
            case 1:
                h.setProtocolVersion(ProtocolConstants.PROTOCOL_VERSION + 1 + rnd.nextInt(1000));
                break;
            case 2:
                h.setRole(ConnectionRole.ROLE_UNSPECIFIED);
                break;
            case 3:
                h.setPeerId(rnd.nextBoolean() ? 0 : SELF_ID);
                break;
            case 4:
                h.setPoolSize(1 + rnd.nextInt(4)).setConnectionIndex(h.getPoolSize() + rnd.nextInt(100));
                break;
            default:
                h.setPoolSize(0).setConnectionIndex(0);
                break;
        }
        return Envelope.newBuilder().setHello(h).build();
    }

    /** Reads (and ignores, an error envelope may come first) until the listener closes; fails after the bound. */
    private static void assertClosedByListener(final Socket s, final String what) throws IOException {
        final InputStream in = s.getInputStream();
        final byte[] sink = new byte[4096];
        try {
            while (in.read(sink) >= 0) {
                // drain
            }
        } catch (final SocketTimeoutException e) {
            fail(what + ": not closed by the listener within " + READ_BOUND_MS + " ms");
        } catch (final IOException reset) {
            // A reset also ends the connection.
        }
    }

    private static byte[] randomBytes(final Random rnd, final int n) {
        final byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }
}
