package io.pccl.transport.tls;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.Envelopes;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.auth.AuthenticationFailedException;
import io.pccl.transport.auth.SharedKey;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;
import io.pccl.transport.testing.HelloClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ConnectionSecurity} with TLS over loopback TCP, between a minimal server (answers a hello with a hello-ack)
 * and a client; certificates from two throwaway CAs made by {@link ThrowawayPki}: the deployment's and a stranger's.
 */
@Timeout(60)
class TlsConnectionTest {
    private static final long HANDSHAKE_NS = TimeUnit.SECONDS.toNanos(10);
    private static final SharedKey KEY = SharedKey.of("0123456789abcdef0123".getBytes(StandardCharsets.US_ASCII));

    @TempDir
    static Path dir;
    private static TlsConfig deployment;
    private static TlsConfig stranger;
    /** Presents the deployment's certificate but trusts only the stranger's CA. */
    private static TlsConfig distrustful;
    private static EventLoopGroup group;

    @BeforeAll
    static void setUp() throws IOException {
        final ThrowawayPki.PemFiles ours = ThrowawayPki.create(Files.createDirectory(dir.resolve("ours")), "pccl-ours");
        final ThrowawayPki.PemFiles theirs = ThrowawayPki.create(Files.createDirectory(dir.resolve("theirs")),
                "pccl-theirs");
        deployment = TlsConfig.fromPem(ours.certificateChain(), ours.privateKey(), ours.trustedCertificates());
        stranger = TlsConfig.fromPem(theirs.certificateChain(), theirs.privateKey(), theirs.trustedCertificates());
        distrustful = TlsConfig.fromPem(ours.certificateChain(), ours.privateKey(), theirs.trustedCertificates());
        group = NettyTransport.newEventLoopGroup(2, "tls-test");
    }

    @AfterAll
    static void tearDown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * A server that answers every hello with a hello-ack, or, with a refusal, answers every connection at once with
     * a plain {@code ERROR_RESOURCE_EXHAUSTED} before any handshake (as a peer port at its limit does); what it saw
     * is kept for the test.
     */
    private static final class Server implements AutoCloseable {
        final Channel channel;
        final CompletableFuture<Channel> accepted = new CompletableFuture<>();
        /** Completes when the protocol handler of an accepted connection saw it end (an exception or the close). */
        final CompletableFuture<Void> protocolSawEnd = new CompletableFuture<>();
        final LogThrottle failures = new LogThrottle();

        Server(final ConnectionSecurity security) {
            this(security, null);
        }

