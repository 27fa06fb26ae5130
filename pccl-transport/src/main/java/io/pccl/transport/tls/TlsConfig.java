package io.pccl.transport.tls;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pccl.transport.LogThrottle;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Mutual TLS for every connection of a deployment: this side's certificate chain and private key, and the
 * certificates it trusts (the deployment's CA). Both ends of every connection present a certificate and check the
 * other's against their trusted certificates; only TLS 1.3 is offered.
 *
 * <p>Peers dial each other by the addresses the master reports, so host names are not checked: a certificate
 * signed by a trusted CA admits its holder to any role, as the shared key does (see {@code docs/protocol.md},
 * "Encryption (TLS)"). Give a deployment a CA of its own.
 *
 * <p>Files are PEM: an X.509 certificate chain (leaf first), an unencrypted PKCS#8 private key
 * ({@code -----BEGIN PRIVATE KEY-----}, RSA or EC), and one or more trusted certificates. They are read once, by
 * {@link #fromPem}.
 *
 * <p>Thread-safe (immutable; Netty's contexts are shared by all connections).
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
    static final String FAILURE_NAME = "tlsFailure";

    private final SslContext client;
    private final SslContext server;
    private final String description;

    private TlsConfig(final SslContext client, final SslContext server, final String description) {
        this.client = client;
        this.server = server;
        this.description = description;
    }

    /**
     * Reads the three PEM files and builds the client and server contexts.
     *
     * @param certificateChain this side's certificate chain, leaf first
     * @param privateKey the leaf's private key, unencrypted PKCS#8
     * @param trustedCertificates the certificates whose holders (or whose signees) this side accepts
     * @return the configuration
     * @throws IllegalArgumentException naming the file and what is wrong with it (missing, unreadable, not PEM, or
     *         a key that does not match the certificate)
     */
    public static TlsConfig fromPem(final Path certificateChain, final Path privateKey,
                                    final Path trustedCertificates) {
        return fromPem(certificateChain, privateKey, trustedCertificates, PROVIDER);
    }

    /** {@link #fromPem(Path, Path, Path)} with a chosen engine (tests: the JDK's, beside BoringSSL). */
    static TlsConfig fromPem(final Path certificateChain, final Path privateKey, final Path trustedCertificates,
                             final SslProvider provider) {
        requireReadable("certificate chain", certificateChain);
        requireReadable("private key", privateKey);
        requireReadable("trusted certificates", trustedCertificates);
        final String files = "certificate chain " + certificateChain + ", private key " + privateKey
                + ", trusted certificates " + trustedCertificates;
        try {
            final SslContext client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols(PROTOCOL)
                    .keyManager(certificateChain.toFile(), privateKey.toFile())
                    .trustManager(trustedCertificates.toFile())
                    // Peers dial the addresses the master reports; trust comes from the CA, not from a name.
                    .endpointIdentificationAlgorithm(null)
                    .build();
            final SslContext server = SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile())
                    .sslProvider(provider)
                    .protocols(PROTOCOL)
                    .trustManager(trustedCertificates.toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            return new TlsConfig(client, server, provider + ", " + files);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use the TLS files (" + files + "): " + rootMessage(e), e);
        }
    }

    private static void requireReadable(final String what, final Path file) {
        Objects.requireNonNull(file, what);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException("TLS " + what + " file " + file + " does not exist or is not a "
                    + "readable file");
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
        final TlsEnd end = TlsEnd.dialing(remote);
        pipeline.addFirst(FAILURE_NAME, new TlsFailureHandler(end));
        pipeline.addFirst(HANDLER_NAME, timed(client.newHandler(pipeline.channel().alloc()), handshakeTimeoutNs));
        pipeline.addFirst(SNIFF_NAME, new TlsSniffHandler(end));
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
        pipeline.addFirst(HANDLER_NAME, timed(server.newHandler(pipeline.channel().alloc()), handshakeTimeoutNs));
        pipeline.addFirst(SNIFF_NAME, new TlsSniffHandler(end));
    }

    private static SslHandler timed(final SslHandler handler, final long handshakeTimeoutNs) {
        handler.setHandshakeTimeout(Math.max(1L, handshakeTimeoutNs), TimeUnit.NANOSECONDS);
        return handler;
    }

    @Override
    public String toString() {
        return "TlsConfig{" + PROTOCOL + ", " + description + "}";
    }
}
