package io.pccl.master;

import io.pccl.transport.ProtocolConstants;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Command-line daemon: {@code java -jar pccl-master.jar [--host H] [--port P] ...}. Prints
 * {@code pccl master listening on HOST:PORT} on stdout once bound (then the metrics URL, with
 * {@code --metrics-port}), runs until SIGINT/SIGTERM, then closes the
 * master gracefully and exits with status 0 (the shutdown hook halts the JVM with 0 after closing, since a JVM
 * ended by a signal would otherwise exit with 128 + signal). A bind failure or a bad setting exits with status 1,
 * a usage error (unknown option, malformed number, unknown log level) with status 2. Log lines carry an ISO-8601
 * timestamp unless {@code -Dorg.slf4j.simpleLogger.showDateTime} is given.
 *
 * <p>Not thread-safe; one instance per process.
 */
@Command(name = "pccl-master", mixinStandardHelpOptions = true, versionProvider = MasterMain.Version.class,
        sortOptions = false,
        description = {"Runs the pccl master: membership, collective and shared-state coordination for pccl peers.",
            "Once bound it prints 'pccl master listening on HOST:PORT' on stdout (with --metrics-port, then the",
            "metrics URL); logs go to stderr."},
        footer = {"",
            "Ports: peers connect to --port (TCP); each peer also listens on one TCP port of its own",
            "  (48150 and up by default), which the other peers of its group must be able to reach.",
            "A peer silent for more than --heartbeat-timeout-ms is removed; peers send a heartbeat every second.",
            "Exit status: 0 after SIGINT/SIGTERM (peers are told the master is shutting down);",
            "  1 if the master cannot start (port in use, bad setting); 2 for a usage error.",
            "Operations guide: docs/operations.md."})
public final class MasterMain implements Callable<Integer> {
    private static final List<String> LOG_LEVELS = List.of("trace", "debug", "info", "warn", "error", "off");

    @Spec
    private CommandSpec spec;

    @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    private String host;

    @Option(names = "--port", defaultValue = "" + ProtocolConstants.DEFAULT_MASTER_PORT,
            description = "Port to bind, 0 for any free port (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--heartbeat-interval-ms", defaultValue = "1000",
            description = "Interval between the master's heartbeats to each peer (default: ${DEFAULT-VALUE}).")
    private long heartbeatIntervalMs;

    @Option(names = "--heartbeat-timeout-ms", defaultValue = "5000",
            description = "A peer silent for longer is removed (default: ${DEFAULT-VALUE}).")
    private long heartbeatTimeoutMs;

    @Option(names = "--registration-timeout-ms",
            description = "A connection that has not registered within this long of connecting is closed; heartbeats"
                    + " do not extend it (default: the heartbeat timeout).")
    private Long registrationTimeoutMs;

    @Option(names = "--max-connections", defaultValue = "" + Master.Builder.DEFAULT_MAX_CONNECTIONS,
            description = "Most control connections open at once; one beyond it is refused with"
                    + " ERROR_RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
    private int maxConnections;

    @Option(names = "--max-messages-per-second", defaultValue = "" + Master.Builder.DEFAULT_MAX_MESSAGES_PER_SECOND,
            description = "Messages a second one connection may send (and as many at once); past it its reads pause,"
                    + " and one whose backlog outlasts the heartbeat timeout is kicked (default: ${DEFAULT-VALUE}).")
    private int maxMessagesPerSecond;

    @Option(names = "--auth-key-file",
            description = "File holding the deployment's shared key (its text without surrounding white space, at"
                    + " least 16 bytes; e.g. head -c 32 /dev/urandom | base64 > key). Every connection must then"
                    + " prove the key before its hello; peers use Communicator.Builder.authKeyFile on the same file"
                    + " (default: none, no authentication).")
    private Path authKeyFile;

    @Option(names = "--state-file",
            description = "File where the master keeps the revision and content fingerprint of each peer group's"
                    + " last successful shared-state sync, and reads it at start: after a restart, a group's first"
                    + " sync then elects only that revision with that content, or a later one, so a peer that fell"
                    + " behind cannot seed the group with older state (created if missing; default: none, a"
                    + " restarted master knows nothing).")
    private Path stateFile;

    @Option(names = "--state-grace-ms", defaultValue = "60000",
            description = "With --state-file: how long after its first peer registers a restored group waits for a"
                    + " peer holding its revision before its next sync accepts any revision"
                    + " (default: ${DEFAULT-VALUE}).")
    private long stateGraceMs;

    @ArgGroup(exclusive = false, heading = "Mutual TLS on every connection (the first three, or none):%n")
    private TlsFiles tlsFiles;

    /** The PEM files of {@code --tls-*}; picocli fills them, the first three all or none. */
    static final class TlsFiles {
        @Option(names = "--tls-cert", required = true,
                description = "PEM certificate chain of the master, leaf first.")
        private Path certificateChain;

        @Option(names = "--tls-key", required = true,
                description = "PEM private key of the leaf, unencrypted PKCS#8 (BEGIN PRIVATE KEY).")
        private Path privateKey;

        @Option(names = "--tls-trust", required = true,
                description = "PEM certificates of the CA(s) whose peers are admitted; peers use"
                        + " Communicator.Builder.tls with certificates this CA signed.")
        private Path trustedCertificates;

        @Option(names = "--tls-crl",
                description = "PEM or DER certificate revocation lists of the trusted CA(s): a listed certificate"
                        + " is refused, and once listed, its open connections are closed at the next reload"
                        + " (an empty file revokes nothing; default: none).")
        private Path revocationList;

        @Option(names = "--tls-reload-every", defaultValue = "60",
                description = "Seconds between reads of the TLS files: when they changed and the key belongs to"
                        + " the certificate, new connections use them, so certificates rotate without a restart;"
                        + " 0 reads them at start only (default: ${DEFAULT-VALUE}).")
        private int reloadEverySeconds = 60;
    }

    @Option(names = "--metrics-port", defaultValue = "-1",
            description = "Serve metrics in the Prometheus text format at http://METRICS-HOST:PORT/metrics (plain HTTP,"
                    + " no authentication; 0 picks a free port; default: off).")
    private int metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
            description = "Address the metrics endpoint binds (default: ${DEFAULT-VALUE}, this machine only).")
    private String metricsHost;

