package io.pccl.transport.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a throwaway certificate authority and one certificate it signed, as PEM files for {@link TlsConfig}, with
 * the JDK's own {@code keytool} (no other tool, no library). For tests, demos and a first try of TLS, where every
 * process of a deployment may share the one certificate; a real deployment issues its certificates from its own CA
 * and keeps the CA's key elsewhere.
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
     * Creates a CA and one certificate it signed, in {@code dir}.
     *
     * @param dir an existing, empty directory
     * @param name the common name of the certificates ("NAME-ca" and "NAME")
     * @return the files
     * @throws IOException if keytool cannot run or fails (its output is in the message)
     */
    public static PemFiles create(final Path dir, final String name) throws IOException {
        final Path ca = dir.resolve("ca.p12");
        final Path node = dir.resolve("node.p12");
        final Path csr = dir.resolve("node.csr");
        final Path leaf = dir.resolve("node-leaf.pem");
        final Path caPem = dir.resolve("ca.pem");
        keytool("-genkeypair", "-keystore", ca.toString(), "-alias", "ca", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=" + name + "-ca", "-ext", "bc:c", "-validity", "3650");
        keytool("-genkeypair", "-keystore", node.toString(), "-alias", "node", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=" + name, "-validity", "3650");
        keytool("-certreq", "-keystore", node.toString(), "-alias", "node", "-file", csr.toString());
        keytool("-gencert", "-keystore", ca.toString(), "-alias", "ca", "-infile", csr.toString(), "-outfile",
                leaf.toString(), "-rfc", "-validity", "3650");
        keytool("-exportcert", "-keystore", ca.toString(), "-alias", "ca", "-rfc", "-file", caPem.toString());
        final Path chain = dir.resolve("node-chain.pem");
        Files.writeString(chain, Files.readString(leaf, StandardCharsets.US_ASCII)
                + Files.readString(caPem, StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
        final Path key = dir.resolve("node-key.pem");
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(privateKey(node).getEncoded())
                + "\n-----END PRIVATE KEY-----\n", StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the default permissions stay
        }
        for (Path p : List.of(ca, node, csr, leaf)) {
            Files.delete(p);
        }
        return new PemFiles(chain, key, caPem);
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
