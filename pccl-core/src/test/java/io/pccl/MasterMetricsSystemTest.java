package io.pccl;

import io.pccl.master.Master;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The master's metrics endpoint ({@code Master.Builder.metricsPort}) against a real group: the gauges follow the
 * membership, the counters count exactly what the master told the peers, and the endpoint answers only
 * {@code GET /metrics}.
 */
@Tag("slow")
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterMetricsSystemTest {
    private static final String LOOPBACK = MetricsScrape.LOOPBACK;
    private static final long BOUND_S = 30;

    private final MetricsScrape http = new MetricsScrape();

    private HttpResponse<String> get(final Master master, final String path, final String method) throws Exception {
        return http.get(master.metricsPort(), path, method);
    }

    private Map<String, Double> scrape(final Master master) throws Exception {
        return http.samples(master.metricsPort());
    }

    @Test
    void shouldCountWhatTheMasterToldThePeersAndFollowTheMembership() throws Exception {
        final Master master = Master.builder().host(LOOPBACK).port(0).metricsPort(0)
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3)).build().start();
        try (AllReduceCluster cluster = AllReduceCluster.start(master, 3, b -> b)) {
            final Map<String, Double> before = scrape(master);
            assertEquals(3.0, before.get("pccl_master_registrations_total"));
            assertEquals(3.0, before.get("pccl_master_group_peers{group=\"0\"}"));
            assertEquals(3.0, before.get("pccl_master_group_accepted_peers{group=\"0\"}"));
            assertEquals(3.0, before.get("pccl_master_connections"));
            assertEquals(3.0, before.entrySet().stream().filter(e -> e.getKey().startsWith("pccl_master_peers{"))
                    .mapToDouble(Map.Entry::getValue).sum(), "peers by phase: " + before);
            assertEquals(0.0, before.get("pccl_master_kicks_total"));

            final List<Communicator> peers = cluster.peers();
            final List<Future<?>> ops = new ArrayList<>();
            for (Communicator c : peers) {
                final float[] v = new float[1024];
                Arrays.fill(v, 1f);
                ops.add(cluster.pool().submit(() -> {
                    c.allReduce(v, v, ReduceDescriptor.of(v.length, DataType.FLOAT32, ReduceOp.SUM).tag(5));
                    return c.syncSharedState(SharedState.builder().entry("w", new float[] {2f}).build(),
                            SyncStrategy.ENFORCE_POPULAR);
                }));
            }
            for (Future<?> f : ops) {
                f.get(BOUND_S, TimeUnit.SECONDS);
            }
            final Map<String, Double> after = scrape(master);
            assertEquals(3.0, after.get("pccl_master_collective_outcomes_total{result=\"success\"}")
                    - before.get("pccl_master_collective_outcomes_total{result=\"success\"}"), "one outcome per peer");
            assertEquals(3.0, after.get("pccl_master_sync_outcomes_total{result=\"success\"}")
                    - before.get("pccl_master_sync_outcomes_total{result=\"success\"}"));
            assertTrue(after.containsKey("pccl_master_group_expected_revision{group=\"0\"}"), after::toString);
            assertTrue(after.get("pccl_master_uptime_seconds") > 0);

            peers.get(2).close();
            Map<String, Double> left = scrape(master);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_S);
            while (left.get("pccl_master_group_peers{group=\"0\"}") != 2.0 && System.nanoTime() < deadline) {
                left = scrape(master); // the close reaches the master's conductor a moment later
            }
            assertEquals(2.0, left.get("pccl_master_group_peers{group=\"0\"}"), left::toString);
        }
    }

    @Test
    void shouldAnswerOnlyGetMetrics() throws Exception {
        try (Master master = Master.builder().host(LOOPBACK).port(0).metricsPort(0).build().start()) {
            assertEquals(404, get(master, "/", "GET").statusCode());
            final HttpResponse<String> health = get(master, "/healthz", "GET");
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
            assertEquals(405, get(master, "/healthz", "POST").statusCode());
            assertEquals(405, get(master, "/metrics", "POST").statusCode());
            assertEquals(200, get(master, "/metrics?x=1", "GET").statusCode());
            // garbage and an oversized request: answered with an error or closed; the endpoint goes on serving
            for (byte[] bytes : new byte[][] {"\u0000\u0001 not http\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1),
                    ("GET /metrics HTTP/1.1\r\nX: " + "y".repeat(20_000) + "\r\n\r\n").getBytes(
                            StandardCharsets.ISO_8859_1)}) {
                try (Socket s = new Socket(LOOPBACK, master.metricsPort())) {
                    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(BOUND_S));
                    s.getOutputStream().write(bytes);
                    final String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), answer);
                } catch (SocketException reset) {
                    // closed with our bytes unread: a reset is a close too
                }
            }
            assertEquals(200, get(master, "/metrics", "GET").statusCode());
        }
        try (Master off = Master.builder().host(LOOPBACK).port(0).build().start()) {
            assertEquals(-1, off.metricsPort());
        }
    }
}
