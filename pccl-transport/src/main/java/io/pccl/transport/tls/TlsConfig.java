package io.pccl.transport.tls;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pccl.transport.LogThrottle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.security.auth.x500.X500Principal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Mutual TLS for every connection of a deployment: this side's certificate chain and private key, and the
 * certificates it trusts (the deployment's CA). Both ends of every connection present a certificate and check the
 * other's against their trusted certificates; only TLS 1.3 is offered.
 *
 * <p>Peers dial each other by the addresses the master reports, so host names are not checked: a certificate
 * signed by a trusted CA admits its holder to any role, as the shared key does (see {@code docs/protocol.md},
 * "Encryption (TLS)"). Give a deployment a CA of its own. Where the master reported the subject of the certificate
 * a peer registered with, a dialer can require that subject
 * ({@link #installDialer(ChannelPipeline, String, long, X500Principal)}, {@link #otherSideSubject}).
 *
 * <p>Files are PEM: an X.509 certificate chain (leaf first), an unencrypted PKCS#8 private key
 * ({@code -----BEGIN PRIVATE KEY-----}, RSA or EC), one or more trusted certificates, and optionally certificate
 * revocation lists of the trusted CAs ({@link RevocationList}). {@link #fromPem} reads them and checks that the key
 * belongs to the leaf certificate; {@link #reload} reads them again, and when they changed, new connections use the
 * new files (connections already open keep theirs, unless the other side's certificate is now revoked: those are
 * closed). {@link #scheduleReload} does that periodically, so certificates can be rotated and revoked without a
 * restart.
 *
 * <p>Thread-safe: the contexts are swapped atomically; Netty's contexts are shared by all connections.
 */
public final class TlsConfig {
    /** The only protocol offered and accepted. */
    public static final String PROTOCOL = "TLSv1.3";
    /**
     * BoringSSL (netty-tcnative) where its native library loads, the JDK's engine otherwise. BoringSSL encrypts and
     * decrypts several times faster per core (docs/benchmarks.md, "TLS"), and works on direct buffers.
     */
    public static final SslProvider PROVIDER = OpenSsl.isAvailable()
            && SslProvider.isTlsv13Supported(SslProvider.OPENSSL) ? SslProvider.OPENSSL : SslProvider.JDK;
    /** Pipeline name of the {@code SslHandler}; handlers that must see plain bytes go behind it. */
    public static final String HANDLER_NAME = "tls";
    static final String SNIFF_NAME = "tlsSniff";
    /** {@link #scheduleReload} warns once a day when the certificate expires in fewer days than this. */
    public static final int EXPIRY_WARNING_DAYS = 14;
    /** Largest PEM file read: certificate bundles are kilobytes; this bounds a wrong path (say, a disk image). */
    static final long MAX_FILE_BYTES = 1 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(TlsConfig.class);
    static final String FAILURE_NAME = "tlsFailure";

    private final Path certificateChain;
    private final Path privateKey;
    private final Path trustedCertificates;
    /** Null: no revocation list. */
    private final Path revocationList;
    private final SslProvider provider;
    /** The open connections set up by {@link #installDialer}/{@link #installAcceptor}, until they close. */
    private final Map<Channel, SslHandler> open = new ConcurrentHashMap<>();
    /** What new connections use: swapped by {@link #reload}. */
    private volatile Contexts contexts;
    /** Reloads that changed the contexts (tests). */
    private volatile long generation;

    /**
     * The contexts built from one reading of the files, the SHA-256 of those files (to see a change without keeping
     * the private key's bytes), when the leaf expires, and the revocation lists the contexts' trust manager uses.
     */
    private record Contexts(SslContext client, SslContext server, byte[] digest, Instant notAfter,
                            RevocationList revocations) {
    }

    /** The files' contents as read at once ({@code crl} empty when there is no revocation list). */
    private record PemBytes(byte[] chain, byte[] key, byte[] trusted, byte[] crl) {
        byte[] digest() {
            try {
                final MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (byte[] file : new byte[][] {chain, key, trusted, crl}) {
                    sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(0, file.length).array());
                    sha.update(file);
                }
                return sha.digest();
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
    }

    private TlsConfig(final Path certificateChain, final Path privateKey, final Path trustedCertificates,
                      final Path revocationList, final SslProvider provider) {
        this.certificateChain = certificateChain;
        this.privateKey = privateKey;
        this.trustedCertificates = trustedCertificates;
        this.revocationList = revocationList;
        this.provider = provider;
    }

    /**
     * Reads the three PEM files and builds the client and server contexts.
     *
     * @param certificateChain this side's certificate chain, leaf first
     * @param privateKey the leaf's private key, unencrypted PKCS#8
     * @param trustedCertificates the certificates whose holders (or whose signees) this side accepts
     * @return the configuration
     * @throws IllegalArgumentException naming the file and what is wrong with it (missing, unreadable, not PEM, or
     *         a key that does not belong to the certificate)
     */
    public static TlsConfig fromPem(final Path certificateChain, final Path privateKey,
                                    final Path trustedCertificates) {
        return fromPem(certificateChain, privateKey, trustedCertificates, null, PROVIDER);
    }

    /**
     * Reads the three PEM files and a revocation list, and builds the client and server contexts: a certificate
     * the list revokes is refused in every handshake, and once the list names the certificate of an open
     * connection's other side, {@link #reload} closes that connection.
     *
     * @param certificateChain this side's certificate chain, leaf first
     * @param privateKey the leaf's private key, unencrypted PKCS#8
     * @param trustedCertificates the certificates whose holders (or whose signees) this side accepts
     * @param revocationList CRLs (PEM or DER) of trusted CAs, each signed by one of the trusted certificates; an
     *        empty file revokes nothing; null for none
     * @return the configuration
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    public static TlsConfig fromPem(final Path certificateChain, final Path privateKey,
                                    final Path trustedCertificates, final Path revocationList) {
        return fromPem(certificateChain, privateKey, trustedCertificates, revocationList, PROVIDER);
    }

    /** {@link #fromPem(Path, Path, Path, Path)} with a chosen engine (tests: the JDK's, beside BoringSSL). */
    static TlsConfig fromPem(final Path certificateChain, final Path privateKey, final Path trustedCertificates,
                             final Path revocationList, final SslProvider provider) {
        Objects.requireNonNull(certificateChain, "certificate chain");
        Objects.requireNonNull(privateKey, "private key");
        Objects.requireNonNull(trustedCertificates, "trusted certificates");
        final TlsConfig config = new TlsConfig(certificateChain, privateKey, trustedCertificates, revocationList,
                provider);
        config.contexts = config.build(config.read());
        return config;
    }

    /**
     * Reads the files again; if their content changed, checks them and makes new connections use them. Connections
     * already open keep their certificates, but those whose other side's certificate the new revocation list names
     * are closed (on their event loops, soon after this returns), with a WARN line each. Serialized with other
     * reloads.
     *
     * @return whether the files changed (and are now in use)
     * @throws IllegalArgumentException naming the file and what is wrong with it; the files in use stay in use (a
     *         rotation caught halfway, say a new certificate beside the old key, is refused until it is complete)
     */
    public synchronized boolean reload() {
        final PemBytes now = read();
        if (MessageDigest.isEqual(now.digest(), contexts.digest())) {
            return false;
        }
        contexts = build(now);
        generation++;
        if (contexts.revocations().revokedCount() > 0) {
            open.forEach((channel, tls) -> {
                if (tls.handshakeFuture().isSuccess()) {
                    channel.eventLoop().execute(() -> closeIfRevoked(channel, tls));
                }
            });
        }
        return true;
    }

    /**
     * Closes {@code channel} when the other side's certificate chain is revoked by the revocation list in use now.
     * Runs on the channel's event loop: after its handshake (a reload may have come between the context's creation
     * and the handshake's end), and after a reload.
     */
    private void closeIfRevoked(final Channel channel, final SslHandler tls) {
        final Certificate[] theirs;
        try {
            theirs = tls.engine().getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return; // no verified chain (the connection is closing)
        }
        try {
            contexts.revocations().check(theirs);
        } catch (CertificateRevokedException e) {
            LOG.warn("closing the TLS connection {} -> {}: {}", channel.localAddress(), channel.remoteAddress(),
                    e.getMessage());
            channel.close();
        }
    }

    /**
     * When the certificate in use (the chain's first) expires: a metrics gauge, so that operators are warned before
     * it does ({@link #scheduleReload} also logs it during the last {@value #EXPIRY_WARNING_DAYS} days).
     *
     * @return the certificate's "not after" time
     */
    public Instant certificateNotAfter() {
        return contexts.notAfter();
    }

    /**
     * When the revocation list in use is due to be replaced (the earliest "next update" of its CRLs): a metrics
     * gauge, so that operators renew the list before {@link #scheduleReload} warns that it is stale.
     *
     * @return the time, or null when there is no list or none of its CRLs has a next-update time
     */
    public Instant revocationListNextUpdate() {
        return contexts.revocations().earliestNextUpdate();
    }

    /** Reloads that changed the files in use (tests). */
    long generation() {
        return generation;
    }

    /**
     * Calls {@link #reload} every {@code periodNs} on {@code executor}, logging what it did: a change at INFO, a
     * refused change at WARN (once per distinct reason, until the files change again or are fixed).
     *
     * @param executor runs the checks (an event loop of the owner; the check reads three small files)
     * @param periodNs time between checks, {@code > 0}
     * @param owner names the process in log lines, e.g. "master" or "peer 3"
     * @return the schedule; cancel it to stop
     */
    public ScheduledFuture<?> scheduleReload(final ScheduledExecutorService executor, final long periodNs,
                                             final String owner) {
        if (periodNs <= 0) {
            throw new IllegalArgumentException("periodNs " + periodNs + " must be > 0");
        }
        final String[] lastRefusal = {null};
        final long[] lastWarnedDaysLeft = {Long.MIN_VALUE};
        final long[] lastStaleListWarning = {Long.MIN_VALUE};
        return executor.scheduleWithFixedDelay(() -> {
            try {
                if (reload()) {
                    LOG.info("{}: TLS files changed; new connections use them ({})", owner, this);
                }
                lastRefusal[0] = null;
            } catch (RuntimeException e) {
                if (!String.valueOf(e.getMessage()).equals(lastRefusal[0])) {
                    lastRefusal[0] = String.valueOf(e.getMessage());
                    LOG.warn("{}: TLS files changed but cannot be used; keeping the previous ones: {}", owner,
                            e.getMessage());
                }
            }
            final Instant notAfter = certificateNotAfter();
            final long daysLeft = Duration.between(Instant.now(), notAfter).toDays();
            if (daysLeft < EXPIRY_WARNING_DAYS && daysLeft != lastWarnedDaysLeft[0]) {
                lastWarnedDaysLeft[0] = daysLeft; // once a day
                LOG.warn("{}: the TLS certificate {} {} ({}); replace the files: they are re-read every {} s", owner,
                        certificateChain, notAfter.isBefore(Instant.now()) ? "expired at" : "expires at", notAfter,
                        daysLeft < 0 ? "peers no longer accept it" : daysLeft + " days left",
                        TimeUnit.NANOSECONDS.toSeconds(periodNs));
            }
            final Instant nextUpdate = contexts.revocations().earliestNextUpdate();
            final long day = TimeUnit.SECONDS.toDays(Instant.now().getEpochSecond());
            if (nextUpdate != null && nextUpdate.isBefore(Instant.now()) && day != lastStaleListWarning[0]) {
                lastStaleListWarning[0] = day; // once a day
                LOG.warn("{}: a TLS revocation list in {} was due to be replaced at {}; it still applies, but "
                        + "certificates revoked since are not in it: write the CA's current list there", owner,
                        revocationList, nextUpdate);
            }
        }, periodNs, periodNs, TimeUnit.NANOSECONDS);
    }

    private String files() {
        return "certificate chain " + certificateChain + ", private key " + privateKey + ", trusted certificates "
                + trustedCertificates + (revocationList == null ? "" : ", revocation list " + revocationList);
    }

    private PemBytes read() {
        return new PemBytes(readAll("certificate chain", certificateChain), readAll("private key", privateKey),
                readAll("trusted certificates", trustedCertificates),
                revocationList == null ? new byte[0] : readAll("revocation list", revocationList));
    }

    private Contexts build(final PemBytes pem) {
        try {
            final X509Certificate leaf = KeyPairCheck.requireMatch(pem.chain(), pem.key());
            final List<X509Certificate> trusted = RevocationCheckingTrustManager.parseTrusted(trustedCertificates,
                    pem.trusted());
            final RevocationList revocations = revocationList == null ? RevocationList.NONE
                    : RevocationList.parse(revocationList, pem.crl(), trusted);
            final RevocationCheckingTrustManager trust = RevocationCheckingTrustManager.of(trusted, revocations);
            final SslContext client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols(PROTOCOL)
                    .keyManager(new ByteArrayInputStream(pem.chain()), new ByteArrayInputStream(pem.key()))
                    .trustManager(trust)
                    // Peers dial the addresses the master reports; trust comes from the CA, not from a name.
                    .endpointIdentificationAlgorithm(null)
                    .build();
            final SslContext server = SslContextBuilder.forServer(new ByteArrayInputStream(pem.chain()),
                            new ByteArrayInputStream(pem.key()))
                    .sslProvider(provider)
                    .protocols(PROTOCOL)
                    .trustManager(trust)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            return new Contexts(client, server, pem.digest(), leaf.getNotAfter().toInstant(), revocations);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use the TLS files (" + files() + "): " + rootMessage(e), e);
        }
    }

    private static byte[] readAll(final String what, final Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException("TLS " + what + " file " + file + " does not exist or is not a "
                    + "readable file");
        }
        try {
            final long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("TLS " + what + " file " + file + " has " + size + " bytes, more "
                        + "than the limit of " + MAX_FILE_BYTES);
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS " + what + " file " + file + ": " + e, e);
        }
    }

    private static String rootMessage(final Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t + ")";
    }

    /**
     * Puts TLS first in the pipeline of a dialed connection: the plain-answer check, the {@code SslHandler}
     * (which holds the writes of the handlers behind it until the handshake completed) and the failure handler.
     * Failures reach the handlers behind as an {@link io.pccl.transport.auth.AuthenticationFailedException}.
     *
     * @param pipeline the new channel's pipeline
     * @param remote names the other side in messages, e.g. "master at 10.0.0.1:48148"
     * @param handshakeTimeoutNs the handshake's bound
     */
    public void installDialer(final ChannelPipeline pipeline, final String remote, final long handshakeTimeoutNs) {
        installDialer(pipeline, remote, handshakeTimeoutNs, null);
    }

    /**
     * {@link #installDialer(ChannelPipeline, String, long)} for a connection to a peer whose certificate subject the
     * master reported: a handshake with a certificate of another subject (though the trusted CAs signed it) fails
     * like an untrusted one.
     *
     * @param pipeline the new channel's pipeline
     * @param remote names the other side in messages, e.g. "peer 3 at 10.0.0.7:48150"
     * @param handshakeTimeoutNs the handshake's bound
     * @param expectedSubject the subject the other side's certificate must have; null for any certificate the
     *        trusted CAs signed
     */
    public void installDialer(final ChannelPipeline pipeline, final String remote, final long handshakeTimeoutNs,
                              final X500Principal expectedSubject) {
        final TlsEnd end = TlsEnd.dialing(remote, expectedSubject);
        pipeline.addFirst(FAILURE_NAME, new TlsFailureHandler(end));
        final SslHandler tls = contexts.client().newHandler(pipeline.channel().alloc());
        pipeline.addFirst(HANDLER_NAME, timed(tls, handshakeTimeoutNs));
        pipeline.addFirst(SNIFF_NAME, new TlsSniffHandler(end));
        track(pipeline.channel(), tls);
    }

    /**
     * Puts TLS first in the pipeline of an accepted connection. A connection that does not open with TLS gets an
     * {@code Error} in plain text; one whose handshake fails is closed; both are logged through {@code failures}.
     *
     * @param pipeline the new channel's pipeline
     * @param handshakeTimeoutNs the handshake's bound
     * @param failures counts this server's refused connections for its throttled log lines
     */
    public void installAcceptor(final ChannelPipeline pipeline, final long handshakeTimeoutNs,
                                final LogThrottle failures) {
        final TlsEnd end = TlsEnd.accepting(failures);
        pipeline.addFirst(FAILURE_NAME, new TlsFailureHandler(end));
        final SslHandler tls = contexts.server().newHandler(pipeline.channel().alloc());
        pipeline.addFirst(HANDLER_NAME, timed(tls, handshakeTimeoutNs));
        pipeline.addFirst(SNIFF_NAME, new TlsSniffHandler(end));
        track(pipeline.channel(), tls);
    }

    /** Keeps {@code channel} among the open connections until it closes, and checks it once its handshake ends. */
    private void track(final Channel channel, final SslHandler tls) {
        open.put(channel, tls);
        channel.closeFuture().addListener(f -> open.remove(channel));
        tls.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                closeIfRevoked(channel, tls);
            }
        });
    }

    /**
     * Names the certificate the other side of {@code channel} presented, for log lines that tie a peer id to a
     * certificate (as operators need to revoke the right one).
     *
     * @param channel a connection
     * @return "CN=... (serial 0x...)", or null when the connection has no TLS or its handshake has not completed
     */
    public static String describeOtherSide(final Channel channel) {
        final X509Certificate leaf = otherSideLeaf(channel);
        return leaf == null ? null : describe(leaf);
    }

    /**
     * The subject of the certificate the other side of {@code channel} presented: what identifies a peer's
     * connections as its own (the master hands it out with the peer's address). A subject, not the certificate
     * itself, so that a peer whose certificate was renewed or re-issued under the same name while it ran
     * ({@link #reload}) is still itself.
     *
     * @param channel a connection
     * @return the subject, or null when the connection has no TLS or its handshake has not completed
     */
    public static X500Principal otherSideSubject(final Channel channel) {
        final X509Certificate leaf = otherSideLeaf(channel);
        return leaf == null ? null : leaf.getSubjectX500Principal();
    }

    static X509Certificate otherSideLeaf(final Channel channel) {
        if (!(channel.pipeline().get(HANDLER_NAME) instanceof SslHandler tls) || !tls.handshakeFuture().isSuccess()) {
            return null;
        }
        try {
            final Certificate[] theirs = tls.engine().getSession().getPeerCertificates();
            return theirs.length > 0 && theirs[0] instanceof X509Certificate leaf ? leaf : null;
        } catch (SSLPeerUnverifiedException e) {
            return null; // no verified chain: nothing to name
        }
    }

    static String describe(final X509Certificate leaf) {
        return leaf.getSubjectX500Principal().getName() + " (serial 0x" + leaf.getSerialNumber().toString(16) + ")";
    }


    /** Open connections set up by this configuration (tests). */
    int openConnections() {
        return open.size();
    }

    private static SslHandler timed(final SslHandler handler, final long handshakeTimeoutNs) {
        handler.setHandshakeTimeout(Math.max(1L, handshakeTimeoutNs), TimeUnit.NANOSECONDS);
        return handler;
    }

    @Override
    public String toString() {
        return "TlsConfig{" + PROTOCOL + ", " + provider + ", " + files() + "}";
    }
}
