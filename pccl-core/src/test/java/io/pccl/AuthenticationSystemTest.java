package io.pccl;

import io.pccl.master.Master;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.Envelopes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared-key authentication end to end: a master and peers holding the same key use every kind of connection (the
 * master's, ring data, a shared-state fetch, bandwidth measurements) as without a key; a peer with another key or
 * none, or a master without one, fails {@code connect()} at once with {@code UNAUTHENTICATED}; and a peer's port
 * answers a connection that does not prove the key with an {@code ERROR_UNAUTHENTICATED} frame and a close.
 */
@Tag("slow")
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AuthenticationSystemTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final byte[] KEY = "a-shared-key-of-the-test-deployment".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OTHER = "another-key-that-the-master-lacks".getBytes(StandardCharsets.UTF_8);
    private static final long BOUND_S = 30;

    private static Master master(final byte[] key) {
        final Master.Builder b = Master.builder().host(LOOPBACK).port(0).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3));
        if (key != null) {
            b.authKey(key);
        }
        return b.build().start();
    }

    private static Communicator peer(final Master master, final byte[] key) {
        final Communicator.Builder b = Communicator.builder().masterAddress(LOOPBACK + ":" + master.port())
                .peerBasePort(0).bindHost(LOOPBACK).connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(BOUND_S))
                .topologyTimeout(Duration.ofSeconds(BOUND_S)).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3)).benchmarkDuration(Duration.ofMillis(100));
        if (key != null) {
            b.authKey(key);
        }
        return b.build();
    }

    @Test
    void shouldUseEveryKindOfConnectionWhenTheMasterAndThePeersShareTheKey() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(master(KEY), 3,
                b -> b.authKey(KEY).benchmarkDuration(Duration.ofMillis(100)))) {
            final List<Communicator> peers = cluster.peers();
            final ExecutorService pool = cluster.pool();

            // ring data connections
            final List<Future<float[]>> sums = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                final Communicator c = peers.get(i);
                final float[] v = new float[1000];
                Arrays.fill(v, i + 1);
                sums.add(pool.submit(() -> {
                    c.allReduce(v, v, ReduceDescriptor.of(v.length, DataType.FLOAT32, ReduceOp.SUM).tag(1));
                    return v;
                }));
            }
            for (Future<float[]> f : sums) {
                final float[] expected = new float[1000];
                Arrays.fill(expected, 6f);
                assertArrayEquals(expected, f.get(BOUND_S, TimeUnit.SECONDS));
            }

            // a shared-state fetch: the third peer holds other content and receives the popular one
            final List<Future<SyncInfo>> syncs = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                final Communicator c = peers.get(i);
                final float[] w = new float[4096];
                Arrays.fill(w, i == 2 ? 9f : 3f);
                final SharedState s = SharedState.builder().entry("w", w).build();
                syncs.add(pool.submit(() -> c.syncSharedState(s, SyncStrategy.ENFORCE_POPULAR)));
            }
            assertEquals(4096L * 4, syncs.get(2).get(BOUND_S, TimeUnit.SECONDS).rxBytes(),
                    "the outvoted peer fetched the popular content over an authenticated fetch connection");
            assertEquals(0, syncs.get(0).get(BOUND_S, TimeUnit.SECONDS).rxBytes());
            // every peer's sync must have returned before optimizeTopology(), a membership call
            assertEquals(0, syncs.get(1).get(BOUND_S, TimeUnit.SECONDS).rxBytes());

            // bandwidth measurements
            final List<Future<?>> optimize = new ArrayList<>();
            for (Communicator c : peers) {
                optimize.add(pool.submit(c::optimizeTopology));
            }
            for (Future<?> f : optimize) {
                f.get(BOUND_S, TimeUnit.SECONDS);
            }
            assertEquals(3, peers.get(0).ring().size());
        }
    }

    /**
     * The master at its connection limit refuses before any handshake; a peer with the key gets that refusal as
     * without a key, as a retryable {@link MasterLostException} naming the limit, not as an authentication failure.
     */
    @Test
    void shouldReportAConnectionLimitRefusalToAPeerWithTheKeyAsAMasterLoss() throws Exception {
        try (Master master = Master.builder().host(LOOPBACK).port(0).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3)).authKey(KEY).maxConnections(1).build().start();
             Communicator first = peer(master, KEY); Communicator second = peer(master, KEY)) {
            first.connect();
            final PcclException e = assertThrows(PcclException.class, second::connect);
            assertTrue(e instanceof MasterLostException, e::toString);
            assertTrue(e.isRetryable());
            assertTrue(e.getMessage().contains("connection limit"), e.getMessage());
        }
    }

    /** Whether the other side closed: end of stream, or a reset (a close with unread bytes in its buffer). */
    private static boolean closedByPeer(final DataInputStream in) throws IOException {
        try {
            return in.read() == -1;
        } catch (final SocketException e) {
            return "Connection reset".equals(e.getMessage());
        }
    }

    static Stream<Arguments> mismatchedKeys() {
        return Stream.of(
                Arguments.of("the peer has no key", KEY, null, "authentication required"),
                Arguments.of("the peer has another key", KEY, OTHER, "failed to prove the shared key"),
                Arguments.of("the master has no key", null, KEY, "does not answer the authentication handshake"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mismatchedKeys")
    void shouldFailConnectAtOnceWithUnauthenticatedWhenTheKeysDiffer(final String what, final byte[] masterKey,
                                                                     final byte[] peerKey, final String message) {
        try (Master master = master(masterKey); Communicator c = peer(master, peerKey)) {
            final PcclException e = assertThrows(PcclException.class, c::connect);
            assertEquals(PcclException.Code.UNAUTHENTICATED, e.code(), e::toString);
            assertFalse(e.isRetryable());
            assertTrue(e.getMessage().contains(message), e.getMessage());
        }
    }

    @Test
    void shouldAnswerAConnectionToAPeerPortWithoutTheKeyWithAnErrorAndClose() throws Exception {
        try (Master master = master(KEY); Communicator c = peer(master, KEY)) {
            c.connect();
            final int port = c.session().listenPort();
            try (Socket s = new Socket(LOOPBACK, port)) {
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(BOUND_S));
                final byte[] hello = Envelopes.hello(ConnectionRole.ROLE_SHARED_STATE, 99, 0, 0).toByteArray();
                // One write: the peer refuses after the first 4 bytes, and bytes still arriving after its close
                // would make it answer with a reset.
                s.getOutputStream().write(ByteBuffer.allocate(4 + hello.length).putInt(hello.length).put(hello)
                        .array());
                s.getOutputStream().flush();
                final DataInputStream in = new DataInputStream(s.getInputStream());
                final byte[] body = new byte[in.readInt()];
                in.readFully(body);
                final Envelope error = Envelope.parseFrom(body);
                assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, error.getError().getCode());
                assertTrue(closedByPeer(in), "the peer closed the connection");
            }
        }
    }

}
