package io.pccl.internal.topology;

import io.netty.channel.EventLoopGroup;
import io.pccl.internal.p2p.DataPlane;
import io.pccl.internal.p2p.IncomingPools;
import io.pccl.internal.p2p.PeerListener;
import io.pccl.proto.ConnectionRole;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.proto.Envelope;
import io.pccl.transport.netty.NettyTransport;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A real peer listener on loopback port 0 whose {@code ROLE_BENCHMARK} connections go to a {@link BandwidthServer},
 * an event-loop group for probes, slot events as bounded-await queues, and raw-socket helpers that speak the
 * benchmark protocol by hand. Closes everything in {@link #close()}.
 *
 * <p>Used from the test thread; the slot queues are filled on event loops.
 */
final class BandwidthFixture implements AutoCloseable {
    static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    static final long SERVER_ID = 100;
    static final long AWAIT_SECONDS = 10;
    private static final long HELLO_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int READ_BOUND_MS = 10_000;

    final EventLoopGroup group;
    final BandwidthServer server;
    final PeerListener listener;
    final BlockingQueue<Long> acquired = new LinkedBlockingQueue<>();
    final BlockingQueue<Long> released = new LinkedBlockingQueue<>();

    BandwidthFixture(final Duration idleTimeout, final Duration maxSlotTime) {
        this(idleTimeout, maxSlotTime, ConnectionSecurity.NONE);
    }

    BandwidthFixture(final Duration idleTimeout, final Duration maxSlotTime, final ConnectionSecurity security) {
        group = NettyTransport.newEventLoopGroup(4, "test-bandwidth");
        server = new BandwidthServer(() -> SERVER_ID, idleTimeout, maxSlotTime);
        server.observer(new BandwidthServer.SlotObserver() {
            @Override
            public void onAcquired(final long peerId) {
                acquired.add(peerId);
            }

            @Override
            public void onReleased(final long peerId) {
                released.add(peerId);
            }
        });
        listener = PeerListener.bind(group, LOOPBACK, 0, 1, new IncomingPools(), () -> SERVER_ID,
                () -> DataPlane.DISCARDING, HELLO_TIMEOUT_NS, PeerListener.DEFAULT_MAX_CONNECTIONS, security);
        listener.roleHandler(ConnectionRole.ROLE_BENCHMARK, server::onAccepted);
    }

    BandwidthFixture() {
        this(BandwidthServer.DEFAULT_IDLE_TIMEOUT, BandwidthServer.DEFAULT_MAX_SLOT_TIME);
    }

    int port() {
        return listener.port();
    }

    /** Waits (bounded) until {@code peerId} took the slot. */
    void awaitAcquired(final long peerId) throws InterruptedException {
        assertEquals(Long.valueOf(peerId), acquired.poll(AWAIT_SECONDS, TimeUnit.SECONDS),
                "peer " + peerId + " should take the benchmark slot");
    }

    /** Waits (bounded) until the slot held by {@code peerId} is free. */
    void awaitReleased(final long peerId) throws InterruptedException {
        assertEquals(Long.valueOf(peerId), released.poll(AWAIT_SECONDS, TimeUnit.SECONDS),
                "the benchmark slot of peer " + peerId + " should be freed");
    }

    /** Waits (bounded) until every connection accepted on the listener has closed. */
    void awaitNoConnections() {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(AWAIT_SECONDS);
        while (listener.openConnections() > 0 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertEquals(0, listener.openConnections(), "every accepted connection should have closed");
    }

    /** A raw socket to the listener with a bounded read timeout. */
    Socket connect() throws IOException {
        final Socket s = new Socket(LOOPBACK, port());
        s.setSoTimeout(READ_BOUND_MS);
        s.setTcpNoDelay(true);
        return s;
    }

    static byte[] frame(final Envelope e) {
        final byte[] body = e.toByteArray();
        final byte[] out = new byte[4 + body.length];
        out[0] = (byte) (body.length >>> 24);
        out[1] = (byte) (body.length >>> 16);
        out[2] = (byte) (body.length >>> 8);
        out[3] = (byte) body.length;
        System.arraycopy(body, 0, out, 4, body.length);
        return out;
    }

    static void write(final Socket s, final Envelope e) throws IOException {
        final DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.write(frame(e));
        out.flush();
    }

    static Envelope read(final Socket s) throws IOException {
        final DataInputStream in = new DataInputStream(s.getInputStream());
        final byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        final Envelope e = Envelope.parseFrom(bytes);
        assertNotNull(e);
        return e;
    }

    /** Asserts that the server closed {@code s} (EOF or reset) within the read bound. */
    static void assertClosedByServer(final Socket s) throws IOException {
        try {
            assertEquals(-1, s.getInputStream().read(), "the server should close the connection");
        } catch (final EOFException | SocketException closed) {
            // EOF or reset: closed either way
        }
    }

    @Override
    public void close() {
        listener.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
