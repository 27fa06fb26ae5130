package io.pccl.transport.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a throwaway certificate authority and certificates it signed, as PEM files for {@link TlsConfig}, and
 * revocation lists, with the JDK's own {@code keytool} (no other tool, no library). For tests, demos and a first
 * try of TLS, where every process of a deployment may share the one certificate ({@link #create}) or have one of its
 * own ({@link Authority}); a real deployment issues its certificates from its own CA and keeps the CA's key
 * elsewhere.
 *
 * <p>Keys are EC P-256; certificates are valid for ten years. The private key file is readable by its owner only
 * where the file system supports POSIX permissions.
 *
 * <p>Thread-safe (stateless; each call works in its own directory).
 */
public final class ThrowawayPki {
    private static final String PASSWORD = "pccl-throwaway";
    private static final long KEYTOOL_TIMEOUT_S = 60;

    /**
     * The files one process of the deployment passes to {@link TlsConfig#fromPem}.
     *
     * @param certificateChain the certificate chain, leaf first (leaf and CA)
     * @param privateKey the leaf's private key, PKCS#8
     * @param trustedCertificates the CA's certificate
     */
    public record PemFiles(Path certificateChain, Path privateKey, Path trustedCertificates) {
    }

    private ThrowawayPki() {
    }

    /**
     * Creates a CA and one certificate it signed, in {@code dir}, and forgets the CA's key: the files are
     * {@code node-chain.pem}, {@code node-key.pem} and {@code ca.pem}.
     *
     * @param dir an existing, empty directory
     * @param name the common name of the certificates ("NAME-ca" and "NAME")
     * @return the files
     * @throws IOException if keytool cannot run or fails (its output is in the message)
     */
    public static PemFiles create(final Path dir, final String name) throws IOException {
        final Authority ca = Authority.create(dir, name + "-ca");
        final PemFiles files = ca.issue(name, "node");
        Files.delete(ca.keystore);
        return files;
    }

    /**
     * A throwaway CA that keeps its key (in a PKCS#12 file of its directory) to issue more certificates and to
     * revoke them: for tests of deployments where each process has a certificate of its own.
     *
     * <p>Thread-safe for calls that name distinct certificates (each runs keytool on files of its own; the CA's
     * key store is only read).
     */
    public static final class Authority {
        private final Path dir;
        private final Path keystore;
        private final Path certificate;

        private Authority(final Path dir) {
            this.dir = dir;
            this.keystore = dir.resolve("ca.p12");
            this.certificate = dir.resolve("ca.pem");
        }

        /**
         * Creates the CA's key and self-signed certificate ({@code ca.pem}, which every process trusts) in
         * {@code dir}.
         *
         * @param dir an existing, empty directory, where the CA's files and its certificates go
         * @param name the CA's common name
         * @return the CA
         * @throws IOException if keytool cannot run or fails
         */
        public static Authority create(final Path dir, final String name) throws IOException {
            final Authority ca = new Authority(dir);
            keytool("-genkeypair", "-keystore", ca.keystore.toString(), "-alias", "ca", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=" + name, "-ext", "bc:c", "-validity", "3650");
            keytool("-exportcert", "-keystore", ca.keystore.toString(), "-alias", "ca", "-rfc", "-file",
                    ca.certificate.toString());
            return ca;
        }

        /**
         * Issues a certificate with common name {@code name}: files {@code NAME-chain.pem} (leaf and CA) and
         * {@code NAME-key.pem}.
         *
         * @param name the certificate's common name, also the files' prefix (letters, digits, '-' and '.')
         * @return the files of a process that presents this certificate and trusts this CA
         * @throws IOException if keytool cannot run or fails
         */
        public PemFiles issue(final String name) throws IOException {
            return issue(name, name);
        }

        /**
         * Issues a certificate with common name {@code name} into files named by {@code prefix}: a renewal keeps
         * the name under another prefix.
         *
         * @param name the certificate's common name (letters, digits, '-' and '.')
         * @param prefix the files' prefix (the same characters)
         * @return the files of a process that presents this certificate and trusts this CA
         * @throws IOException if keytool cannot run or fails
         */
        public PemFiles issue(final String name, final String prefix) throws IOException {
            if (!name.matches("[A-Za-z0-9.-]+") || !prefix.matches("[A-Za-z0-9.-]+")) {
                throw new IllegalArgumentException("certificate name '" + name + "' and file prefix '" + prefix
                        + "' must be letters, digits, '-' and '.'");
            }
            final Path node = dir.resolve(prefix + ".p12");
            final Path csr = dir.resolve(prefix + ".csr");
            final Path leaf = dir.resolve(prefix + "-leaf.pem");
            keytool("-genkeypair", "-keystore", node.toString(), "-alias", "node", "-keyalg", "EC", "-groupname",
                    "secp256r1", "-dname", "CN=" + name, "-validity", "3650");
            keytool("-certreq", "-keystore", node.toString(), "-alias", "node", "-file", csr.toString());
            keytool("-gencert", "-keystore", keystore.toString(), "-alias", "ca", "-infile", csr.toString(),
                    "-outfile", leaf.toString(), "-rfc", "-validity", "3650");
            final Path chain = dir.resolve(prefix + "-chain.pem");
            Files.writeString(chain, Files.readString(leaf, StandardCharsets.US_ASCII)
                    + Files.readString(certificate, StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
            final Path key = dir.resolve(prefix + "-key.pem");
            Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(privateKey(node).getEncoded())
                    + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
            try {
                Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the default permissions stay
            }
            for (Path p : List.of(node, csr, leaf)) {
                Files.delete(p);
            }
            return new PemFiles(chain, key, certificate);
        }

        /**
         * Writes a PEM certificate revocation list of this CA, valid for 90 days, that revokes {@code revoked}
         * (none: an empty list). Written to a temporary file first, then moved over {@code file}, so a reader never
         * sees half a list.
         *
         * @param file where the list goes
         * @param revoked certificates this CA issued
         * @throws IOException if keytool cannot run or fails
         */
        public void revocationList(final Path file, final X509Certificate... revoked) throws IOException {
            revocationList(file, 0, 90, revoked);
        }

        /**
         * {@link #revocationList(Path, X509Certificate...)} with a chosen validity: issued {@code startDays} from
         * now (negative: in the past) and due to be replaced {@code validityDays} after that.
         *
         * @param file where the list goes
         * @param startDays the list's "this update" time, in days from now
         * @param validityDays days from "this update" to "next update", {@code > 0}
         * @param revoked certificates this CA issued
         * @throws IOException if keytool cannot run or fails
         */
        public void revocationList(final Path file, final int startDays, final int validityDays,
                                   final X509Certificate... revoked) throws IOException {
            final List<String> args = new ArrayList<>(List.of("-gencrl", "-keystore", keystore.toString(),
                    "-alias", "ca", "-rfc", "-startdate", (startDays < 0 ? "" : "+") + startDays + "d", "-validity",
                    Integer.toString(validityDays)));
            for (X509Certificate c : revoked) {
                args.add("-id");
                args.add(c.getSerialNumber().toString()); // keytool reads the serial in decimal
            }
            final Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), "crl", ".tmp");
            Files.delete(temporary); // keytool refuses to write over a file
            args.add("-file");
            args.add(temporary.toString());
            keytool(args.toArray(new String[0]));
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        /**
         * Reads the leaf certificate of files this CA issued.
         *
         * @param files what {@link #issue} returned
         * @return the first certificate of the chain
         * @throws IOException if the file cannot be read or parsed
         */
        public static X509Certificate leaf(final PemFiles files) throws IOException {
            try (InputStream in = Files.newInputStream(files.certificateChain())) {
                return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot read " + files.certificateChain() + ": " + e, e);
            }
        }
    }

    private static Key privateKey(final Path keystore) throws IOException {
        try (InputStream in = Files.newInputStream(keystore)) {
            final KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, PASSWORD.toCharArray());
            return ks.getKey("node", PASSWORD.toCharArray());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the key keytool made in " + keystore + ": " + e, e);
        }
    }

    private static void keytool(final String... args) throws IOException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD, "-noprompt"));
        // Output to a file, not a pipe: reading a pipe to its end would wait for keytool without the bound below.
        final Path log = Files.createTempFile("pccl-keytool", ".log");
        try {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            try {
                if (!process.waitFor(KEYTOOL_TIMEOUT_S, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IOException("keytool " + args[0] + " did not finish within " + KEYTOOL_TIMEOUT_S
                            + " s");
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for keytool " + args[0], e);
            }
            if (process.exitValue() != 0) {
                throw new IOException("keytool " + args[0] + " failed with exit status " + process.exitValue()
                        + ": " + Files.readString(log, StandardCharsets.UTF_8).trim());
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
