package io.pccl.transport.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;

/**
 * Checks that a PEM private key belongs to the leaf of a PEM certificate chain, by signing a fixed message with the
 * key and verifying it with the certificate's public key. The TLS engines take a mismatched pair without a word
 * (BoringSSL at least) and then fail every handshake; checked here, the operator gets one clear error naming the
 * files, and a rotation caught halfway (the new certificate beside the old key) is refused instead of used.
 *
 * <p>Stateless; thread-safe.
 */
final class KeyPairCheck {
    private static final String PKCS8_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String PKCS8_END = "-----END PRIVATE KEY-----";
    /** What is signed: any message does, since only the verification's outcome counts. */
    private static final byte[] CHALLENGE = "pccl: does this key belong to this certificate?"
            .getBytes(StandardCharsets.US_ASCII);

    private KeyPairCheck() {
    }

    /**
     * @param chainPem the certificate chain, leaf first
     * @param keyPem the private key; a format other than unencrypted PKCS#8 is left to the TLS engine to judge
     * @return the leaf certificate
     * @throws IllegalArgumentException if the chain holds no certificate, or the key does not belong to its leaf
     */
    static X509Certificate requireMatch(final byte[] chainPem, final byte[] keyPem) {
        final X509Certificate leaf = leaf(chainPem);
        final PublicKey publicKey = leaf.getPublicKey();
        final String algorithm = signatureAlgorithm(publicKey.getAlgorithm());
        final byte[] pkcs8 = pkcs8(keyPem);
        if (algorithm == null || pkcs8 == null) {
            return leaf; // not a kind we can check: the engine decides
        }
        final boolean matches;
        try {
            final PrivateKey key = KeyFactory.getInstance(publicKey.getAlgorithm())
                    .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            final byte[] challenge = CHALLENGE.clone();
            final Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            final byte[] signature = signer.sign();
            final Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the private key is not a " + publicKey.getAlgorithm()
                    + " key for the certificate's public key (" + e.getMessage() + ")", e);
        }
        if (!matches) {
            throw new IllegalArgumentException("the private key does not belong to the certificate (the chain's first "
                    + "certificate must be the one the key was made for)");
        }
        return leaf;
    }

    private static X509Certificate leaf(final byte[] chainPem) {
        final Collection<? extends Certificate> chain;
        try {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(chainPem));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the certificate chain is not PEM X.509 (" + e.getMessage() + ")", e);
        }
        if (chain.isEmpty() || !(chain.iterator().next() instanceof X509Certificate leaf)) {
            throw new IllegalArgumentException("the certificate chain holds no X.509 certificate");
        }
        return leaf;
    }

    private static String signatureAlgorithm(final String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
    }

    /** The DER bytes of an unencrypted PKCS#8 PEM key, or null for any other form. */
    private static byte[] pkcs8(final byte[] keyPem) {
        final String text = new String(keyPem, StandardCharsets.US_ASCII);
        final int begin = text.indexOf(PKCS8_BEGIN);
        final int end = text.indexOf(PKCS8_END);
        if (begin < 0 || end < begin) {
            return null;
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(begin + PKCS8_BEGIN.length(), end));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the private key's PEM body is not base64 (" + e.getMessage() + ")",
                    e);
        }
    }
}
