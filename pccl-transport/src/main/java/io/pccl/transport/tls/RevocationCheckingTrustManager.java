package io.pccl.transport.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The trust decision of every TLS handshake: the JDK's PKIX trust manager over the trusted certificates (path,
 * signatures, validity dates), then the {@link RevocationList}. Both TLS engines (BoringSSL through Netty, and the
 * JDK's) call it.
 *
 * <p>Thread-safe: immutable; the JDK's trust manager is thread-safe.
 */
final class RevocationCheckingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;
    private final RevocationList revocations;

    private RevocationCheckingTrustManager(final X509ExtendedTrustManager pkix, final RevocationList revocations) {
        this.pkix = pkix;
        this.revocations = revocations;
    }

    /**
     * Parses the trusted certificates.
     *
     * @param file the trust file, for messages
     * @param pem its content: one or more PEM certificates
     * @return the certificates, in file order
     * @throws IllegalArgumentException naming the file when it cannot be parsed or holds no certificate
     */
    static List<X509Certificate> parseTrusted(final Path file, final byte[] pem) {
        final List<X509Certificate> trusted = new ArrayList<>();
        try {
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem))) {
                trusted.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS trusted certificates file " + file + " is not PEM X.509: "
                    + e.getMessage(), e);
        }
        if (trusted.isEmpty()) {
            throw new IllegalArgumentException("TLS trusted certificates file " + file + " holds no certificate");
        }
        return trusted;
    }

    /**
     * Builds the trust manager.
     *
     * @param trusted the trusted certificates (trust anchors)
     * @param revocations what is revoked
     * @return the trust manager
     */
    static RevocationCheckingTrustManager of(final Collection<X509Certificate> trusted,
                                             final RevocationList revocations) {
        try {
            final KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int i = 0;
            for (X509Certificate c : trusted) {
                anchors.setCertificateEntry("trusted-" + i++, c);
            }
            final TrustManagerFactory factory = TrustManagerFactory.getInstance(
                    TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return new RevocationCheckingTrustManager(x, revocations);
                }
            }
            throw new IllegalStateException("the JDK's " + factory.getAlgorithm() + " trust manager factory made no "
                    + "X509ExtendedTrustManager");
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a trust manager from in-memory certificates", e);
        }
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType) throws CertificateException {
        pkix.checkClientTrusted(chain, authType);
        revocations.check(chain);
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
            throws CertificateException {
        pkix.checkClientTrusted(chain, authType, socket);
        revocations.check(chain);
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
            throws CertificateException {
        pkix.checkClientTrusted(chain, authType, engine);
        revocations.check(chain);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        revocations.check(chain);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
        revocations.check(chain);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
        revocations.check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
