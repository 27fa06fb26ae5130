package io.pccl.bench;

import io.pccl.Communicator;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The key and TLS files of a peer JVM that {@link TrainingPeer} and {@code allreduce}'s peers share (a picocli
 * mixin): the flags {@link io.pccl.bench.internal.TempSecurity#args()} writes, named as the master daemon's.
 *
 * <p>Not thread-safe; filled by picocli before the command runs, then only read.
 */
final class SecurityOptions {
    @Option(names = "--auth-key-file", description = "the deployment's shared key (Communicator.Builder.authKeyFile)")
    Path authKeyFile;
    @Option(names = "--tls-cert", description = "PEM certificate chain (Communicator.Builder.tls, with --tls-key and "
            + "--tls-trust)")
    Path tlsCert;
    @Option(names = "--tls-key", description = "PEM private key, PKCS#8")
    Path tlsKey;
    @Option(names = "--tls-trust", description = "PEM trusted certificates")
    Path tlsTrust;

    /**
     * @param builder the peer's builder
     * @return the builder, with the key and TLS given
     */
    Communicator.Builder applyTo(final Communicator.Builder builder) {
        if (authKeyFile != null) {
            builder.authKeyFile(authKeyFile);
        }
        if (tlsCert != null || tlsKey != null || tlsTrust != null) {
            builder.tls(tlsCert, tlsKey, tlsTrust);
        }
        return builder;
    }
}
