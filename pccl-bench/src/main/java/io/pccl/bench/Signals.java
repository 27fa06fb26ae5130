package io.pccl.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Sends POSIX signals with the system's {@code kill} command, since Java itself sends only SIGTERM and SIGKILL.
 * The churn harness freezes (SIGSTOP) and thaws (SIGCONT) peers and the master with it.
 *
 * <p>Thread-safe (stateless).
 */
final class Signals {
    private static final long BOUND_S = 10;

    private Signals() {
    }

    /**
     * Sends {@code sig} to {@code pid}, waiting at most 10 s for {@code kill} to return.
     *
     * @param pid the process
     * @param sig the signal's name without "SIG" ("STOP", "CONT")
     * @return null once delivered; otherwise what went wrong, naming the command
     */
    static String send(final long pid, final String sig) {
        final String command = "kill -" + sig + " " + pid;
        try {
            final Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).redirectErrorStream(true)
                    .start();
            // Bounded first; what `kill` says (a line at most) is read only once it has exited.
            if (!k.waitFor(BOUND_S, TimeUnit.SECONDS)) {
                k.destroyForcibly();
                return command + " did not return within " + BOUND_S + " s";
            }
            if (k.exitValue() == 0) {
                return null;
            }
            return command + " failed: " + new String(k.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (final IOException e) {
            return "cannot run " + command + ": " + e;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return command + " was interrupted";
        }
    }
}