    @Option(names = "--log-level", defaultValue = "info",
            description = "trace, debug, info, warn, error or off (default: ${DEFAULT-VALUE}). INFO logs one line"
                    + " per membership transition, WARN every kick or refused connection.")
    private String logLevel;

    /**
     * Entry point.
     *
     * @param args command-line arguments
     */
    public static void main(final String[] args) {
        final int status = new CommandLine(new MasterMain()).execute(args);
        if (status != 0) {
            System.exit(status);
        }
        // status 0 here means --help or --version; a running master never returns from call().
    }

    @Override
    public Integer call() throws InterruptedException {
        final String level = logLevel.toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            throw new ParameterException(spec.commandLine(), "--log-level " + logLevel + " is not one of "
                    + LOG_LEVELS);
        }
        if (tlsFiles != null && tlsFiles.reloadEverySeconds < 0) {
            throw new ParameterException(spec.commandLine(), "--tls-reload-every must be >= 0 seconds, got "
                    + tlsFiles.reloadEverySeconds);
        }
        // Must happen before the first logger is created (slf4j-simple reads them once). -D settings win for
        // the timestamp format.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        if (System.getProperty("org.slf4j.simpleLogger.showDateTime") == null) {
            System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
            System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        }
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final Master master;
        try {
            final Master.Builder builder = Master.builder().host(host).port(port)
                    .heartbeatInterval(Duration.ofMillis(heartbeatIntervalMs))
                    .heartbeatTimeout(Duration.ofMillis(heartbeatTimeoutMs)).maxConnections(maxConnections)
                    .maxMessagesPerSecond(maxMessagesPerSecond).metricsPort(metricsPort).metricsHost(metricsHost);
            if (registrationTimeoutMs != null) {
                builder.registrationTimeout(Duration.ofMillis(registrationTimeoutMs));
            }
            if (authKeyFile != null) {
                builder.authKeyFile(authKeyFile);
            }
            if (stateFile != null) {
                builder.stateFile(stateFile).stateGrace(Duration.ofMillis(stateGraceMs));
            }
            if (tlsFiles != null) {
                builder.tls(tlsFiles.certificateChain, tlsFiles.privateKey, tlsFiles.trustedCertificates,
                                tlsFiles.revocationList)
                        .tlsReloadInterval(Duration.ofSeconds(tlsFiles.reloadEverySeconds));
            }
            master = builder.build().start();
        } catch (final RuntimeException | IOException e) {
            err.println("pccl master: " + (e instanceof IOException ? "cannot read --auth-key-file " + authKeyFile
                    + ": " + e : e.getMessage()));
            err.flush();
            return 1;
        }
        final CountDownLatch never = new CountDownLatch(1);
        // The master runs until a signal; the shutdown hook ends the process.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            master.close();
            out.flush();
            Runtime.getRuntime().halt(0);
        }, "pccl-master-shutdown"));
        out.println("pccl master listening on " + host + ":" + master.port());
        if (master.metricsPort() >= 0) {
            out.println("pccl master metrics at http://" + metricsHost + ":" + master.metricsPort() + "/metrics");
        }
        out.flush();
        while (!never.await(1, TimeUnit.HOURS)) {
            // Keep the main thread parked; nothing counts the latch down.
        }
        return 0;
    }

    /** Reports the implementation version from the jar manifest. Thread-safe. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            final String v = MasterMain.class.getPackage().getImplementationVersion();
            return new String[] {"pccl-master " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
