package io.pccl;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child process whose stdout lines are collected by a reader thread and awaited with bounds, whose stdin takes
 * commands, and whose stderr goes to a log file.
 *
 * <p>Thread-safe for one test thread plus the internal reader thread.
 */
final class ChildProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

    ChildProcess(final String name, final List<String> command, final File stderrLog) throws IOException {
        this.name = name;
        this.process = new ProcessBuilder(command).redirectError(stderrLog).start();
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        final Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF " + e);
            }
        }, "stdout-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** The process id (for signals). */
    long pid() {
        return process.pid();
    }

    void send(final String command) throws IOException {
        stdin.write(command + "\n");
        stdin.flush();
    }

    /**
     * Waits for the next stdout line matching {@code match}; earlier non-matching lines are dropped.
     *
     * @throws AssertionError naming the process and what it waited for, on timeout
     */
    String await(final Predicate<String> match, final long timeoutMs, final String what)
            throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            final long left = deadline - System.nanoTime();
            final String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError(name + ": no " + what + " within " + timeoutMs + " ms (alive="
                        + process.isAlive() + ")");
            }
            if (match.test(line)) {
                return line;
            }
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
