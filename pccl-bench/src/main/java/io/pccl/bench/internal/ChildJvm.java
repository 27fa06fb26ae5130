package io.pccl.bench.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Java child process started with this JVM's class path, whose stdout lines are collected on a reader thread
 * and can be awaited with a bound. Used to run one peer per JVM so that a peer can be SIGKILLed.
 *
 * <p>Thread-safe: lines may be awaited from one thread while another kills the process.
 */
public final class ChildJvm implements AutoCloseable {
    private static final String EOF = "\u0000EOF";

    private final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final OutputStream stdin;

    private ChildJvm(final String name, final Process process) {
        this.name = name;
        this.process = process;
        this.stdin = process.getOutputStream();
        final Thread reader = new Thread(this::pump, "child-" + name + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass} in a new JVM with the current class path; stderr is merged into stdout.
     *
     * @param name short name used in thread names and messages
     * @param jvmArgs extra JVM arguments (heap size, system properties)
     * @param mainClass fully qualified main class
     * @param args program arguments
     * @return the running child
     */
    public static ChildJvm start(final String name, final List<String> jvmArgs, final String mainClass,
                                 final List<String> args) {
        final Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        final List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        // Under surefire, java.class.path may name only its booter jar; the test class path is kept here.
        final String surefire = System.getProperty("surefire.test.class.path");
        command.add(surefire != null && !surefire.isEmpty() ? surefire : System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            return new ChildJvm(name, p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start child JVM " + name + ": " + command, e);
        }
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException ignored) {
            // the process died; EOF below tells the waiters
        } finally {
            lines.add(EOF);
        }
    }

    /**
     * Waits for the next stdout line matching {@code predicate}, discarding the others (they are echoed to
     * {@code echo} when not null).
     *
     * @param predicate what to wait for
     * @param timeoutMs bound on the wait
     * @param echo where non-matching lines go, or null
     * @return the matching line
     * @throws IllegalStateException on timeout or when the process ended first
     */
    public String awaitLine(final Predicate<String> predicate, final long timeoutMs, final java.io.PrintStream echo)
            throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            final long left = deadline - System.nanoTime();
            final String line = left <= 0 ? null : lines.poll(left, TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new IllegalStateException(name + ": no matching output within " + timeoutMs + " ms");
            }
            if (EOF.equals(line)) {
                lines.add(EOF);
                final String exit = process.isAlive() ? "?" : String.valueOf(process.exitValue());
                throw new IllegalStateException(name + ": process ended (exit " + exit
                        + ") before the expected output");
            }
            if (predicate.test(line)) {
                return line;
            }
            if (echo != null) {
                echo.println("[" + name + "] " + line);
            }
        }
    }

    /**
     * Writes one line to the child's stdin.
     *
     * @param line the line, without terminator
     */
    public void send(final String line) {
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot write to stdin", e);
        }
    }

    /** Sends SIGTERM (the JVM runs its shutdown hooks). */
    public void terminate() {
        process.destroy();
    }

    /** Sends SIGKILL. */
    public void kill() {
        process.destroyForcibly();
    }

    /**
     * Waits for the process to exit.
     *
     * @param timeoutMs bound on the wait
     * @return the exit code, or -1 if it is still running
     */
    public int waitFor(final long timeoutMs) throws InterruptedException {
        return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /** @return the process id */
    public long pid() {
        return process.pid();
    }

    /** @return the short name */
    public String name() {
        return name;
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
