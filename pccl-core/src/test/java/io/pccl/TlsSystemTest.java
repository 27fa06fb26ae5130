package io.pccl;

import io.pccl.master.Master;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.Envelopes;
import io.pccl.transport.tls.ThrowawayPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutual TLS end to end: a master and peers with certificates of one CA use every kind of connection (the master's,
 * ring data over several slices, a shared-state fetch, bandwidth measurements) and get exact results; the peer port
 * answers a plain connection with a plain {@code ERROR_UNAUTHENTICATED}; a mismatch (TLS on one side only, a
 * certificate of another CA) fails {@code connect()} at once with {@code UNAUTHENTICATED}; a connection-limit refusal
 * stays a retryable master loss.
 */
@Tag("slow")
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TlsSystemTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final long BOUND_S = 30;
    /** Several 1 MiB slices per chunk at W = 3, so ring payloads take the pipeline's read path many times. */
    private static final int COUNT = 3 * 1024 * 1024;

    @TempDir
    static Path dir;
    private static ThrowawayPki.PemFiles ours;
    private static ThrowawayPki.PemFiles theirs;

    /** A CA with a certificate per process (tests that need names of their own); made when first needed. */
    private static ThrowawayPki.Authority runCa;
    private static final java.util.Map<String, ThrowawayPki.PemFiles> NAMED = new java.util.HashMap<>();

    private static synchronized ThrowawayPki.Authority runCa() throws IOException {
        if (runCa == null) {
            runCa = ThrowawayPki.Authority.create(Files.createDirectory(dir.resolve("run-ca")), "pccl-run-ca");
        }
        return runCa;
    }

    /** The run CA's certificate named {@code name}, issued once (keytool is slow). */
    private static synchronized ThrowawayPki.PemFiles named(final String name) throws IOException {
        ThrowawayPki.PemFiles f = NAMED.get(name);
        if (f == null) {
            f = runCa().issue(name);
            NAMED.put(name, f);
        }
        return f;
    }

    @BeforeAll
    static void makeCertificates() throws IOException {
        ours = ThrowawayPki.create(Files.createDirectory(dir.resolve("ours")), "pccl-test");
        theirs = ThrowawayPki.create(Files.createDirectory(dir.resolve("theirs")), "pccl-stranger");
    }

    private static Master.Builder master() {
        return Master.builder().host(LOOPBACK).port(0).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3));
    }

    private static Master.Builder tls(final Master.Builder b, final ThrowawayPki.PemFiles f) {
        return b.tls(f.certificateChain(), f.privateKey(), f.trustedCertificates());
    }

    private static Communicator.Builder tls(final Communicator.Builder b, final ThrowawayPki.PemFiles f) {
        return b.tls(f.certificateChain(), f.privateKey(), f.trustedCertificates());
    }

    private static Communicator peer(final Master master, final UnaryOperator<Communicator.Builder> tune) {
        return tune.apply(Communicator.builder().masterAddress(LOOPBACK + ":" + master.port()).peerBasePort(0)
                .bindHost(LOOPBACK).connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(BOUND_S))
                .topologyTimeout(Duration.ofSeconds(BOUND_S)).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3))).build();
    }

    @Test
    void shouldUseEveryKindOfConnectionOverTlsAndRefusePlainOnes() throws Exception {
        final byte[] key = "a-key-proved-inside-tls".getBytes(StandardCharsets.UTF_8);
        try (AllReduceCluster cluster = AllReduceCluster.start(tls(master(), ours).authKey(key).build().start(), 3,
                b -> tls(b, ours).authKey(key).benchmarkDuration(Duration.ofMillis(100)))) {
            final List<Communicator> peers = cluster.peers();
            final ExecutorService pool = cluster.pool();

            // ring data, out of place and in place, several slices per chunk
            for (boolean inPlace : new boolean[] {false, true}) {
                final List<Future<float[]>> sums = new ArrayList<>();
                for (int i = 0; i < peers.size(); i++) {
                    final Communicator c = peers.get(i);
                    final float[] send = new float[COUNT];
                    for (int j = 0; j < COUNT; j++) {
                        send[j] = (i + 1) * (j % 1000);
                    }
                    final float[] recv = inPlace ? send : new float[COUNT];
                    sums.add(pool.submit(() -> {
                        c.allReduce(send, recv, ReduceDescriptor.of(COUNT, DataType.FLOAT32, ReduceOp.SUM).tag(1));
                        return recv;
                    }));
                }
                final float[] expected = new float[COUNT];
                for (int j = 0; j < COUNT; j++) {
                    expected[j] = 6f * (j % 1000);
                }
                for (Future<float[]> f : sums) {
                    assertArrayEquals(expected, f.get(BOUND_S, TimeUnit.SECONDS), "in place: " + inPlace);
                }
            }

            // a shared-state fetch: the third peer holds other content and receives the popular one
            final List<Future<SyncInfo>> syncs = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                final Communicator c = peers.get(i);
                final float[] w = new float[65536];
                java.util.Arrays.fill(w, i == 2 ? 9f : 3f);
                final SharedState s = SharedState.builder().entry("w", w).build();
                syncs.add(pool.submit(() -> c.syncSharedState(s, SyncStrategy.ENFORCE_POPULAR)));
            }
            assertEquals(65536L * 4, syncs.get(2).get(BOUND_S, TimeUnit.SECONDS).rxBytes());
            assertEquals(0, syncs.get(0).get(BOUND_S, TimeUnit.SECONDS).rxBytes());
            assertEquals(0, syncs.get(1).get(BOUND_S, TimeUnit.SECONDS).rxBytes());

            // bandwidth measurements
            final List<Future<OptimizeInfo>> optimize = new ArrayList<>();
            for (Communicator c : peers) {
                optimize.add(pool.submit(c::optimizeTopology));
            }
            for (Future<OptimizeInfo> f : optimize) {
                assertTrue(f.get(BOUND_S, TimeUnit.SECONDS).bottleneckMbitPerS() > 0);
            }

            // a plain connection to a peer's port gets a plain refusal naming the requirement
            final Envelope refusal = plainHello(peers.get(0).session().listenPort());
            assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, refusal.getError().getCode());
            assertTrue(refusal.getError().getReason().startsWith("TLS required"), refusal.toString());
        }
    }

    private static Envelope plainHello(final int port) throws IOException {
        try (Socket s = new Socket(LOOPBACK, port)) {
            s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(BOUND_S));
            final byte[] hello = Envelopes.hello(ConnectionRole.ROLE_SHARED_STATE, 99, 0, 0).toByteArray();
            s.getOutputStream().write(ByteBuffer.allocate(4 + hello.length).putInt(hello.length).put(hello).array());
            s.getOutputStream().flush();
            final DataInputStream in = new DataInputStream(s.getInputStream());
            final byte[] body = new byte[in.readInt()];
            in.readFully(body);
            return Envelope.parseFrom(body);
        }
    }

    private static void assertUnauthenticated(final Master master, final UnaryOperator<Communicator.Builder> tune,
                                              final String message) {
        try (Communicator c = peer(master, tune)) {
            final PcclException e = assertThrows(PcclException.class, c::connect);
            assertEquals(PcclException.Code.UNAUTHENTICATED, e.code(), e::toString);
            assertFalse(e.isRetryable());
            assertTrue(e.getMessage().contains(message), e.getMessage());
        }
    }

    @Test
    void shouldFailConnectAtOnceWithUnauthenticatedWhenOnlyOneSideUsesTlsOrTheCasDiffer() {
        try (Master master = tls(master(), ours).build().start()) {
            assertUnauthenticated(master, b -> b, "TLS required");
            assertUnauthenticated(master, b -> tls(b, theirs), "TLS with master at " + LOOPBACK);
        }
        try (Master plain = master().build().start()) {
            assertUnauthenticated(plain, b -> tls(b, ours), "does not speak TLS");
        }
    }

    /** At its connection limit the master refuses inside TLS; the peer gets a retryable loss naming the limit. */
    @Test
    void shouldReportAConnectionLimitRefusalOverTlsAsAMasterLoss() throws Exception {
        try (Master master = tls(master(), ours).maxConnections(1).build().start();
             Communicator first = peer(master, b -> tls(b, ours));
             Communicator second = peer(master, b -> tls(b, ours))) {
            first.connect();
            final PcclException e = assertThrows(PcclException.class, second::connect);
            assertTrue(e instanceof MasterLostException, e::toString);
            assertTrue(e.isRetryable());
            assertTrue(e.getMessage().contains("connection limit"), e.getMessage());
        }
    }

    @Test
    void shouldRejectUnusableFilesNamingThem() {
        final Path missing = dir.resolve("missing-key.pem");
        final PcclException e = assertThrows(PcclException.class, () -> Communicator.builder()
                .tls(ours.certificateChain(), missing, ours.trustedCertificates()));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code());
        assertEquals("tls: TLS private key file " + missing + " does not exist or is not a readable file",
                e.getMessage());
    }

    /**
     * Step 1 of moving a live run to a new CA (docs/operations.md, "Rotating certificates"): the master and the
     * peers' trust files gain the new CA and are reloaded while the ring runs; then a newcomer with a certificate of
     * the new CA joins and all-reduces with them.
     */
    @Test
    void shouldAdmitAPeerOfANewCaOnceTheTrustFilesWereReloaded() throws Exception {
        final Path rot = Files.createDirectory(dir.resolve("rotating"));
        final Path trust = rot.resolve("trust.pem");
        Files.copy(ours.trustedCertificates(), trust);
        final UnaryOperator<Communicator.Builder> old = b -> b.tls(ours.certificateChain(), ours.privateKey(), trust)
                .tlsReloadInterval(Duration.ZERO);
        final Master master = master().tls(ours.certificateChain(), ours.privateKey(), trust)
                .tlsReloadInterval(Duration.ZERO).metricsPort(0).build().start();
        try (AllReduceCluster cluster = AllReduceCluster.start(master, 2, b -> old.apply(b).metricsPort(0))) {
            // the certificate's expiry, for alerts before it
            final long notAfter = ((java.security.cert.X509Certificate) java.security.cert.CertificateFactory
                    .getInstance("X.509").generateCertificate(Files.newInputStream(ours.certificateChain())))
                    .getNotAfter().toInstant().getEpochSecond();
            final MetricsScrape http = new MetricsScrape();
            assertEquals((double) notAfter, http.samples(master.metricsPort())
                    .get("pccl_master_tls_certificate_expiry_timestamp_seconds"));
            assertEquals((double) notAfter, http.samples(cluster.peers().get(0).metricsPort())
                    .get("pccl_peer_tls_certificate_expiry_timestamp_seconds"));

            assertFalse(master.reloadTls(), "nothing changed yet");
            Files.write(trust, concat(ours.trustedCertificates(), theirs.trustedCertificates()));
            assertTrue(master.reloadTls());
            for (Communicator c : cluster.peers()) {
                assertTrue(c.reloadTls());
            }
            final Communicator newcomer = cluster.builder()
                    .tls(theirs.certificateChain(), theirs.privateKey(), trust).build();
            cluster.join(newcomer);
            assertEquals(3, cluster.peers().size());
            assertArrayEqualsOnAll(cluster, cluster.peers(), new int[] {6, 60});
        }
    }

    /**
     * Revoking one peer's certificate while the ring runs (docs/operations.md, "Revoking a certificate"): once the
     * master and the other peers reloaded the list, the revoked peer has lost the master, the others update the
     * topology without it and all-reduce exactly, and the revoked peer cannot connect again.
     */
    @Test
    void shouldCutOffAPeerWhoseCertificateWasRevokedWhileTheOthersGoOn() throws Exception {
        final ThrowawayPki.Authority ca = runCa();
        final ThrowawayPki.PemFiles m = named("master");
        final List<ThrowawayPki.PemFiles> files = List.of(named("alice"), named("bob"), named("carol"));
        final Path crl = dir.resolve("run-ca/crl-revoking.pem");
        ca.revocationList(crl);
        final Master master = master().tls(m.certificateChain(), m.privateKey(), m.trustedCertificates(), crl)
                .tlsReloadInterval(Duration.ZERO).metricsPort(0).build().start();
        try (AllReduceCluster cluster = AllReduceCluster.start(master, 0, b -> b)) {
            final List<Communicator.Builder> builders = new ArrayList<>();
            for (ThrowawayPki.PemFiles f : files) {
                builders.add(cluster.builder().tls(f.certificateChain(), f.privateKey(), f.trustedCertificates(), crl)
                        .tlsReloadInterval(Duration.ZERO).metricsPort(0));
                cluster.join(builders.get(builders.size() - 1).build());
            }
            final List<Communicator> all = List.copyOf(cluster.peers());
            assertArrayEqualsOnAll(cluster, all, new int[] {6, 60});
            final Communicator carol = all.get(2);
            // when the list is due to be replaced, for alerts before it goes stale
            final double due;
            try (java.io.InputStream in = Files.newInputStream(crl)) {
                due = ((java.security.cert.X509CRL) java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCRL(in)).getNextUpdate().toInstant().getEpochSecond();
            }
            final MetricsScrape http = new MetricsScrape();
            assertEquals(due, http.samples(master.metricsPort())
                    .get("pccl_master_tls_revocation_list_next_update_timestamp_seconds"));
            assertEquals(due, http.samples(all.get(0).metricsPort())
                    .get("pccl_peer_tls_revocation_list_next_update_timestamp_seconds"));

            ca.revocationList(crl, ThrowawayPki.Authority.leaf(files.get(2)));
            assertTrue(master.reloadTls());
            final List<Communicator> others = all.subList(0, 2);
            for (Communicator c : others) {
                assertTrue(c.reloadTls());
            }
            cluster.updateTopology(others);
            for (Communicator c : others) {
                assertEquals(2, c.peerGroupWorldSize());
            }
            assertArrayEqualsOnAll(cluster, others, new int[] {3, 30});

            final PcclException lost = assertThrows(PcclException.class, carol::updateTopology);
            assertTrue(lost instanceof MasterLostException, lost::toString);
            try (Communicator again = builders.get(2).build()) {
                final PcclException refused = assertThrows(PcclException.class, again::connect);
                assertEquals(PcclException.Code.UNAUTHENTICATED, refused.code(), refused::toString);
                if (io.pccl.transport.tls.TlsConfig.PROVIDER == io.netty.handler.ssl.SslProvider.OPENSSL) {
                    assertTrue(refused.getMessage().contains("CERTIFICATE_REVOKED"), refused.getMessage());
                }
            }
        }
    }

    /**
     * Peer ids are bound to certificates: a holder of another certificate of the deployment's CA who dials a peer's
     * port naming that peer's ring predecessor is refused with {@code ERROR_UNAUTHENTICATED}, and the ring goes on.
     */
    @Test
    void shouldRefuseARingConnectionThatClaimsAnotherPeersIdWithItsOwnCertificate() throws Exception {
        final ThrowawayPki.PemFiles m = named("master");
        final Master master = master().tls(m.certificateChain(), m.privateKey(), m.trustedCertificates()).build()
                .start();
        final io.netty.channel.EventLoopGroup loop = io.pccl.transport.netty.NettyTransport.newEventLoopGroup(1,
                "impostor");
        try (AllReduceCluster cluster = AllReduceCluster.start(master, 0, b -> b)) {
            for (String name : List.of("alice", "bob")) {
                final ThrowawayPki.PemFiles f = named(name);
                cluster.join(cluster.builder().tls(f.certificateChain(), f.privateKey(), f.trustedCertificates())
                        .build());
            }
            final Communicator alice = cluster.peers().get(0);
            final long predecessor = cluster.peers().get(1).peerId(); // W = 2: each is the other's predecessor
            final ThrowawayPki.PemFiles dave = named("dave");
            final io.pccl.transport.ConnectionSecurity daves = io.pccl.transport.ConnectionSecurity.of(null,
                    io.pccl.transport.tls.TlsConfig.fromPem(dave.certificateChain(), dave.privateKey(),
                            dave.trustedCertificates()));
            final Envelope answer = new io.pccl.transport.testing.HelloClient(loop, daves, LOOPBACK,
                    alice.session().listenPort(), TimeUnit.SECONDS.toNanos(BOUND_S),
                    Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, predecessor, 0, 2), null, (ctx, e) -> { })
                    .answer.get(BOUND_S, TimeUnit.SECONDS);
            assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, answer.getError().getCode(), answer::toString);
            assertTrue(answer.getError().getReason().startsWith("this connection presented the TLS certificate "
                    + "CN=dave (serial 0x") && answer.getError().getReason().endsWith(", not one of the subject peer "
                    + predecessor + " registered with at the master"), answer.getError().getReason());
            assertArrayEqualsOnAll(cluster, cluster.peers(), new int[] {3, 30});
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** Every peer of {@code group} adds {i + 1, 10 (i + 1)} with tag 3; each must get {@code expected}. */
    private static void assertArrayEqualsOnAll(final AllReduceCluster cluster, final List<Communicator> group,
                                               final int[] expected) throws Exception {
        final List<Future<int[]>> sums = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            final Communicator c = group.get(i);
            final int[] v = {i + 1, 10 * (i + 1)};
            sums.add(cluster.pool().submit(() -> {
                c.allReduce(v, v, ReduceDescriptor.of(2, DataType.INT32, ReduceOp.SUM).tag(3));
                return v;
            }));
        }
        for (Future<int[]> f : sums) {
            assertArrayEquals(expected, f.get(BOUND_S, TimeUnit.SECONDS));
        }
    }

    private static byte[] concat(final Path a, final Path b) throws IOException {
        final byte[] x = Files.readAllBytes(a);
        final byte[] y = Files.readAllBytes(b);
        final byte[] both = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, both, x.length, y.length);
        return both;
    }
}
