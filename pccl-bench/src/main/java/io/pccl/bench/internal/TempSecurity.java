package io.pccl.bench.internal;

import io.pccl.master.Master;
import io.pccl.transport.tls.ThrowawayPki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What {@code --auth} and {@code --tls} of the demo, the churn harness and the all-reduce benchmark give a run: a
 * fresh shared key (32 random bytes, base64, in a temporary file) and a throwaway CA ({@link ThrowawayPki}) with a
 * certificate for the master and {@value #PEER_NAMES} certificate names that the peers take in turn (so ring
 * neighbours mostly present different names, as in a deployment with a certificate per process, and the binding of
 * ring connections to names is exercised), read by the master and every peer JVM through the same flags
 * ({@code --auth-key-file}, {@code --tls-cert}, {@code --tls-key}, {@code --tls-trust}), and deleted when this JVM
 * exits.
 *
 * <p>Thread-safe (immutable).
 */
public final class TempSecurity {
    /** Neither a key nor TLS. */
    public static final TempSecurity NONE = new TempSecurity(null, null, List.of());
    /** Certificate names the peers take in turn ("peer-0", "peer-1"). */
    public static final int PEER_NAMES = 2;

    private final Path keyFile;
    /** The master's certificate, or null without TLS. */
    private final ThrowawayPki.PemFiles masterTls;
    /** The peers' certificates, one per name; empty without TLS. */
    private final List<ThrowawayPki.PemFiles> peerTls;

    private TempSecurity(final Path keyFile, final ThrowawayPki.PemFiles masterTls,
                         final List<ThrowawayPki.PemFiles> peerTls) {
        this.keyFile = keyFile;
        this.masterTls = masterTls;
        this.peerTls = peerTls;
    }

    /**
     * Makes the files asked for.
     *
     * @param key whether to make a shared key
     * @param tls whether to make a CA and certificates
     * @return the run's security
     * @throws IOException if a file cannot be written, or keytool fails
     */
    public static TempSecurity create(final boolean key, final boolean tls) throws IOException {
        if (!key && !tls) {
            return NONE;
        }
        Path keyFile = null;
        if (key) {
            keyFile = Files.createTempFile("pccl-key", ".txt");
            keyFile.toFile().deleteOnExit();
            final byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            Files.writeString(keyFile, Base64.getEncoder().encodeToString(bytes));
        }
        ThrowawayPki.PemFiles master = null;
        final List<ThrowawayPki.PemFiles> peers = new ArrayList<>();
        if (tls) {
            final Path dir = Files.createTempDirectory("pccl-pki");
            dir.toFile().deleteOnExit(); // registered first, so deleted after the files in it
            final ThrowawayPki.Authority ca = ThrowawayPki.Authority.create(dir, "pccl-bench-ca");
            master = deleteOnExit(ca.issue("pccl-bench-master"));
            for (int i = 0; i < PEER_NAMES; i++) {
                peers.add(deleteOnExit(ca.issue("peer-" + i)));
            }
            dir.resolve("ca.p12").toFile().deleteOnExit();
        }
        return new TempSecurity(keyFile, master, List.copyOf(peers));
    }

    private static ThrowawayPki.PemFiles deleteOnExit(final ThrowawayPki.PemFiles pem) {
        for (Path p : List.of(pem.certificateChain(), pem.privateKey(), pem.trustedCertificates())) {
            p.toFile().deleteOnExit();
        }
        return pem;
    }

    /**
     * @return the flags that give the master daemon this security
     */
    public List<String> masterArgs() {
        return args(masterTls);
    }

    /**
     * @param index the peer's number in the run (0, 1, ...): its certificate name is "peer-" + index mod
     *        {@value #PEER_NAMES}
     * @return the flags that give that {@code TrainingPeer} this security
     */
    public List<String> peerArgs(final int index) {
        return args(peerTls.isEmpty() ? null : peerTls.get(Math.floorMod(index, PEER_NAMES)));
    }

    private List<String> args(final ThrowawayPki.PemFiles tls) {
        final List<String> args = new ArrayList<>();
        if (keyFile != null) {
            args.add("--auth-key-file=" + keyFile);
        }
        if (tls != null) {
            args.add("--tls-cert=" + tls.certificateChain());
            args.add("--tls-key=" + tls.privateKey());
            args.add("--tls-trust=" + tls.trustedCertificates());
        }
        return args;
    }

    /**
     * Configures an embedded master.
     *
     * @param builder the master's builder
     * @return the builder
     */
    public Master.Builder applyTo(final Master.Builder builder) {
        try {
            if (keyFile != null) {
                builder.authKeyFile(keyFile);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (masterTls != null) {
            builder.tls(masterTls.certificateChain(), masterTls.privateKey(), masterTls.trustedCertificates());
        }
        return builder;
    }

    /**
     * @param key whether a shared key is used
     * @param tls whether TLS is used
     * @return e.g. ", every connection with mutual TLS and authenticated with a shared key", or "" for neither
     */
    public static String describe(final boolean key, final boolean tls) {
        if (!key && !tls) {
            return "";
        }
        return ", every connection " + (tls ? "with mutual TLS" : "") + (tls && key ? " and " : "")
                + (key ? "authenticated with a shared key" : "");
    }
}
