package io.pccl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code optimizeTopology()} over loopback with a real master: every peer measures, the group adopts one ring,
 * all-reduces run on it, a repeated call (nothing left to measure) and a newcomer's call work, and a call while
 * all-reduces run is rejected locally. Loopback links are alike, so which ring wins is not asserted here (see
 * {@code TopologyOptimizationNetnsTest} for a throttled link; conflicting votes are covered by the master's
 * {@code TopologyOptimizationTest}).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TopologyOptimizationSystemTest {
    private static final Duration MEASURE = Duration.ofMillis(150);

    /**
     * The joint call on every peer; checks that all adopted and reported one ring of every peer with a measured
     * bottleneck, and that the peers measured {@code edges} edges together (each edge once).
     */
    private static List<Long> optimizeAll(final AllReduceCluster cluster, final List<Communicator> peers,
                                          final int edges) throws Exception {
        final List<Future<OptimizeInfo>> calls = new ArrayList<>();
        for (final Communicator c : peers) {
            calls.add(cluster.pool().submit(c::optimizeTopology));
        }
        final List<OptimizeInfo> infos = new ArrayList<>();
        for (final Future<OptimizeInfo> f : calls) {
            infos.add(f.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS));
        }
        final List<Long> ring = peers.get(0).ring();
        int measured = 0;
        for (int i = 0; i < peers.size(); i++) {
            final OptimizeInfo info = infos.get(i);
            assertEquals(ring, info.ring(), "peer " + peers.get(i).peerId() + " reported another ring");
            assertEquals(ring, peers.get(i).ring(), "peer " + peers.get(i).peerId() + " adopted another ring");
            assertTrue(info.bottleneckMbitPerS() > 0, () -> "every edge of the ring is measured: " + info);
            assertTrue(info.exact(), "a group this small is solved exactly: " + info);
            measured += info.edgesMeasured();
        }
        assertEquals(edges, measured, "edges measured by the group in this call");
        assertEquals(peers.size(), new HashSet<>(ring).size(), "ring " + ring);
        return ring;
    }

    private static void assertAllReduceWorks(final AllReduceCluster cluster, final List<Communicator> peers,
                                             final int tag) throws Exception {
        final int n = 10_000;
        final List<Future<float[]>> results = new ArrayList<>();
        for (int r = 0; r < peers.size(); r++) {
            final Communicator c = peers.get(r);
            final float value = r + 1;
            results.add(cluster.pool().submit(() -> {
                final float[] x = new float[n];
                Arrays.fill(x, value);
                c.allReduce(x, x, ReduceDescriptor.of(n, DataType.FLOAT32, ReduceOp.SUM).tag(tag));
                return x;
            }));
        }
        final float[] expected = new float[n];
        Arrays.fill(expected, peers.size() * (peers.size() + 1) / 2f);
        for (final Future<float[]> f : results) {
            assertArrayEquals(expected, f.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS));
        }
    }

    @Test
    void everyPeerMeasuresAndTheGroupAdoptsOneRingThenANewcomerIsMeasuredInTheNextCall() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(3, b -> b.benchmarkDuration(MEASURE))) {
            final List<Long> ring = optimizeAll(cluster, cluster.peers(), 6);
            assertAllReduceWorks(cluster, cluster.peers(), 1);
            // Nothing new to measure: the same ring again.
            assertEquals(ring, optimizeAll(cluster, cluster.peers(), 0));
            // A newcomer joins at the end of the optimized order, then the next call measures its edges.
            cluster.join(cluster.builder().benchmarkDuration(MEASURE).build());
            final List<Long> withNewcomer = cluster.peers().get(0).ring();
            assertEquals(ring, withNewcomer.subList(0, 3), "optimized order kept, newcomer appended: " + withNewcomer);
            optimizeAll(cluster, cluster.peers(), 6); // the newcomer's 3 edges out and 3 in
            assertAllReduceWorks(cluster, cluster.peers(), 2);
        }
    }

    @Test
    void aCallWhileAllReducesRunIsRejectedLocally() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(2, b -> b.benchmarkDuration(MEASURE))) {
            final Communicator c = cluster.peers().get(0);
            final float[] x = new float[1000];
            final var running = c.allReduceAsync(x, x, ReduceDescriptor.of(1000, DataType.FLOAT32, ReduceOp.SUM)
                    .tag(5));
            final PcclException e = assertThrows(PcclException.class, c::optimizeTopology);
            assertEquals(PcclException.Code.FAILED_PRECONDITION, e.code());
            assertTrue(e.getMessage().contains("optimizeTopology()") && e.getMessage().contains("5"),
                    e.getMessage());
            // Let the operation finish with its partner.
            final float[] y = new float[1000];
            cluster.peers().get(1).allReduce(y, y, ReduceDescriptor.of(1000, DataType.FLOAT32, ReduceOp.SUM).tag(5));
            try {
                running.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
            } catch (final ExecutionException ex) {
                throw new AssertionError("the running operation failed", ex);
            }
        }
    }
}
