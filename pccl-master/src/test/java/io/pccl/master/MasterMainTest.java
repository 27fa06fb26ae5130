package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import io.pccl.transport.tls.ThrowawayPki;
import picocli.CommandLine;

/**
 * Runs {@link MasterMain} in a child JVM: it prints its port, a peer joins, SIGTERM ends it with status 0
 * within 5 s.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterMainTest {
    private static final Pattern LISTENING = Pattern.compile("pccl master listening on 127\\.0\\.0\\.1:(\\d+)");

    @Test
    void shouldServeAPeerAndExitZeroOnSigterm() throws Exception {
        final Path log = Files.createTempFile("pccl-master-cli", ".log");
        final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        final Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                "io.pccl.master.MasterMain", "--host", "127.0.0.1", "--port", "0", "--heartbeat-interval-ms", "200",
                "--heartbeat-timeout-ms", "3000", "--log-level", "debug"))
                .redirectError(log.toFile())
                .start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            final String line = out.readLine();
            assertNotNull(line, () -> "no output; log: " + read(log));
            final Matcher m = LISTENING.matcher(line);
            assertTrue(m.matches(), line);
            try (TestPeerClient peer = new TestPeerClient(Integer.parseInt(m.group(1)))) {
                assertEquals(1, peer.joinAlone(0));
            }
            final long startNs = System.nanoTime();
            process.destroy();
            assertTrue(process.waitFor(5, TimeUnit.SECONDS), "master did not exit within 5 s of SIGTERM");
            assertEquals(0, process.exitValue(), () -> "log: " + read(log));
            System.out.println("MasterMain exited " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs)
                    + " ms after SIGTERM");
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    @Test
    void shouldPrintHelp() throws Exception {
        final StringWriter sw = new StringWriter();
        final CommandLine cmd = new CommandLine(new MasterMain());
        cmd.setOut(new PrintWriter(sw));
        assertEquals(0, cmd.execute("--help"));
        final String help = sw.toString();
        for (final String option : List.of("--host", "--port", "--heartbeat-interval-ms", "--heartbeat-timeout-ms",
                "--registration-timeout-ms", "--max-connections", "--max-messages-per-second", "--auth-key-file",
                "--tls-cert", "--tls-key", "--tls-trust", "--tls-crl", "--tls-reload-every", "--metrics-port",
                "--metrics-host", "--state-file", "--state-grace-ms", "--log-level", "--version")) {
            assertTrue(help.contains(option), help);
        }
        assertTrue(help.contains("Exit status"), help);
    }

    @Test
    void shouldRefuseAnUnknownLogLevelAsAUsageError() {
        final StringWriter err = new StringWriter();
        final CommandLine cmd = new CommandLine(new MasterMain());
        cmd.setErr(new PrintWriter(err));
        assertEquals(2, cmd.execute("--port", "0", "--log-level", "loud"));
        assertTrue(err.toString().contains("--log-level loud is not one of"), err.toString());
    }

    @Test
    void shouldRefuseALimitBelowOneNamingTheSetting() {
        for (final String flag : List.of("--max-connections", "--max-messages-per-second")) {
            final StringWriter err = new StringWriter();
            final CommandLine cmd = new CommandLine(new MasterMain());
            cmd.setErr(new PrintWriter(err));
            assertEquals(1, cmd.execute("--port", "0", flag, "0"));
            final String setting = flag.equals("--max-connections") ? "maxConnections" : "maxMessagesPerSecond";
            assertEquals("pccl master: " + setting + " must be >= 1, got 0", err.toString().strip());
        }
    }

    @Test
    void shouldRefuseAnUnreadableOrShortKeyFileNamingIt() throws IOException {
        final Path missing = Files.createTempDirectory("pccl-master-key").resolve("no-such-key");
        final Path shortKey = Files.createTempFile("pccl-master-key", ".txt");
        Files.writeString(shortKey, "too-short\n");
        for (final Path key : List.of(missing, shortKey)) {
            final StringWriter err = new StringWriter();
            final CommandLine cmd = new CommandLine(new MasterMain());
            cmd.setErr(new PrintWriter(err));
            assertEquals(1, cmd.execute("--port", "0", "--auth-key-file", key.toString()));
            final String message = err.toString().strip();
            assertTrue(message.startsWith("pccl master: ") && message.contains(key.toString()), message);
            if (key.equals(shortKey)) {
                assertTrue(message.contains("holds 9 bytes") && message.contains("at least 16"), message);
            }
        }
    }

    @Test
    void shouldRefuseAMalformedStateFileNamingItsLineAndAGraceBelowOneMillisecond() throws IOException {
        final Path state = Files.createTempFile("pccl-master-state", ".txt");
        Files.writeString(state, "pccl-master-state 1\ngroup 0 revision twelve content 0123456789abcdef\n");
        final StringWriter err = new StringWriter();
        final CommandLine cmd = new CommandLine(new MasterMain());
        cmd.setErr(new PrintWriter(err));
        assertEquals(1, cmd.execute("--port", "0", "--state-file", state.toString()));
        assertEquals("pccl master: master state file " + state + ", line 2: revision 'twelve' is not an unsigned"
                + " 64-bit decimal", err.toString().strip());
        final StringWriter err2 = new StringWriter();
        final CommandLine cmd2 = new CommandLine(new MasterMain());
        cmd2.setErr(new PrintWriter(err2));
        assertEquals(1, cmd2.execute("--port", "0", "--state-file", state.toString(), "--state-grace-ms", "0"));
        assertEquals("pccl master: stateGrace must be positive, got PT0S", err2.toString().strip());
    }

    @Test
    void shouldRequireAllThreeTlsFilesAndNameAnUnusableOne() throws IOException {
        final Path dir = Files.createTempDirectory("pccl-master-tls");
        final ThrowawayPki.PemFiles pki = ThrowawayPki.create(dir, "pccl-master-test");
        final StringWriter partial = new StringWriter();
        final CommandLine cmd = new CommandLine(new MasterMain());
        cmd.setErr(new PrintWriter(partial));
        assertEquals(2, cmd.execute("--port", "0", "--tls-cert", pki.certificateChain().toString()));
        assertTrue(partial.toString().contains("Missing required argument") && partial.toString().contains("--tls-key")
                && partial.toString().contains("--tls-trust"), partial.toString());

        final Path missing = dir.resolve("no-such-ca.pem");
        final StringWriter err = new StringWriter();
        final CommandLine bad = new CommandLine(new MasterMain());
        bad.setErr(new PrintWriter(err));
        assertEquals(1, bad.execute("--port", "0", "--tls-cert", pki.certificateChain().toString(), "--tls-key",
                pki.privateKey().toString(), "--tls-trust", missing.toString()));
        assertEquals("pccl master: TLS trusted certificates file " + missing + " does not exist or is not a readable"
                + " file", err.toString().strip());

        final StringWriter negative = new StringWriter();
        final CommandLine reload = new CommandLine(new MasterMain());
        reload.setErr(new PrintWriter(negative));
        assertEquals(2, reload.execute("--port", "0", "--tls-cert", pki.certificateChain().toString(), "--tls-key",
                pki.privateKey().toString(), "--tls-trust", pki.trustedCertificates().toString(),
                "--tls-reload-every", "-1"));
        assertTrue(negative.toString().contains("--tls-reload-every must be >= 0 seconds, got -1"),
                negative.toString());

        // a key of another certificate: refused at start, naming the files, not at every handshake later
        final ThrowawayPki.PemFiles other = ThrowawayPki.create(Files.createDirectory(dir.resolve("other")),
                "pccl-other");
        final StringWriter mismatch = new StringWriter();
        final CommandLine wrongKey = new CommandLine(new MasterMain());
        wrongKey.setErr(new PrintWriter(mismatch));
        assertEquals(1, wrongKey.execute("--port", "0", "--tls-cert", pki.certificateChain().toString(), "--tls-key",
                other.privateKey().toString(), "--tls-trust", pki.trustedCertificates().toString()));
        assertTrue(mismatch.toString().contains("private key " + other.privateKey())
                && mismatch.toString().contains("does not belong to the certificate"), mismatch.toString());

        // a revocation list alone is a usage error; one that the trusted CA did not sign is refused at start
        final StringWriter alone = new StringWriter();
        final CommandLine crlOnly = new CommandLine(new MasterMain());
        crlOnly.setErr(new PrintWriter(alone));
        final Path crl = dir.resolve("crl.pem");
        ThrowawayPki.Authority.create(Files.createDirectory(dir.resolve("crl-ca")), "pccl-unrelated-ca")
                .revocationList(crl);
        assertEquals(2, crlOnly.execute("--port", "0", "--tls-crl", crl.toString()));
        assertTrue(alone.toString().contains("Missing required argument") && alone.toString().contains("--tls-cert"),
                alone.toString());
        final StringWriter foreign = new StringWriter();
        final CommandLine foreignCrl = new CommandLine(new MasterMain());
        foreignCrl.setErr(new PrintWriter(foreign));
        assertEquals(1, foreignCrl.execute("--port", "0", "--tls-cert", pki.certificateChain().toString(),
                "--tls-key", pki.privateKey().toString(), "--tls-trust", pki.trustedCertificates().toString(),
                "--tls-crl", crl.toString()));
        assertTrue(foreign.toString().contains("revocation list file " + crl + ": the list issued by "
                + "CN=pccl-unrelated-ca is not signed by any of the trusted certificates"), foreign.toString());
    }

    private static String read(final Path p) {
        try {
            return Files.readString(p);
        } catch (final IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
