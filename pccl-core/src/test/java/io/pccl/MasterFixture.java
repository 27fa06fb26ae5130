package io.pccl;

import io.pccl.master.Master;
import io.pccl.master.MasterMain;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Starts real masters for system tests: embedded on loopback port 0, or the CLI daemon in a child process.
 *
 * <p>Thread-safe (stateless).
 */
final class MasterFixture {
    static final String MAIN_CLASS = MasterMain.class.getName();
    private static final Pattern LISTENING = Pattern.compile("pccl master listening on .*:(\\d+)$");

    private MasterFixture() {
    }

    /** An embedded master on loopback, ephemeral port, 3 s heartbeat timeout. */
    static Master start() {
        return start(0);
    }

    /** An embedded master on loopback {@code port} (0: ephemeral), 3 s heartbeat timeout. */
    static Master start(final int port) {
        return start(port, null);
    }

    /** The same, keeping the groups' revisions in {@code stateFile} when it is not null. */
    static Master start(final int port, final Path stateFile) {
        final Master.Builder b = Master.builder().host(InetAddress.getLoopbackAddress().getHostAddress()).port(port)
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3));
        if (stateFile != null) {
            b.stateFile(stateFile);
        }
        return b.build().start();
    }

    /** Arguments of the CLI daemon bound to {@code host}, ephemeral port. */
    static String[] mainArgs(final String host, final long heartbeatTimeoutMs) {
        return new String[] {MAIN_CLASS, "--host", host, "--port", "0", "--heartbeat-interval-ms", "250",
            "--heartbeat-timeout-ms", Long.toString(heartbeatTimeoutMs)};
    }

    /** Waits for the daemon's "listening" line and returns its port. */
    static int awaitPort(final ChildProcess master, final long timeoutMs) throws InterruptedException {
        final String line = master.await(l -> LISTENING.matcher(l).find(), timeoutMs, "'pccl master listening'");
        final Matcher m = LISTENING.matcher(line);
        if (!m.find()) {
            throw new AssertionError("unparsable master line: " + line);
        }
        return Integer.parseInt(m.group(1));
    }
}
