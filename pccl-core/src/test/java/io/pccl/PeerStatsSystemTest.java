package io.pccl;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer's own figures ({@link Communicator#stats()}) and its metrics endpoint ({@code Builder.metricsPort}) against
 * a real group: every outcome is counted exactly once, the byte counts are the sums of what the calls returned,
 * and a scrape says the same as {@code stats()}.
 */
@Tag("slow")
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PeerStatsSystemTest {
    private static final long BOUND_S = AllReduceCluster.BOUND_S;
    private static final int W = 3;

    private final MetricsScrape http = new MetricsScrape();

    @Test
    void shouldCountEveryOutcomeAndServeTheSameFiguresOverHttp() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(W, b -> b.metricsPort(0))) {
            final List<Communicator> peers = cluster.peers();
            final List<CommunicatorStats> before = new ArrayList<>();
            for (Communicator c : peers) {
                final CommunicatorStats s = c.stats();
                assertEquals(W, s.peerGroupWorldSize());
                assertEquals(0, s.allReducesSucceeded() + s.allReducesFailed() + s.syncsSucceeded());
                assertEquals(-1, s.sharedStateRevision());
                before.add(s);
            }

            // Two all-reduces, one sync, one joint topology update; every peer returns what it moved.
            final List<Future<long[]>> runs = new ArrayList<>();
            for (Communicator c : peers) {
                runs.add(cluster.pool().submit(() -> {
                    final float[] v = new float[10_000];
                    final ReduceInfo a = c.allReduce(v, v, ReduceDescriptor.of(v.length, DataType.FLOAT32,
                            ReduceOp.SUM).tag(1));
                    final ReduceInfo b = c.allReduce(v, new float[v.length], ReduceDescriptor.of(v.length,
                            DataType.FLOAT32, ReduceOp.MAX).tag(2));
                    final SyncInfo s = c.syncSharedState(SharedState.builder().entry("w", new float[] {1f}).build(),
                            SyncStrategy.ENFORCE_POPULAR);
                    return new long[] {a.txBytes() + b.txBytes(), a.rxBytes() + b.rxBytes(), s.revision()};
                }));
            }
            final long[][] moved = new long[W][];
            for (int i = 0; i < W; i++) {
                moved[i] = runs.get(i).get(BOUND_S, TimeUnit.SECONDS);
            }
            cluster.updateTopology(peers);

            // A launch with other parameters fails the operation on every peer: counted as one failure each.
            final List<Future<ReduceInfo>> mismatched = new ArrayList<>();
            for (int i = 0; i < W; i++) {
                final int count = i == 0 ? 64 : 32;
                mismatched.add(peers.get(i).allReduceAsync(new int[count], new int[count],
                        ReduceDescriptor.of(count, DataType.INT32, ReduceOp.SUM).tag(3)));
            }
            for (Future<ReduceInfo> f : mismatched) {
                final ExecutionException e = assertThrows(ExecutionException.class,
                        () -> f.get(BOUND_S, TimeUnit.SECONDS));
                assertEquals(PcclException.Code.INVALID_ARGUMENT, assertInstanceOf(PcclException.class,
                        e.getCause()).code());
            }

            for (int i = 0; i < W; i++) {
                final CommunicatorStats b = before.get(i);
                final CommunicatorStats s = peers.get(i).stats();
                assertEquals(2, s.allReducesSucceeded(), "peer " + i);
                assertEquals(1, s.allReducesFailed(), "peer " + i);
                assertEquals(0, s.allReducesInFlight());
                assertTrue(moved[i][0] > 0, "the operations sent something");
                assertEquals(moved[i][0], s.allReduceTxBytes(), "the sum of ReduceInfo.txBytes");
                assertEquals(moved[i][1], s.allReduceRxBytes(), "the sum of ReduceInfo.rxBytes");
                assertEquals(1, s.syncsSucceeded());
                assertEquals(0, s.syncsFailed());
                assertEquals(moved[i][2], s.sharedStateRevision());
                assertEquals(b.topologyUpdatesSucceeded() + 1, s.topologyUpdatesSucceeded());
                assertEquals(0, s.topologyUpdatesFailed());
                assertEquals(0, s.allReduceRetryRounds());

                final Communicator c = peers.get(i);
                final Map<String, Double> m = http.samples(c.metricsPort());
                assertEquals(1.0, m.get("pccl_peer_info{peer_id=\"" + c.peerId() + "\"}"), m::toString);
                assertEquals(W, m.get("pccl_peer_group_world_size"));
                assertEquals(2.0, m.get("pccl_peer_allreduces_total{result=\"success\"}"));
                assertEquals(1.0, m.get("pccl_peer_allreduces_total{result=\"failure\"}"));
                assertEquals((double) s.allReduceTxBytes(), m.get("pccl_peer_allreduce_sent_bytes_total"));
                assertEquals((double) s.allReduceRxBytes(), m.get("pccl_peer_allreduce_received_bytes_total"));
                assertEquals((double) s.sharedStateRevision(), m.get("pccl_peer_shared_state_revision"));
                assertEquals((double) s.topologyUpdatesSucceeded(),
                        m.get("pccl_peer_topology_updates_total{result=\"success\"}"));
                assertEquals(404, http.get(c.metricsPort(), "/", "GET").statusCode());
            }
        }
    }

    @Test
    void shouldFailConnectNamingTheAddressWhenTheMetricsPortIsTaken() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(1);
             ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(MetricsScrape.LOOPBACK, 0));
            final int port = taken.getLocalPort();
            try (Communicator off = cluster.builder().build()) {
                assertEquals(-1, off.metricsPort());
                final CommunicatorStats fresh = off.stats();
                assertEquals(0, fresh.peerGroupWorldSize());
                assertEquals(0, fresh.allReducesSucceeded());
            }
            try (Communicator c = cluster.builder().metricsHost(MetricsScrape.LOOPBACK).metricsPort(port).build()) {
                final PcclException e = assertThrows(PcclException.class, c::connect);
                assertEquals(PcclException.Code.FAILED_PRECONDITION, e.code());
                assertTrue(e.getMessage().contains(MetricsScrape.LOOPBACK + ":" + port), e.getMessage());
                assertEquals(-1, c.metricsPort());
            }
            assertThrows(PcclException.class, () -> Communicator.builder().metricsPort(-2));
            assertThrows(PcclException.class, () -> Communicator.builder().metricsPort(65536));
        }
    }
}
