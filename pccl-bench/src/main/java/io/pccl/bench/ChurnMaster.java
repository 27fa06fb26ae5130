package io.pccl.bench;

import io.pccl.bench.internal.ChildJvm;
import io.pccl.bench.internal.TempSecurity;
import io.pccl.master.Master;
import io.pccl.master.MasterMain;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The master of a churn run, and the ways the harness takes it away: a graceful stop, a crash, and (for a master in
 * its own process) a freeze. Two kinds: {@link #embedded} runs {@link Master} in the harness's JVM; {@link #process}
 * runs the operators' daemon ({@link MasterMain}) in a child JVM, so that it can be SIGKILLed, and SIGSTOPped like a
 * host that vanished without closing its connections.
 *
 * <p>Not thread-safe: confined to the harness's thread, except that a process master's output is read on a daemon
 * thread, which only records an exit nobody asked for.
 */
abstract class ChurnMaster implements AutoCloseable {
    /** Heartbeat timeout of every churn master: peers frozen longer than this are removed. */
    static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(3);

    /** The bound port. */
    abstract int port();

    /** Stops it gracefully: the peers are told it is shutting down. */
    abstract void stop();

    /** Takes it away without a word: its connections close (the peers' kernels see them end). */
    abstract void crash();

    /** Whether {@link #freeze()} is possible (only for a master in its own process). */
    boolean canFreeze() {
        return false;
    }

    /** SIGSTOP: its connections stay open and silent until {@link #thaw()}. */
    void freeze() {
        throw new UnsupportedOperationException("an embedded master cannot be frozen");
    }

    /** SIGCONT after {@link #freeze()}. */
    void thaw() {
        throw new UnsupportedOperationException("an embedded master cannot be frozen");
    }

    /** A problem found since the last call (the process exited on its own, a signal failed), or null. */
    String failure() {
        return null;
    }

    /** How the kinds of removal cycle: graceful stop, crash, then (if possible) freeze. */
    String kind(final int index) {
        final int kinds = canFreeze() ? 3 : 2;
        return switch (index % kinds) {
            case 0 -> "stop";
            case 1 -> "crash";
            default -> "freeze";
        };
    }

    @Override
    public abstract void close();

    /**
     * The master's state file ({@code Master.Builder.stateFile}) and grace, or {@link #NONE}.
     *
     * @param file the file, or null for none
     * @param grace how long a restored group waits for a peer at its revision
     */
    record StateFile(Path file, Duration grace) {
        /** No state file: a restarted master knows nothing. */
        static final StateFile NONE = new StateFile(null, Duration.ZERO);

        Master.Builder applyTo(final Master.Builder builder) {
            return file == null ? builder : builder.stateFile(file).stateGrace(grace);
        }

        List<String> args() {
            return file == null ? List.of()
                    : List.of("--state-file", file.toString(), "--state-grace-ms", Long.toString(grace.toMillis()));
        }
    }

    /**
     * A {@link Master} in this JVM on loopback {@code port} (0: ephemeral).
     *
     * @param security the run's key and TLS files
     * @param state the state file every master of the run shares
     */
    static ChurnMaster embedded(final int port, final TempSecurity security, final StateFile state) {
        return new Embedded(state.applyTo(security.applyTo(Master.builder().host("127.0.0.1").port(port)
                .heartbeatTimeout(HEARTBEAT_TIMEOUT))).build().start());
    }

    /**
     * The daemon in a child JVM on loopback {@code port} (0: ephemeral); waits, bounded, until it listens.
     *
     * @param verbose echo its output (INFO log) instead of keeping its warnings only
     * @param security the run's key and TLS files
     * @param state the state file every master of the run shares
     * @throws IllegalStateException if it does not report its port within 30 s
     */
    static ChurnMaster process(final int port, final boolean verbose, final TempSecurity security,
            final StateFile state) throws InterruptedException {
        return new Process(port, verbose, security, state);
    }

    private static final class Embedded extends ChurnMaster {
        private final Master master;

        Embedded(final Master master) {
            this.master = master;
        }

        @Override
        int port() {
            return master.port();
        }

        @Override
        void stop() {
            master.close();
        }

        @Override
        void crash() {
            master.shutdownNow();
        }

        @Override
        public void close() {
            master.close();
        }
    }

    private static final class Process extends ChurnMaster {
        private static final Pattern LISTENING = Pattern.compile("pccl master listening on .*:(\\d+)$");
        private static final long START_BOUND_MS = 30_000;
        private final ChildJvm jvm;
        private final int port;
        private final boolean verbose;
        /** Set by the harness before it ends the process; read by the output thread. */
        private volatile boolean ending;
        private volatile String failure;

        Process(final int port, final boolean verbose, final TempSecurity security, final StateFile state)
                throws InterruptedException {
            this.verbose = verbose;
            final List<String> args = new ArrayList<>(List.of("--host", "127.0.0.1", "--port",
                    Integer.toString(port), "--heartbeat-timeout-ms", Long.toString(HEARTBEAT_TIMEOUT.toMillis()),
                    "--heartbeat-interval-ms", "500", "--log-level", verbose ? "info" : "warn"));
            args.addAll(security.masterArgs());
            args.addAll(state.args());
            jvm = ChildJvm.start("master", List.of("-Xmx512m", "-Dio.netty.leakDetection.level=disabled"),
                    MasterMain.class.getName(), args);
            try {
                final String line = jvm.awaitLine(l -> LISTENING.matcher(l).find(), START_BOUND_MS,
                        verbose ? System.out : null);
                final Matcher m = LISTENING.matcher(line);
                if (!m.find()) {
                    throw new IllegalStateException("unreadable master line: " + line);
                }
                this.port = Integer.parseInt(m.group(1));
            } catch (final IllegalStateException e) {
                jvm.close();
                throw new IllegalStateException("the master daemon did not start listening on port " + port
                        + " within " + START_BOUND_MS + " ms: " + e.getMessage(), e);
            }
            final Thread reader = new Thread(this::drain, "churn-master-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** Output thread: echoes (when verbose) and notices an exit that nobody asked for. */
        private void drain() {
            try {
                while (true) {
                    final String line = jvm.awaitLine(l -> true, TimeUnit.DAYS.toMillis(7), null);
                    if (verbose) {
                        System.out.println("[master] " + line);
                    }
                }
            } catch (final IllegalStateException ended) {
                if (!ending) {
                    failure = "the master daemon (pid " + jvm.pid() + ") exited on its own";
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        int port() {
            return port;
        }

        @Override
        void stop() {
            end(false);
        }

        @Override
        void crash() {
            end(true);
        }

        /** SIGKILL or SIGTERM (its shutdown hook closes the master gracefully), then waits, bounded, for the exit. */
        private void end(final boolean kill) {
            ending = true;
            final String how = kill ? "SIGKILL" : "SIGTERM";
            if (kill) {
                jvm.kill();
            } else {
                jvm.terminate();
            }
            try {
                if (jvm.waitFor(10_000) == -1) {
                    failure = "the master daemon did not exit within 10 s of " + how;
                    jvm.kill();
                }
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        boolean canFreeze() {
            return true;
        }

        @Override
        void freeze() {
            signal("STOP");
        }

        @Override
        void thaw() {
            signal("CONT");
        }

        private void signal(final String sig) {
            final String problem = Signals.send(jvm.pid(), sig);
            if (problem != null) {
                failure = "master: " + problem;
            }
        }

        @Override
        String failure() {
            final String f = failure;
            failure = null;
            return f;
        }

        @Override
        public void close() {
            signal("CONT"); // a frozen process would not run its shutdown hook
            end(false);
        }
    }
}
