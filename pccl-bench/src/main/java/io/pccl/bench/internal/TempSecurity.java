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
 * What {@code --auth} and {@code --tls} of the demo and the churn harness give a run: a fresh shared key (32 random
 * bytes, base64, in a temporary file) and a throwaway CA with one certificate ({@link ThrowawayPki}), both read by
 * the master and every peer JVM through the same flags ({@code --auth-key-file}, {@code --tls-cert},
 * {@code --tls-key}, {@code --tls-trust}), and deleted when this JVM exits.
 *
 * <p>Thread-safe (immutable).
 */
public final class TempSecurity {
    /** Neither a key nor TLS. */
    public static final TempSecurity NONE = new TempSecurity(null, null);

    private final Path keyFile;
    private final ThrowawayPki.PemFiles tls;

    private TempSecurity(final Path keyFile, final ThrowawayPki.PemFiles tls) {
        this.keyFile = keyFile;
        this.tls = tls;
    }

    /**
     * Makes the files asked for.
     *
     * @param key whether to make a shared key
     * @param tls whether to make a CA and a certificate
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
        ThrowawayPki.PemFiles pem = null;
        if (tls) {
            final Path dir = Files.createTempDirectory("pccl-pki");
            dir.toFile().deleteOnExit(); // registered first, so deleted after the files in it
            pem = ThrowawayPki.create(dir, "pccl-bench");
            for (Path p : List.of(pem.certificateChain(), pem.privateKey(), pem.trustedCertificates())) {
                p.toFile().deleteOnExit();
            }
        }
        return new TempSecurity(keyFile, pem);
    }

    /**
     * @return the flags that give a {@code TrainingPeer} or the master daemon this security
     */
    public List<String> args() {
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
        if (tls != null) {
            builder.tls(tls.certificateChain(), tls.privateKey(), tls.trustedCertificates());
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
