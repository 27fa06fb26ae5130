package io.pccl.master;

import io.pccl.transport.ProtocolConstants;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Command-line daemon: {@code java -jar pccl-master.jar [--host H] [--port P] ...}. Prints
 * {@code pccl master listening on HOST:PORT} on stdout once bound, runs until SIGINT/SIGTERM, then closes the
 * master gracefully and exits with status 0 (the shutdown hook halts the JVM with 0 after closing, since a JVM
 * ended by a signal would otherwise exit with 128 + signal). A bind failure exits with status 1.
 *
 * <p>Not thread-safe; one instance per process.
 */
@Command(name = "pccl-master", mixinStandardHelpOptions = true, versionProvider = MasterMain.Version.class,
        description = "Runs the pccl master: membership, topology and collective coordination for pccl peers.")
public final class MasterMain implements Callable<Integer> {
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

    @Option(names = "--log-level", defaultValue = "info",
            description = "trace, debug, info, warn or error (default: ${DEFAULT-VALUE}).")
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
        // Must happen before the first logger is created (slf4j-simple reads it once).
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", logLevel);
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final Master master;
        try {
            master = Master.builder().host(host).port(port)
                    .heartbeatInterval(Duration.ofMillis(heartbeatIntervalMs))
                    .heartbeatTimeout(Duration.ofMillis(heartbeatTimeoutMs))
                    .build().start();
        } catch (final RuntimeException e) {
            err.println("pccl master: " + e.getMessage());
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
