package io.pccl.transport.tls;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRL;
import java.security.cert.CRLReason;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * The certificate revocation lists (CRLs) of a deployment, read from one PEM or DER file that may hold several
 * (one per CA), each checked against the trusted certificates when read: its issuer must be one of them and its
 * signature must verify with that certificate's key.
 *
 * <p>A list past its next-update time still revokes what it lists (a stale list is better than none; the owner of
 * the {@link TlsConfig} warns about it). A certificate is revoked when a list of its issuer names its serial
 * number; every certificate of a presented chain is checked, so revoking an intermediate CA's certificate revokes
 * what it signed. Certificates whose issuer has no list here are not revoked.
 *
 * <p>Thread-safe: immutable after construction ({@code X509CRL} lookups are read-only).
 */
final class RevocationList {
    /** No file configured: nothing is revoked. */
    static final RevocationList NONE = new RevocationList(null, List.of());

    private final Path file;
    private final List<X509CRL> lists;

    private RevocationList(final Path file, final List<X509CRL> lists) {
        this.file = file;
        this.lists = lists;
    }

    /**
     * Parses and checks the lists of {@code file}.
     *
     * @param file the file, for messages
     * @param bytes its content: PEM ({@code -----BEGIN X509 CRL-----}, several allowed) or DER; empty for none
     * @param trusted the trusted certificates, one of which must have issued and signed each list
     * @return the lists
     * @throws IllegalArgumentException naming the file and the list's issuer when a list cannot be parsed, has an
     *         issuer that is not trusted, or a signature that does not verify
     */
    static RevocationList parse(final Path file, final byte[] bytes, final Collection<X509Certificate> trusted) {
        if (bytes.length == 0) {
            return new RevocationList(file, List.of());
        }
        final Collection<? extends CRL> parsed;
        try {
            parsed = CertificateFactory.getInstance("X.509").generateCRLs(new ByteArrayInputStream(bytes));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS revocation list file " + file + " is not a PEM or DER X.509 "
                    + "CRL: " + e.getMessage(), e);
        }
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException("TLS revocation list file " + file + " holds no X.509 CRL (an empty "
                    + "file means none)");
        }
        final List<X509CRL> lists = new ArrayList<>();
        for (CRL crl : parsed) {
            final X509CRL x = (X509CRL) crl;
            lists.add(requireSignedByTrusted(file, x, trusted));
        }
        return new RevocationList(file, List.copyOf(lists));
    }

    private static X509CRL requireSignedByTrusted(final Path file, final X509CRL crl,
                                                  final Collection<X509Certificate> trusted) {
        for (X509Certificate ca : trusted) {
            if (!ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
                continue;
            }
            try {
                crl.verify(ca.getPublicKey());
                return crl;
            } catch (GeneralSecurityException e) {
                // try the next certificate of that name (a CA whose key was renewed appears twice)
            }
        }
        throw new IllegalArgumentException("TLS revocation list file " + file + ": the list issued by "
                + crl.getIssuerX500Principal().getName() + " is not signed by any of the trusted certificates");
    }

    /**
     * Checks a presented chain.
     *
     * @param chain the other side's certificates, leaf first
     * @throws CertificateRevokedException naming the revoked certificate, when a list names one of them
     */
    void check(final Certificate[] chain) throws CertificateRevokedException {
        for (Certificate c : chain) {
            if (!(c instanceof X509Certificate cert)) {
                continue;
            }
            for (X509CRL crl : lists) {
                if (!crl.getIssuerX500Principal().equals(cert.getIssuerX500Principal())) {
                    continue;
                }
                final X509CRLEntry entry = crl.getRevokedCertificate(cert);
                if (entry != null) {
                    throw new Revoked(cert, entry, crl, file);
                }
            }
        }
    }

    /** The lists' earliest next-update time, or null when there is none (no lists, or lists without one). */
    Instant earliestNextUpdate() {
        Instant earliest = null;
        for (X509CRL crl : lists) {
            final Date next = crl.getNextUpdate();
            if (next != null && (earliest == null || next.toInstant().isBefore(earliest))) {
                earliest = next.toInstant();
            }
        }
        return earliest;
    }

    /** How many certificates the lists revoke in all. */
    int revokedCount() {
        int n = 0;
        for (X509CRL crl : lists) {
            n += crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size();
        }
        return n;
    }

    /**
     * A revoked certificate, named in the message (the JDK's own message names neither certificate nor file). Its
     * type tells the TLS engines to send the "certificate revoked" alert.
     */
    static final class Revoked extends CertificateRevokedException {
        private static final long serialVersionUID = 1L;
        private final String message;

        Revoked(final X509Certificate cert, final X509CRLEntry entry, final X509CRL crl, final Path file) {
            super(entry.getRevocationDate(), entry.getRevocationReason() == null ? CRLReason.UNSPECIFIED
                    : entry.getRevocationReason(), crl.getIssuerX500Principal(), Map.of());
            this.message = "certificate " + cert.getSubjectX500Principal().getName() + " (serial 0x"
                    + cert.getSerialNumber().toString(16) + ") was revoked on "
                    + entry.getRevocationDate().toInstant() + " (reason " + getRevocationReason() + ") by the list of "
                    + crl.getIssuerX500Principal().getName() + " in " + file;
            // The JDK's engine picks its alert from this cause ("certificate_revoked", not "certificate_unknown").
            initCause(new CertPathValidatorException(message, null, null, -1, BasicReason.REVOKED));
        }

        @Override
        public String getMessage() {
            return message;
        }
    }
}
