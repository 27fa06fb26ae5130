package io.pccl.bench;

import io.pccl.bench.internal.TempSecurity;
import picocli.CommandLine.Option;

import java.io.IOException;

/**
 * {@code --auth} and {@code --tls} of the demo, the churn harness and {@code allreduce} (a picocli mixin): a fresh
 * shared key and a throwaway CA for the run, made by {@link TempSecurity}.
 *
 * <p>Not thread-safe; filled by picocli (or a test) before the command runs, then only read.
 */
final class TempSecurityOptions {
    @Option(names = "--auth", description = "give the master and every peer a shared key (a random one in a "
            + "temporary file): every connection then proves it first (docs/protocol.md, Authentication)")
    boolean auth;
    @Option(names = "--tls", description = "mutual TLS on every connection, with a throwaway CA and certificate "
            + "made by the JDK's keytool (docs/protocol.md, Encryption)")
    boolean tls;

    /**
     * @return the run's key and TLS files, as asked for
     * @throws IOException if a file cannot be written, or keytool fails
     */
    TempSecurity create() throws IOException {
        return TempSecurity.create(auth, tls);
    }

    /**
     * @return e.g. ", every connection with mutual TLS", or "" for neither
     */
    String describe() {
        return TempSecurity.describe(auth, tls);
    }
}
