package io.pccl.internal.topology;

import io.pccl.PcclException;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.tls.ThrowawayPki;
import io.pccl.transport.tls.TlsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.pccl.internal.topology.BandwidthFixture.AWAIT_SECONDS;
import static io.pccl.internal.topology.BandwidthFixture.LOOPBACK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bandwidth benchmark over mutual TLS: the end of a stream is a TCP half-close under TLS too, so the server's
 * count must arrive intact after it, measurement after measurement, and a busy target's refusal must stay the
 * retryable busy case.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BandwidthProbeTlsTest {
    private static final Duration DURATION = Duration.ofMillis(150);
    private static final Duration HANDSHAKE = Duration.ofSeconds(10);

    @TempDir
    static Path dir;
    private static ConnectionSecurity security;
    private BandwidthFixture fx;

    @BeforeAll
    static void makeCertificates() throws Exception {
        final ThrowawayPki.PemFiles f = ThrowawayPki.create(dir, "pccl-bandwidth-test");
        security = ConnectionSecurity.of(null, TlsConfig.fromPem(f.certificateChain(), f.privateKey(),
                f.trustedCertificates()));
    }

    @BeforeEach
    void setUp() {
        fx = new BandwidthFixture(BandwidthServer.DEFAULT_IDLE_TIMEOUT, BandwidthServer.DEFAULT_MAX_SLOT_TIME,
                security);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private CompletableFuture<Double> measure(final long selfId, final int streams) {
        return BandwidthProbe.measure(fx.group, LOOPBACK, fx.port(), selfId, streams, DURATION, HANDSHAKE, security);
    }

    @Test
    void shouldMeasureOneStreamAfterAnotherWithEveryCountConfirmed() throws Exception {
        for (int i = 0; i < 12; i++) {
            final long before = fx.server.confirmedBytes();
            final double mbps = measure(7, 1 + i % 4).get(AWAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(mbps > 0 && Double.isFinite(mbps), "measurement " + i + ": " + mbps + " Mbit/s");
            assertTrue(fx.server.confirmedBytes() > before, "measurement " + i + " confirmed by the server");
        }
    }

    @Test
    void shouldReportABusyTargetAsBusyOverTls() throws Exception {
        final CompletableFuture<Double> first = BandwidthProbe.measure(fx.group, LOOPBACK, fx.port(), 7, 2,
                Duration.ofSeconds(2), HANDSHAKE, security);
        fx.awaitAcquired(7);
        final ExecutionException e = assertThrows(ExecutionException.class,
                () -> measure(8, 2).get(AWAIT_SECONDS, TimeUnit.SECONDS));
        final PcclException busy = assertInstanceOf(PcclException.class, e.getCause());
        assertTrue(BandwidthProbe.isBusy(busy), busy.toString());
        assertTrue(first.get(AWAIT_SECONDS, TimeUnit.SECONDS) > 0);
        assertEquals(Long.valueOf(7), fx.released.poll(AWAIT_SECONDS, TimeUnit.SECONDS));
    }
}