        Server(final ConnectionSecurity security, final String refusal) {
            channel = new ServerBootstrap().group(group).channel(NettyTransport.serverChannelClass())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(final Channel ch) {
                            ControlPipeline.install(ch.pipeline());
                            ch.pipeline().addLast(new SimpleChannelInboundHandler<Envelope>() {
                                @Override
                                public void channelActive(final ChannelHandlerContext ctx) {
                                    if (refusal != null) {
                                        ctx.writeAndFlush(Envelopes.error(ErrorCode.ERROR_RESOURCE_EXHAUSTED,
                                                refusal));
                                    }
                                    ctx.fireChannelActive();
                                }

                                @Override
                                protected void channelRead0(final ChannelHandlerContext ctx, final Envelope e) {
                                    accepted.complete(ctx.channel());
                                    ctx.writeAndFlush(Envelopes.helloAck(7));
                                }

                                @Override
                                public void channelInactive(final ChannelHandlerContext ctx) {
                                    protocolSawEnd.complete(null);
                                    ctx.fireChannelInactive();
                                }

                                @Override
                                public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
                                    protocolSawEnd.complete(null);
                                    // as the master and the peer port answer a malformed frame
                                    ctx.writeAndFlush(Envelopes.error(ErrorCode.ERROR_PROTOCOL_VIOLATION,
                                            cause.getMessage())).addListener(f -> ctx.close());
                                }
                            });
                            if (refusal == null) {
                                security.installAcceptor(ch.pipeline(), HANDSHAKE_NS, failures);
                            }
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
        }

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
        }
    }

    /** Dials {@code port}, sends a hello and completes with the first envelope or failure. */
    private static CompletableFuture<Envelope> hello(final ConnectionSecurity security, final int port) {
        return hello(security, port, HANDSHAKE_NS);
    }

    private static CompletableFuture<Envelope> hello(final ConnectionSecurity security, final int port,
                                                     final long handshakeNs) {
        return client(security, port, handshakeNs, (ctx, e) -> { }).answer;
    }

    /** A client that sends a peer-to-master hello: {@link HelloClient}. */
    private static HelloClient client(final ConnectionSecurity security, final int port, final long handshakeNs,
                                      final BiConsumer<ChannelHandlerContext, Envelope> onAnswer) {
        return new HelloClient(group, security, "127.0.0.1", port, handshakeNs,
                Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0), null, onAnswer);
    }

    private static Throwable failure(final CompletableFuture<Envelope> f) {
        final Throwable t = assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
        return t.getCause();
    }

    @Test
    void bothSidesWithTheDeploymentsCertificatesTalkTls13AndSeeEachOthersCertificate() throws Exception {
        try (Server server = new Server(ConnectionSecurity.of(null, deployment))) {
            final Envelope ack = hello(ConnectionSecurity.of(null, deployment), server.port())
                    .get(30, TimeUnit.SECONDS);
            assertTrue(ack.hasHelloAck(), ack.toString());
            final SslHandler tls = server.accepted.get(30, TimeUnit.SECONDS).pipeline().get(SslHandler.class);
            assertNotNull(tls, "the accepted connection runs through TLS");
            assertEquals(TlsConfig.PROTOCOL, tls.engine().getSession().getProtocol());
            final X509Certificate client = (X509Certificate) tls.engine().getSession().getPeerCertificates()[0];
            assertEquals("CN=pccl-ours", client.getSubjectX500Principal().getName());
            assertEquals("CN=pccl-ours (serial 0x" + client.getSerialNumber().toString(16) + ")",
                    TlsConfig.describeOtherSide(server.accepted.get()));
            assertEquals(0, server.failures.events());
        }
    }

    /** A process where BoringSSL does not load falls back to the JDK's engine; both kinds interoperate. */
    @Test
    void theJdkEngineAndTheDefaultEngineTalkToEachOtherBothWays() throws Exception {
        final Path d = dir.resolve("ours");
        final TlsConfig jdk = TlsConfig.fromPem(d.resolve("node-chain.pem"), d.resolve("node-key.pem"),
                d.resolve("ca.pem"), null, SslProvider.JDK);
        System.out.println("default TLS engine: " + TlsConfig.PROVIDER);
        for (TlsConfig[] pair : new TlsConfig[][] {{jdk, deployment}, {deployment, jdk}, {jdk, jdk}}) {
            try (Server server = new Server(ConnectionSecurity.of(null, pair[0]))) {
                assertTrue(hello(ConnectionSecurity.of(null, pair[1]), server.port()).get(30, TimeUnit.SECONDS)
                        .hasHelloAck(), pair[0] + " serving " + pair[1]);
                assertEquals(TlsConfig.PROTOCOL, server.accepted.get(30, TimeUnit.SECONDS).pipeline()
                        .get(SslHandler.class).engine().getSession().getProtocol());
            }
        }
    }

    @Test
    void theKeyIsProvedInsideTls() throws Exception {
        final SharedKey other = SharedKey.of("another key, 20 bytes".getBytes(StandardCharsets.US_ASCII));
        try (Server server = new Server(ConnectionSecurity.of(KEY, deployment))) {
            assertTrue(hello(ConnectionSecurity.of(KEY, deployment), server.port()).get(30, TimeUnit.SECONDS)
                    .hasHelloAck());
            final Throwable wrongKey = failure(hello(ConnectionSecurity.of(other, deployment), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, wrongKey);
            assertTrue(wrongKey.getMessage().contains("different keys"), wrongKey.getMessage());
        }
    }

    @Test
    void aClientThatDoesNotTrustTheServersCaFailsNamingTheServer() throws Exception {
        try (Server server = new Server(ConnectionSecurity.of(null, deployment))) {
            final Throwable t = failure(hello(ConnectionSecurity.of(null, distrustful), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, t);
            assertTrue(t.getMessage().startsWith("TLS with test server failed: "), t.getMessage());
            assertTrue(t.getMessage().contains("signed by a CA the other side trusts"), t.getMessage());
            assertFalse(server.accepted.isDone(), "nothing reached the server's protocol");
        }
    }

    @Test
    void aServerThatDoesNotTrustTheClientsCertificateRefusesItAndTheClientLearnsSo() throws Exception {
        try (Server server = new Server(ConnectionSecurity.of(null, deployment))) {
            // The stranger's client trusts our CA too (it has both CAs' roots): only the server side refuses.
            final Path bothRoots = dir.resolve("both-roots.pem");
            Files.writeString(bothRoots, Files.readString(dir.resolve("ours/ca.pem"))
                    + Files.readString(dir.resolve("theirs/ca.pem")));
            final TlsConfig client = TlsConfig.fromPem(dir.resolve("theirs/node-chain.pem"),
                    dir.resolve("theirs/node-key.pem"), bothRoots);
            final Throwable t = failure(hello(ConnectionSecurity.of(null, client), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, t);
            assertTrue(t.getMessage().startsWith("TLS with test server failed: "), t.getMessage());
            assertFalse(server.accepted.isDone(), "nothing reached the server's protocol");
            assertTrue(server.failures.events() >= 1, "the server counted the refused handshake");
        }
    }

    @Test
    void aPlainConnectionHasNoCertificateToDescribe() throws Exception {
        try (Server server = new Server(ConnectionSecurity.NONE)) {
            assertTrue(hello(ConnectionSecurity.NONE, server.port()).get(30, TimeUnit.SECONDS).hasHelloAck());
            assertEquals(null, TlsConfig.describeOtherSide(server.accepted.get()));
        }
    }

    @Test
    void aPlainClientGetsAPlainErrorNamingTheTlsRequirement() throws Exception {
        try (Server server = new Server(ConnectionSecurity.of(null, deployment))) {
            final Envelope answer = hello(ConnectionSecurity.NONE, server.port()).get(30, TimeUnit.SECONDS);
            assertTrue(answer.hasError(), answer.toString());
            assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, answer.getError().getCode());
            assertTrue(answer.getError().getReason().startsWith("TLS required: "), answer.getError().getReason());
            assertEquals(1, server.failures.events());
        }
    }

    @Test
    void aTlsClientOfAPlainServerFailsSayingItDoesNotSpeakTls() throws Exception {
        try (Server server = new Server(ConnectionSecurity.NONE)) {
            final Throwable t = failure(hello(ConnectionSecurity.of(null, deployment), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, t);
            assertTrue(t.getMessage().startsWith("test server does not speak TLS"), t.getMessage());
        }
        try (Server keyed = new Server(ConnectionSecurity.of(KEY, null))) {
            final Throwable t = failure(hello(ConnectionSecurity.of(KEY, deployment), keyed.port()));
            assertInstanceOf(AuthenticationFailedException.class, t);
            assertTrue(t.getMessage().contains("does not speak TLS") && t.getMessage().contains("it answered: "),
                    t.getMessage());
        }
    }

    @Test
    void aPlainRefusalAboutALimitReachesTheProtocolHandlerAsAnError() throws Exception {
        try (Server limited = new Server(ConnectionSecurity.NONE, "test port holds 0 connections at most")) {
            final Envelope answer = hello(ConnectionSecurity.of(KEY, deployment), limited.port())
                    .get(30, TimeUnit.SECONDS);
            assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, answer.getError().getCode());
            assertEquals("test port holds 0 connections at most", answer.getError().getReason());
        }
    }

    /**
     * Hostile bytes that look like TLS (a whole record of garbage, or a record length beyond TLS's limit) end that
     * connection only, at once: the server refuses it and goes on serving (seed printed). (A record cut short waits
     * for the rest until the handshake's bound, as any slow sender's would.)
     */
    @Test
    void tlsLookingGarbageEndsOnlyThatConnection() throws Exception {
        final long seed = 20261129L;
        System.out.println("TlsConnectionTest garbage seed " + seed);
        final java.util.Random random = new java.util.Random(seed);
        try (Server server = new Server(ConnectionSecurity.of(null, deployment))) {
            for (int round = 0; round < 8; round++) {
                final byte[] bytes = new byte[64 + random.nextInt(4096)];
                random.nextBytes(bytes);
                bytes[0] = 0x16; // handshake record
                bytes[1] = 0x03;
                bytes[2] = 0x03;
                final int length = round % 2 == 0 ? 0xffff : bytes.length - 5; // beyond TLS's limit, or complete
                bytes[3] = (byte) (length >>> 8);
                bytes[4] = (byte) length;
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
                    s.setSoTimeout(30_000);
                    s.getOutputStream().write(bytes);
                    s.getOutputStream().flush();
                    final java.io.InputStream in = s.getInputStream();
                    int read;
                    try {
                        do {
                            read = in.read(new byte[1024]);
                        } while (read > 0);
                    } catch (java.net.SocketException reset) {
                        read = -1; // closed with our bytes unread: a reset is a close too
                    }
                    assertEquals(-1, read, "round " + round + ": the server closed the connection");
                }
            }
            assertFalse(server.accepted.isDone(), "nothing reached the server's protocol");
            assertTrue(hello(ConnectionSecurity.of(null, deployment), server.port()).get(30, TimeUnit.SECONDS)
                    .hasHelloAck(), "the server still serves");
        }
    }

    /**
     * A forged record after the handshake and some data (written past the client's {@code SslHandler}) ends the
     * connection, which the server's protocol handler sees end (how: an exception or only the close, depends on
     * the engine); it is not counted or logged as a refused handshake.
     */
    @Test
    void aForgedRecordAfterDataEndsTheConnectionWithoutCountingAsARefusedHandshake() throws Exception {
        final Path d = dir.resolve("ours");
        final TlsConfig jdk = TlsConfig.fromPem(d.resolve("node-chain.pem"), d.resolve("node-key.pem"),
                d.resolve("ca.pem"), null, SslProvider.JDK);
        for (TlsConfig serverTls : new TlsConfig[] {deployment, jdk}) {
            forgeAfterData(serverTls);
        }
    }

    private static void forgeAfterData(final TlsConfig serverTls) throws Exception {
        try (Server server = new Server(ConnectionSecurity.of(null, serverTls))) {
            final HelloClient client = client(ConnectionSecurity.of(null, deployment), server.port(), HANDSHAKE_NS,
                    (ctx, e) -> {
                        final byte[] record = new byte[5 + 64];
                        new java.util.Random(20261129L).nextBytes(record);
                        record[0] = 0x17; // application data, with a MAC that cannot match
                        record[1] = 0x03;
                        record[2] = 0x03;
                        record[3] = 0;
                        record[4] = 64;
                        // written past the client's SslHandler, straight to the socket
                        ctx.pipeline().context(TlsConfig.HANDLER_NAME)
                                .writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(record));
                    });
            assertTrue(client.answer.get(30, TimeUnit.SECONDS).hasHelloAck());
            client.closed.get(30, TimeUnit.SECONDS);
            server.protocolSawEnd.get(30, TimeUnit.SECONDS);
            assertTrue(server.accepted.isDone(), "the hello had reached the server's protocol");
            assertEquals(0, server.failures.events(), "not counted as a refused handshake");
        }
    }

    /** A side that closes or stalls mid-handshake is a lost connection (retryable), not a certificate verdict. */
    @Test
    void aServerThatClosesOrStallsDuringTheHandshakeIsALostConnection() throws Exception {
        for (boolean close : new boolean[] {true, false}) {
            final Channel server = new ServerBootstrap().group(group).channel(NettyTransport.serverChannelClass())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(final Channel ch) {
                            if (close) {
                                ch.close();
                            }
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
            try {
                final Throwable t = failure(hello(ConnectionSecurity.of(null, deployment),
                        ((InetSocketAddress) server.localAddress()).getPort(), TimeUnit.MILLISECONDS.toNanos(300)));
                assertFalse(t instanceof AuthenticationFailedException, t::toString);
                if (!close) {
                    assertTrue(t.toString().contains("timed out"), t::toString);
                }
            } finally {
                server.close().syncUninterruptibly();
            }
        }
    }

    @Test
    void unusableFilesAreRejectedNamingTheFile() throws Exception {
        final Path missing = dir.resolve("missing.pem");
        final IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(missing, dir.resolve("ours/node-key.pem"), dir.resolve("ours/ca.pem")));
        assertEquals("TLS certificate chain file " + missing + " does not exist or is not a readable file",
                none.getMessage());
        final Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "not a certificate\n");
        final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(dir.resolve("ours/node-chain.pem"), garbage, dir.resolve("ours/ca.pem")));
        assertTrue(bad.getMessage().startsWith("cannot use the TLS files (certificate chain ")
                && bad.getMessage().contains("private key " + garbage), bad.getMessage());
    }

    @Test
    void aKeyThatDoesNotBelongToTheCertificateIsRefusedAtOnce() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(dir.resolve("ours/node-chain.pem"), dir.resolve("theirs/node-key.pem"),
                        dir.resolve("ours/ca.pem")));
        assertTrue(e.getMessage().contains("private key " + dir.resolve("theirs/node-key.pem"))
                && e.getMessage().contains("does not belong to the certificate"), e.getMessage());
    }

    /**
     * Rotation without a restart: the server's files are replaced by the stranger's (certificate, key and trusted
     * CA); a rotation caught halfway is refused and changes nothing; once complete, new connections use the new
     * files while the connection opened before goes on working.
     */
    @Test
    void reloadMakesNewConnectionsUseChangedFilesAndLeavesOpenOnesAlone() throws Exception {
        final Path rot = Files.createDirectory(dir.resolve("rotating"));
        final Path chain = rot.resolve("chain.pem");
        final Path key = rot.resolve("key.pem");
        final Path trust = rot.resolve("trust.pem");
        copy(dir.resolve("ours/node-chain.pem"), chain);
        copy(dir.resolve("ours/node-key.pem"), key);
        copy(dir.resolve("ours/ca.pem"), trust);
        final TlsConfig serverTls = TlsConfig.fromPem(chain, key, trust);
        try (Server server = new Server(ConnectionSecurity.of(null, serverTls))) {
            final HelloClient before = client(ConnectionSecurity.of(null, deployment), server.port(), HANDSHAKE_NS,
                    (ctx, e) -> { });
            assertTrue(before.answer.get(30, TimeUnit.SECONDS).hasHelloAck());
            assertFalse(serverTls.reload(), "nothing changed");

            copy(dir.resolve("theirs/node-chain.pem"), chain); // halfway: the new certificate, the old key
            final IllegalArgumentException halfway = assertThrows(IllegalArgumentException.class, serverTls::reload);
            assertTrue(halfway.getMessage().contains("does not belong"), halfway.getMessage());
            assertTrue(hello(ConnectionSecurity.of(null, deployment), server.port()).get(30, TimeUnit.SECONDS)
                    .hasHelloAck(), "the files in use stay in use");

            copy(dir.resolve("theirs/node-key.pem"), key);
            copy(dir.resolve("theirs/ca.pem"), trust);
            assertTrue(serverTls.reload());
            assertTrue(hello(ConnectionSecurity.of(null, stranger), server.port()).get(30, TimeUnit.SECONDS)
                    .hasHelloAck(), "a client of the new CA is admitted");
            final Throwable refused = failure(hello(ConnectionSecurity.of(null, deployment), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, refused);

            assertStillAnswers(before, "the connection opened before the rotation");
        }
    }

    /** {@code client}'s open connection answers another hello (its first answer is consumed first). */
    private static void assertStillAnswers(final HelloClient client, final String what) throws Exception {
        client.channel.writeAndFlush(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        assertEquals(client.answer.get(), client.received.poll(30, TimeUnit.SECONDS));
        final Envelope again = client.received.poll(30, TimeUnit.SECONDS);
        assertNotNull(again, what + " still answers");
        assertTrue(again.hasHelloAck(), again.toString());
        assertFalse(client.closed.isDone());
    }

    /**
     * A CA that keeps its key, certificates of its own for three processes (made once for the class: keytool is
     * slow), and a revocation list file of the test's own.
     */
    private static final class Revocable {
        /** The CA and certificates every test shares; made by the first. */
        private static Revocable shared;
        final ThrowawayPki.Authority ca;
        final ThrowawayPki.PemFiles alice;
        final ThrowawayPki.PemFiles bob;
        final ThrowawayPki.PemFiles carol;
        final Path crl;

        private Revocable(final ThrowawayPki.Authority ca, final ThrowawayPki.PemFiles alice,
                          final ThrowawayPki.PemFiles bob, final ThrowawayPki.PemFiles carol, final Path crl) {
            this.ca = ca;
            this.alice = alice;
            this.bob = bob;
            this.carol = carol;
            this.crl = crl;
        }

        /** The shared CA and certificates, with the revocation list file {@code NAME.pem} (not written yet). */
        static synchronized Revocable withList(final String name) throws IOException {
            if (shared == null) {
                final Path d = Files.createDirectory(dir.resolve("revocable"));
                final ThrowawayPki.Authority ca = ThrowawayPki.Authority.create(d, "pccl-revocable-ca");
                shared = new Revocable(ca, ca.issue("alice"), ca.issue("bob"), ca.issue("carol"), null);
            }
            return new Revocable(shared.ca, shared.alice, shared.bob, shared.carol,
                    shared.alice.certificateChain().resolveSibling(name + ".pem"));
        }

        TlsConfig tls(final ThrowawayPki.PemFiles who, final SslProvider provider) {
            return TlsConfig.fromPem(who.certificateChain(), who.privateKey(), who.trustedCertificates(), crl,
                    provider);
        }

        TlsConfig tls(final ThrowawayPki.PemFiles who) {
            return tls(who, TlsConfig.PROVIDER);
        }
    }

    /**
     * A certificate on the revocation list is refused whichever end presents it, by both engines: a revoked client
     * learns that its certificate was revoked, a server's refusal is counted; the list's other certificates pass.
     */
    @Test
    void aRevokedCertificateIsRefusedAtEitherEndByBothEngines() throws Exception {
        final Revocable pki = Revocable.withList("crl-handshake");
        pki.ca.revocationList(pki.crl, ThrowawayPki.Authority.leaf(pki.bob));
        for (SslProvider provider : new SslProvider[] {TlsConfig.PROVIDER, SslProvider.JDK}) {
            try (Server server = new Server(ConnectionSecurity.of(null, pki.tls(pki.alice, provider)))) {
                final Throwable t = failure(hello(ConnectionSecurity.of(null, pki.tls(pki.bob, provider)),
                        server.port()));
                System.out.println(provider + ", revoked client: " + t.getMessage());
                assertInstanceOf(AuthenticationFailedException.class, t);
                // BoringSSL sends the "certificate revoked" alert; the JDK's engine sends "certificate unknown" for
                // every refused client certificate.
                assertTrue(t.getMessage().contains(provider == SslProvider.JDK ? "certificate_unknown"
                        : "CERTIFICATE_REVOKED"), t.getMessage());
                assertFalse(server.accepted.isDone(), "nothing reached the server's protocol");
                assertEquals(1, server.failures.events(), "the server counted the refused handshake");
                assertTrue(hello(ConnectionSecurity.of(null, pki.tls(pki.carol, provider)), server.port())
                        .get(30, TimeUnit.SECONDS).hasHelloAck(), "a certificate not on the list passes");
            }
            try (Server revokedServer = new Server(ConnectionSecurity.of(null, pki.tls(pki.bob, provider)))) {
                final Throwable t = failure(hello(ConnectionSecurity.of(null, pki.tls(pki.alice, provider)),
                        revokedServer.port()));
                System.out.println(provider + ", revoked server: " + t.getMessage());
                assertInstanceOf(AuthenticationFailedException.class, t);
                assertTrue(t.getMessage().startsWith("TLS with test server failed: ")
                        && t.getMessage().contains("certificate CN=bob (serial 0x"), t.getMessage());
                assertFalse(revokedServer.accepted.isDone(), "nothing reached the revoked server's protocol");
            }
        }
    }

    /**
     * A dialer told the subject of the certificate the other side registered with (a ring successor, as the master
     * reports it) refuses a certificate of another subject, though the deployment's CA signed it: the message names
     * what was presented. A renewed certificate of the same subject passes.
     */
    @Test
    void aDialerThatExpectsOneSubjectRefusesAnotherOfTheSameCa() throws Exception {
        final Revocable pki = Revocable.withList("crl-identity");
        pki.ca.revocationList(pki.crl);
        final javax.security.auth.x500.X500Principal bobs = ThrowawayPki.Authority.leaf(pki.bob)
                .getSubjectX500Principal();
        final javax.security.auth.x500.X500Principal carols = ThrowawayPki.Authority.leaf(pki.carol)
                .getSubjectX500Principal();
        for (SslProvider provider : new SslProvider[] {TlsConfig.PROVIDER, SslProvider.JDK}) {
            try (Server server = new Server(ConnectionSecurity.of(null, pki.tls(pki.bob, provider)))) {
                final ConnectionSecurity alice = ConnectionSecurity.of(null, pki.tls(pki.alice, provider));
                final Envelope hello = Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 1, 0, 1);
                final CompletableFuture<Envelope> right = new HelloClient(group, alice, "127.0.0.1", server.port(),
                        HANDSHAKE_NS, hello, bobs, (ctx, e) -> { }).answer;
                final CompletableFuture<Envelope> wrong = new HelloClient(group, alice, "127.0.0.1", server.port(),
                        HANDSHAKE_NS, hello, carols, (ctx, e) -> { }).answer;
                assertTrue(right.get(30, TimeUnit.SECONDS).hasHelloAck(), provider + ": the expected certificate");
                final Throwable t = failure(wrong);
                assertInstanceOf(AuthenticationFailedException.class, t);
                assertTrue(t.getMessage().startsWith("TLS with test server failed: it presented the certificate "
                        + "CN=bob (serial 0x") && t.getMessage().contains("not one of the subject CN=carol that peer "
                        + "registered with at the master"), t.getMessage());
            }
        }
        // bob renewed: another key and certificate, the same subject
        final ThrowawayPki.PemFiles renewed = pki.ca.issue("bob", "bob-renewed");
        try (Server server = new Server(ConnectionSecurity.of(null, TlsConfig.fromPem(renewed.certificateChain(),
                renewed.privateKey(), renewed.trustedCertificates())))) {
            assertTrue(new HelloClient(group, ConnectionSecurity.of(null, pki.tls(pki.alice)), "127.0.0.1",
                    server.port(), HANDSHAKE_NS, Envelopes.hello(ConnectionRole.ROLE_P2P_DATA, 1, 0, 1), bobs,
                    (ctx, e) -> { }).answer.get(30, TimeUnit.SECONDS).hasHelloAck());
        }
    }

    /**
     * Revoking a certificate closes, at the next reload, the open connections whose other side presented it, on
     * whichever end reloads; the other open connections go on and new connections with it are refused.
     */
    @Test
    void reloadingARevocationListClosesTheOpenConnectionsOfTheRevokedCertificateOnly() throws Exception {
        final Revocable pki = Revocable.withList("crl-open");
        pki.ca.revocationList(pki.crl); // none revoked yet
        final TlsConfig serverTls = pki.tls(pki.alice);
        try (Server server = new Server(ConnectionSecurity.of(null, serverTls))) {
            final HelloClient bob = client(ConnectionSecurity.of(null, pki.tls(pki.bob)), server.port(), HANDSHAKE_NS,
                    (ctx, e) -> { });
            final HelloClient carol = client(ConnectionSecurity.of(null, pki.tls(pki.carol)), server.port(),
                    HANDSHAKE_NS, (ctx, e) -> { });
            assertTrue(bob.answer.get(30, TimeUnit.SECONDS).hasHelloAck());
            assertTrue(carol.answer.get(30, TimeUnit.SECONDS).hasHelloAck());
            assertEquals(2, serverTls.openConnections());
            assertFalse(serverTls.reload(), "nothing changed");

            pki.ca.revocationList(pki.crl, ThrowawayPki.Authority.leaf(pki.bob));
            assertTrue(serverTls.reload());
            bob.closed.get(30, TimeUnit.SECONDS);
            assertStillAnswers(carol, "carol's connection");
            final Throwable t = failure(hello(ConnectionSecurity.of(null, pki.tls(pki.bob)), server.port()));
            assertInstanceOf(AuthenticationFailedException.class, t);
            carol.channel.close();
        }
        // The dialing end's reload closes its connection to a server whose certificate was revoked since.
        final Path crl2 = pki.crl.resolveSibling("crl-dialer.pem");
        pki.ca.revocationList(crl2);
        final TlsConfig aliceDialing = TlsConfig.fromPem(pki.alice.certificateChain(), pki.alice.privateKey(),
                pki.alice.trustedCertificates(), crl2);
        try (Server bobServer = new Server(ConnectionSecurity.of(null, pki.tls(pki.bob)))) {
            final HelloClient alice = client(ConnectionSecurity.of(null, aliceDialing), bobServer.port(), HANDSHAKE_NS,
                    (ctx, e) -> { });
            assertTrue(alice.answer.get(30, TimeUnit.SECONDS).hasHelloAck());
            pki.ca.revocationList(crl2, ThrowawayPki.Authority.leaf(pki.bob));
            assertTrue(aliceDialing.reload());
            alice.closed.get(30, TimeUnit.SECONDS);
            bobServer.protocolSawEnd.get(30, TimeUnit.SECONDS);
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (serverTls.openConnections() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertEquals(0, serverTls.openConnections(), "closed connections are forgotten");
    }

    /**
     * A list past its next-update time still revokes what it lists; an empty file revokes nothing; a list the
     * trusted CA did not sign, or one that is not a CRL, is refused naming the file.
     */
    @Test
    void revocationListsAreCheckedWhenRead() throws Exception {
        final Revocable pki = Revocable.withList("crl-files");
        pki.ca.revocationList(pki.crl, -100, 10, ThrowawayPki.Authority.leaf(pki.bob)); // due 90 days ago
        try (Server server = new Server(ConnectionSecurity.of(null, pki.tls(pki.alice)))) {
            assertInstanceOf(AuthenticationFailedException.class,
                    failure(hello(ConnectionSecurity.of(null, pki.tls(pki.bob)), server.port())));
        }
        Files.writeString(pki.crl, "");
        assertFalse(pki.tls(pki.alice).reload(), "an empty file is a valid list that revokes nothing");
        try (Server server = new Server(ConnectionSecurity.of(null, pki.tls(pki.alice)))) {
            assertTrue(hello(ConnectionSecurity.of(null, pki.tls(pki.bob)), server.port()).get(30, TimeUnit.SECONDS)
                    .hasHelloAck());
        }
        // a CA of the same name but another key
        ThrowawayPki.Authority.create(Files.createDirectory(dir.resolve("impostor-ca")), "pccl-revocable-ca")
                .revocationList(pki.crl);
        final IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                () -> pki.tls(pki.alice));
        assertTrue(foreign.getMessage().contains("revocation list file " + pki.crl + ": the list issued by "
                + "CN=pccl-revocable-ca is not signed by any of the trusted certificates"), foreign.getMessage());
        Files.writeString(pki.crl, "not a list\n");
        final IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class,
                () -> pki.tls(pki.alice));
        assertTrue(garbage.getMessage().contains("revocation list file " + pki.crl + " is not a PEM or DER X.509 CRL"),
                garbage.getMessage());
        Files.delete(pki.crl);
        final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> pki.tls(pki.alice));
        assertEquals("TLS revocation list file " + pki.crl + " does not exist or is not a readable file",
                missing.getMessage());
    }

    @Test
    void scheduledReloadPicksUpChangedFiles() throws Exception {
        final Path rot = Files.createDirectory(dir.resolve("scheduled"));
        copy(dir.resolve("ours/node-chain.pem"), rot.resolve("chain.pem"));
        copy(dir.resolve("ours/node-key.pem"), rot.resolve("key.pem"));
        copy(dir.resolve("ours/ca.pem"), rot.resolve("trust.pem"));
        final TlsConfig tls = TlsConfig.fromPem(rot.resolve("chain.pem"), rot.resolve("key.pem"),
                rot.resolve("trust.pem"));
        final ScheduledFuture<?> schedule = tls.scheduleReload(group, TimeUnit.MILLISECONDS.toNanos(10), "test");
        try {
            copy(dir.resolve("theirs/ca.pem"), rot.resolve("trust.pem"));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (tls.generation() == 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            assertEquals(1, tls.generation(), "the schedule reloaded the changed trust file once");
        } finally {
            schedule.cancel(false);
        }
    }

    private static void copy(final Path from, final Path to) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
}
