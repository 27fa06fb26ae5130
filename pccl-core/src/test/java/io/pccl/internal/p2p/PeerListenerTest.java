package io.pccl.internal.p2p;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.pccl.PcclException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.transport.Envelopes;
import io.pccl.transport.netty.NettyTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(20)
class PeerListenerTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final long HELLO_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private EventLoopGroup group;
    private final List<PeerListener> listeners = new ArrayList<>();

    @BeforeEach
    void setUp() {
        group = NettyTransport.newEventLoopGroup(2, "test-listener");
    }

    @AfterEach
    void tearDown() {
        for (PeerListener l : listeners) {
            l.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private PeerListener bind(final int base, final int attempts, final IncomingPools pools, final long selfId) {
        final PeerListener l = PeerListener.bind(group, LOOPBACK, base, attempts, pools, () -> selfId,
                () -> DataPlane.DISCARDING, HELLO_TIMEOUT_NS);
        listeners.add(l);
        return l;
    }

    @Test
    void portIsBumpedPastOneInUse() {
        final PeerListener first = bind(0, 1, new IncomingPools(), 1);
        final int taken = first.port();
        final PeerListener second = bind(taken, 16, new IncomingPools(), 2);
        assertTrue(second.port() > taken && second.port() < taken + 16,
                "bumped port " + second.port() + " after taken " + taken);
    }

    @Test
    void noFreePortInRangeFailsNamingTheRange() {
        final int taken = bind(0, 1, new IncomingPools(), 1).port();
        final PcclException e = assertThrows(PcclException.class, () -> bind(taken, 1, new IncomingPools(), 2));
        assertEquals(PcclException.Code.FAILED_PRECONDITION, e.code());
        assertTrue(e.getMessage().contains("from " + taken), e.getMessage());
    }

    @Test
    void badMagicGetsProtocolViolationThenClose() throws IOException {
        final PeerListener l = bind(0, 1, new IncomingPools(), 1);
        final Envelope bad = Envelope.newBuilder().setHello(Hello.newBuilder().setMagic(0xdeadbeef)
                .setProtocolVersion(1).setRole(ConnectionRole.ROLE_P2P_DATA)).build();
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, bad);
            final Envelope reply = read(s);
            assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, reply.getError().getCode());
            assertTrue(reply.getError().getReason().contains("0xdeadbeef"), reply.getError().getReason());
            assertClosed(s);
        }
    }

    @Test
    void firstMessageOtherThanHelloIsRejected() throws IOException {
        final PeerListener l = bind(0, 1, new IncomingPools(), 1);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.helloAck(3));
            final Envelope reply = read(s);
            assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, reply.getError().getCode());
            assertTrue(reply.getError().getReason().contains("HELLO_ACK"), reply.getError().getReason());
            assertClosed(s);
        }
    }

    @Test
    void badPoolSlotIsRejected() throws IOException {
        final PeerListener l = bind(0, 1, new IncomingPools(), 1);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 7, 4, 4));
            final Envelope reply = read(s);
            assertEquals(ErrorCode.ERROR_INVALID_ARGUMENT, reply.getError().getCode());
            assertTrue(reply.getError().getReason().contains("connection_index 4, pool_size 4"),
                    reply.getError().getReason());
            assertClosed(s);
        }
    }

    @Test
    void connectionBeyondTheLimitIsRefusedUnreadAndANewOneGetsInOnceOneCloses() throws IOException {
        final PeerListener l = PeerListener.bind(group, LOOPBACK, 0, 1, new IncomingPools(), () -> 5,
                () -> DataPlane.DISCARDING, HELLO_TIMEOUT_NS, 1);
        listeners.add(l);
        try (Socket first = new Socket(LOOPBACK, l.port())) {
            // The first connection holds the only slot once the listener answers it.
            write(first, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 7, 0, 1));
            assertEquals(Envelope.BodyCase.HELLO_ACK, read(first).getBodyCase());
            try (Socket refused = new Socket(LOOPBACK, l.port())) {
                final Envelope reply = read(refused);
                assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, reply.getError().getCode());
                assertEquals("the peer port's connection limit is reached (1 open, limit 1)",
                        reply.getError().getReason());
                assertClosed(refused);
            }
        }
        // The slot frees when the listener sees the close; until then a newcomer is refused, so retry (each attempt
        // waits for the listener's answer), within a bound.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket(LOOPBACK, l.port())) {
                Envelope reply;
                try {
                    write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 8, 0, 1));
                    reply = read(s);
                } catch (final IOException e) {
                    reply = null; // refused and closed before the hello arrived
                }
                if (reply != null && reply.getBodyCase() == Envelope.BodyCase.HELLO_ACK) {
                    break;
                }
                if (reply != null) {
                    assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, reply.getError().getCode(), reply::toString);
                }
                assertTrue(System.nanoTime() < deadline, "still refused 10 s after the first connection closed");
            }
        }
    }

    @Test
    void dataHelloNamingPeerIdZeroOrThisPeersOwnIdIsRejected() throws IOException {
        final PeerListener l = bind(0, 1, new IncomingPools(), 5);
        for (final long claimed : new long[] {0, 5}) {
            try (Socket s = new Socket(LOOPBACK, l.port())) {
                write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, claimed, 0, 1));
                final Envelope reply = read(s);
                assertEquals(ErrorCode.ERROR_INVALID_ARGUMENT, reply.getError().getCode());
                assertEquals("p2p data hello names peer id " + claimed + (claimed == 0
                        ? ", which the master never assigns" : ", this peer's own id"), reply.getError().getReason());
                assertClosed(s);
            }
        }
    }

    @Test
    void dataHelloBeforeRegistrationIsAcknowledgedWithTheIdOnceAssigned() throws IOException {
        final java.util.concurrent.atomic.AtomicLong id = new java.util.concurrent.atomic.AtomicLong();
        final PeerListener l = PeerListener.bind(group, LOOPBACK, 0, 1, new IncomingPools(), id::get,
                () -> DataPlane.DISCARDING, HELLO_TIMEOUT_NS);
        listeners.add(l);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 7, 0, 1));
            // registration completes after the dialer's hello was sent (and possibly already read)
            id.set(5);
            assertEquals(5, read(s).getHelloAck().getPeerId());
        }
    }

    @Test
    void unsupportedRoleIsRefused() throws IOException {
        final PeerListener l = bind(0, 1, new IncomingPools(), 1);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_SHARED_STATE, 7, 0, 0));
            final Envelope reply = read(s);
            assertEquals(ErrorCode.ERROR_FAILED_PRECONDITION, reply.getError().getCode());
            assertTrue(reply.getError().getReason().contains("not supported"), reply.getError().getReason());
            assertClosed(s);
        }
    }

    @Test
    void registeredRoleHandlerTakesTheChannel() throws Exception {
        final PeerListener l = bind(0, 1, new IncomingPools(), 11);
        final CompletableFuture<Hello> handed = new CompletableFuture<>();
        l.roleHandler(ConnectionRole.ROLE_BENCHMARK, (hello, ch) -> {
            ch.writeAndFlush(Envelopes.helloAck(11));
            handed.complete(hello);
        });
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_BENCHMARK, 7, 0, 0));
            assertEquals(11, read(s).getHelloAck().getPeerId());
            assertEquals(7, handed.get(5, TimeUnit.SECONDS).getPeerId());
        }
    }

    @Test
    void dataHelloRegistersTheIncomingConnectionAndAcks() throws IOException {
        final IncomingPools pools = new IncomingPools();
        final PeerListener l = bind(0, 1, pools, 42);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 7, 1, 2));
            final Envelope reply = read(s);
            assertEquals(42, reply.getHelloAck().getPeerId());
            final Channel[] pool = pools.pool(7);
            assertEquals(2, pool.length);
            assertTrue(pool[1] != null && pool[1].isActive());
        }
    }

    @Test
    void dataHelloBeforeThisPeerKnowsItsIdIsAnsweredOnceTheIdIsKnown() throws IOException {
        final IncomingPools pools = new IncomingPools();
        final AtomicLong id = new AtomicLong();
        final AtomicInteger asked = new AtomicInteger();
        final PeerListener l = PeerListener.bind(group, LOOPBACK, 0, 1, pools, () -> {
            asked.incrementAndGet();
            return id.get();
        }, () -> DataPlane.DISCARDING, HELLO_TIMEOUT_NS);
        listeners.add(l);
        try (Socket s = new Socket(LOOPBACK, l.port())) {
            write(s, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 7, 0, 1));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (asked.get() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(asked.get() > 0, "the listener never looked at its id");
            assertEquals(0, pools.pool(7).length, "registered before the id was known");
            id.set(42);
            assertEquals(42, read(s).getHelloAck().getPeerId());
            assertEquals(1, pools.pool(7).length);
        }
    }

    static void write(final Socket s, final Envelope e) throws IOException {
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        final byte[] bytes = e.toByteArray();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    static Envelope read(final Socket s) throws IOException {
        s.setSoTimeout(10_000);
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return Envelope.parseFrom(bytes);
    }

    static void assertClosed(final Socket s) throws IOException {
        s.setSoTimeout(10_000);
        try {
            assertEquals(-1, s.getInputStream().read(), "connection should be closed by the listener");
        } catch (EOFException expected) {
            // closed
        }
    }
}
