package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RingOptimizer}: the lexicographic objective (bottleneck, cost sum, ring order), unreachable edges,
 * determinism, agreement with brute force for small groups, and valid rings for large ones.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RingOptimizerTest {
    private static final long SEED = 20260321L;

    @Test
    void shouldUseAscendingOrderWithoutMeasurements() {
        final RingOptimizer.Result small = RingOptimizer.optimize(List.of(3L, 7L, 9L, 12L), Map.of(), Map.of());
        assertEquals(new RingOptimizer.Result(List.of(3L, 7L, 9L, 12L), 0.0, true), small);
        final List<Long> large = ids(1, 40);
        final RingOptimizer.Result heuristic = RingOptimizer.optimize(large, Map.of(), Map.of());
        assertEquals(new RingOptimizer.Result(large, 0.0, false), heuristic);
    }

    @Test
    void shouldHandleEmptySingleAndPairGroups() {
        assertEquals(new RingOptimizer.Result(List.of(), Double.POSITIVE_INFINITY, true),
                RingOptimizer.optimize(List.of(), Map.of(), Map.of()));
        assertEquals(new RingOptimizer.Result(List.of(5L), Double.POSITIVE_INFINITY, true),
                RingOptimizer.optimize(List.of(5L), Map.of(), Map.of(5L, Set.of(5L))));
        final Map<Long, Map<Long, Double>> mbps = Map.of(1L, Map.of(2L, 300.0), 2L, Map.of(1L, 200.0));
        assertEquals(new RingOptimizer.Result(List.of(1L, 2L), 200.0, true),
                RingOptimizer.optimize(List.of(1L, 2L), mbps, Map.of()));
        assertNull(RingOptimizer.optimize(List.of(1L, 2L), mbps, Map.of(2L, Set.of(1L))));
    }

    @Test
    void shouldFindClearBestRing() {
        // Every edge is slow except those of the ring 1 -> 3 -> 2 -> 4 -> 1.
        final List<Long> peers = ids(1, 4);
        final Map<Long, Map<Long, Double>> mbps = uniform(peers, 10.0);
        mbps.get(1L).put(3L, 100.0);
        mbps.get(3L).put(2L, 100.0);
        mbps.get(2L).put(4L, 100.0);
        mbps.get(4L).put(1L, 100.0);
        assertEquals(new RingOptimizer.Result(List.of(1L, 3L, 2L, 4L), 100.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
    }

    @Test
    void shouldPreferHigherBottleneckOverLowerCostSum() {
        // Ascending: three 1000 Mbit/s edges and one of 5 (min 5, cost 1 + 1 + 1 + 200 = 203).
        // Descending: four 10 Mbit/s edges (min 10, cost 400). The bottleneck decides.
        final List<Long> peers = ids(1, 4);
        final Map<Long, Map<Long, Double>> mbps = uniform(peers, 1.0);
        mbps.get(1L).put(2L, 1000.0);
        mbps.get(2L).put(3L, 1000.0);
        mbps.get(3L).put(4L, 1000.0);
        mbps.get(4L).put(1L, 5.0);
        mbps.get(1L).put(4L, 10.0);
        mbps.get(4L).put(3L, 10.0);
        mbps.get(3L).put(2L, 10.0);
        mbps.get(2L).put(1L, 10.0);
        assertEquals(new RingOptimizer.Result(List.of(1L, 4L, 3L, 2L), 10.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
        // Equal bottlenecks: the cost sum decides (ascending now has min 10 and cost 1 + 1 + 1 + 100 = 103).
        mbps.get(4L).put(1L, 10.0);
        assertEquals(new RingOptimizer.Result(List.of(1L, 2L, 3L, 4L), 10.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
    }

    @Test
    void shouldAvoidUnreachableEdgesAndReturnNullWhenImpossible() {
        final List<Long> three = ids(1, 3);
        assertEquals(new RingOptimizer.Result(List.of(1L, 3L, 2L), 100.0, true),
                RingOptimizer.optimize(three, uniform(three, 100.0), Map.of(1L, Set.of(2L))));
        assertNull(RingOptimizer.optimize(three, uniform(three, 100.0), Map.of(1L, Set.of(2L, 3L))));
        assertNull(RingOptimizer.optimize(three, Map.of(), Map.of(1L, Set.of(2L), 2L, Set.of(1L))));
        // The fastest edge 1 -> 2 is unreachable: it must not be used even though it was measured.
        final Map<Long, Map<Long, Double>> mbps = uniform(three, 10.0);
        mbps.get(1L).put(2L, 1000.0);
        assertEquals(List.of(1L, 3L, 2L), RingOptimizer.optimize(three, mbps, Map.of(1L, Set.of(2L))).ring());

        final List<Long> large = ids(1, 30);
        final Map<Long, Set<Long>> blocked = new HashMap<>();
        blocked.put(1L, Set.of(2L));
        blocked.put(17L, Set.of(18L, 19L));
        final RingOptimizer.Result avoided = RingOptimizer.optimize(large, Map.of(), blocked);
        assertValidRing(large, blocked, avoided);
        blocked.put(5L, new HashSet<>(large)); // 5 reaches nobody
        assertNull(RingOptimizer.optimize(large, Map.of(), blocked));
    }

    @Test
    void shouldTreatUnmeasuredEdgesAsZero() {
        // Only the ring 1 -> 3 -> 2 -> 4 -> 1 is measured, and slowly: it still beats any ring with a gap.
        final List<Long> peers = ids(1, 4);
        final Map<Long, Map<Long, Double>> mbps = new HashMap<>();
        put(mbps, 1L, 3L, 1.0);
        put(mbps, 3L, 2L, 1.0);
        put(mbps, 2L, 4L, 1.0);
        put(mbps, 4L, 1L, 1.0);
        assertEquals(new RingOptimizer.Result(List.of(1L, 3L, 2L, 4L), 1.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
        // Without 4 -> 1 no ring is fully measured: bottleneck 0, and the ring with the fewest gaps wins.
        mbps.get(4L).remove(1L);
        assertEquals(new RingOptimizer.Result(List.of(1L, 3L, 2L, 4L), 0.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
        // A measured 0 Mbit/s edge is no better than an unmeasured one, and no worse.
        put(mbps, 4L, 1L, 0.0);
        assertEquals(new RingOptimizer.Result(List.of(1L, 3L, 2L, 4L), 0.0, true),
                RingOptimizer.optimize(peers, mbps, Map.of()));
    }

    @Test
    void shouldBeDeterministicAndIndependentOfMapOrder() {
        System.out.println("RingOptimizerTest determinism seed " + SEED);
        final Random random = new Random(SEED);
        for (final int n : new int[] {9, 12, 13, 40, 100}) {
            final List<Long> peers = randomIds(random, n);
            final List<long[]> edges = new ArrayList<>();
            final List<double[]> values = new ArrayList<>();
            for (final long from : peers) {
                for (final long to : peers) {
                    if (from != to && random.nextInt(10) != 0) {
                        edges.add(new long[] {from, to});
                        values.add(new double[] {10 * (1 + random.nextInt(50))}); // ties on purpose
                    }
                }
            }
            final Map<Long, Set<Long>> blocked = new HashMap<>();
            blocked.computeIfAbsent(peers.get(random.nextInt(n)), k -> new HashSet<>()).add(peers.get(0));
            final RingOptimizer.Result first = RingOptimizer.optimize(peers, build(edges, values, false, 16),
                    blocked);
            assertValidRing(peers, blocked, first);
            assertEquals(first, RingOptimizer.optimize(peers, build(edges, values, false, 16), blocked));
            assertEquals(first, RingOptimizer.optimize(peers, build(edges, values, true, 1024), blocked));
            final Map<Long, Map<Long, Double>> reversed = new TreeMap<>(Collections.reverseOrder());
            reversed.putAll(build(edges, values, true, 4));
            final Map<Long, Set<Long>> blockedCopy = new TreeMap<>(Collections.reverseOrder());
            blockedCopy.putAll(blocked);
            assertEquals(first, RingOptimizer.optimize(peers, reversed, blockedCopy));
        }
    }

    @Test
    void shouldMatchBruteForceForSmallGroups() {
        System.out.println("RingOptimizerTest brute force seed " + SEED);
        final Random random = new Random(SEED);
        int rings = 0;
        int nulls = 0;
        for (int n = 2; n <= 8; n++) {
            for (int instance = 0; instance < 60; instance++) {
                final List<Long> peers = randomIds(random, n);
                final boolean coarse = instance % 2 == 0; // few distinct values: many ties in both criteria
                final int unmeasuredPercent = instance % 3 == 0 ? 0 : random.nextInt(60);
                final int blockedPercent = instance % 4 == 0 ? 0 : random.nextInt(40);
                final Map<Long, Map<Long, Double>> mbps = new HashMap<>();
                final Map<Long, Set<Long>> blocked = new HashMap<>();
                for (final long from : peers) {
                    for (final long to : peers) {
                        if (from == to) {
                            continue;
                        }
                        if (random.nextInt(100) >= unmeasuredPercent) {
                            put(mbps, from, to, coarse ? 25.0 * random.nextInt(5) : 1 + 999 * random.nextDouble());
                        }
                        if (random.nextInt(100) < blockedPercent) {
                            blocked.computeIfAbsent(from, k -> new HashSet<>()).add(to);
                        }
                    }
                }
                final RingOptimizer.Result expected = bruteForce(peers, mbps, blocked);
                final RingOptimizer.Result actual = RingOptimizer.optimize(peers, mbps, blocked);
                assertEquals(expected, actual, "n=" + n + " instance " + instance + " mbps " + mbps
                        + " unreachable " + blocked);
                if (expected == null) {
                    nulls++;
                } else {
                    rings++;
                }
            }
        }
        assertTrue(rings > 300 && nulls > 5, rings + " rings and " + nulls + " impossible instances");
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void shouldReturnValidRingForLargeGroupsQuickly() {
        System.out.println("RingOptimizerTest large groups seed " + SEED);
        final Random random = new Random(SEED);
        for (final int n : new int[] {13, 64, 256}) {
            for (final boolean ascendingUsable : new boolean[] {true, false}) {
                final List<Long> peers = randomIds(random, n);
                final Map<Long, Map<Long, Double>> mbps = new HashMap<>();
                final Map<Long, Set<Long>> blocked = new HashMap<>();
                for (int a = 0; a < n; a++) {
                    for (int b = 0; b < n; b++) {
                        final boolean onAscending = b == (a + 1) % n;
                        if (a != b && random.nextInt(50) == 0 && !(ascendingUsable && onAscending)) {
                            blocked.computeIfAbsent(peers.get(a), k -> new HashSet<>()).add(peers.get(b));
                        } else if (a != b && random.nextInt(40) != 0) {
                            put(mbps, peers.get(a), peers.get(b), 100 + 9900 * random.nextDouble());
                        }
                    }
                }
                final long startNs = System.nanoTime();
                final RingOptimizer.Result result = RingOptimizer.optimize(peers, mbps, blocked);
                final long firstNs = System.nanoTime() - startNs;
                final long againNs = System.nanoTime();
                final RingOptimizer.Result again = RingOptimizer.optimize(peers, mbps, blocked);
                final long secondNs = System.nanoTime() - againNs;
                assertEquals(result, again);
                assertValidRing(peers, blocked, result);
                assertFalse(result.exact());
                assertEquals(bottleneck(result.ring(), mbps), result.bottleneckMbps());
                final double ascending = bottleneck(peers, mbps);
                if (ascendingUsable) {
                    assertTrue(result.bottleneckMbps() >= ascending, result.bottleneckMbps() + " < " + ascending);
                }
                System.out.printf("RingOptimizerTest n=%d ascendingUsable=%b: bottleneck %.1f (ascending %.1f),"
                                + " first call %.2f ms, second call %.2f ms%n", n, ascendingUsable,
                        result.bottleneckMbps(), ascending, firstNs / 1e6, secondNs / 1e6);
            }
        }
    }

    @Test
    void shouldRepairSparseGroupsWhereGreedyGetsStuck() {
        System.out.println("RingOptimizerTest sparse seed " + SEED);
        final Random random = new Random(SEED);
        // Up to 200 peers that each reach only a few others: greedy gets stuck, repair and fallbacks must not.
        final int[][] cases = {{20, 0}, {20, 1}, {20, 3}, {60, 0}, {60, 10}, {60, 20}, {200, 0}, {200, 20}};
        for (final int[] c : cases) {
            final int n = c[0];
            final int extra = c[1];
            // Usable: a hidden random cycle plus a few random edges per peer; every other edge is unreachable.
            final List<Long> peers = ids(1, n);
            final List<Long> hidden = new ArrayList<>(peers);
            Collections.shuffle(hidden, random);
            final Map<Long, Set<Long>> usable = new HashMap<>();
            for (int i = 0; i < n; i++) {
                final Set<Long> out = usable.computeIfAbsent(hidden.get(i), k -> new HashSet<>());
                out.add(hidden.get((i + 1) % n));
                for (int e = 0; e < extra; e++) {
                    out.add(peers.get(random.nextInt(n)));
                }
            }
            final Map<Long, Map<Long, Double>> mbps = new HashMap<>();
            final Map<Long, Set<Long>> blocked = new HashMap<>();
            for (final long from : peers) {
                for (final long to : peers) {
                    if (from != to && !usable.get(from).contains(to)) {
                        blocked.computeIfAbsent(from, k -> new HashSet<>()).add(to);
                    } else if (from != to) {
                        put(mbps, from, to, 1 + random.nextInt(1000));
                    }
                }
            }
            final RingOptimizer.Result result = RingOptimizer.optimize(peers, mbps, blocked);
            assertValidRing(peers, blocked, result);
            if (extra == 0) {
                assertEquals(bottleneck(hidden, mbps), result.bottleneckMbps());
            }
        }
    }

    /** Every permutation starting at the lowest id, in lexicographic order; keeps the first strictly better. */
    private static RingOptimizer.Result bruteForce(final List<Long> peers, final Map<Long, Map<Long, Double>> mbps,
                                                  final Map<Long, Set<Long>> blocked) {
        final int n = peers.size();
        final long scale = RingOptimizer.costScale(n);
        final int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        List<Long> best = null;
        double bestBottleneck = -1;
        long bestCost = Long.MAX_VALUE;
        do {
            final List<Long> ring = new ArrayList<>();
            for (final int i : order) {
                ring.add(peers.get(i));
            }
            if (!usable(ring, blocked)) {
                continue;
            }
            final double min = bottleneck(ring, mbps);
            long cost = 0;
            for (int i = 0; i < n; i++) {
                cost += RingOptimizer.costUnits(mbit(mbps, ring.get(i), ring.get((i + 1) % n)), scale);
            }
            if (min > bestBottleneck || min == bestBottleneck && cost < bestCost) {
                best = ring;
                bestBottleneck = min;
                bestCost = cost;
            }
        } while (nextPermutation(order));
        return best == null ? null : new RingOptimizer.Result(best, bestBottleneck, true);
    }

    /** Next lexicographic permutation of {@code order[1..]} (index 0 stays first); false after the last. */
    private static boolean nextPermutation(final int[] order) {
        int i = order.length - 2;
        while (i >= 1 && order[i] > order[i + 1]) {
            i--;
        }
        if (i < 1) {
            return false;
        }
        int j = order.length - 1;
        while (order[j] < order[i]) {
            j--;
        }
        swap(order, i, j);
        for (int lo = i + 1, hi = order.length - 1; lo < hi; lo++, hi--) {
            swap(order, lo, hi);
        }
        return true;
    }

    private static void swap(final int[] a, final int i, final int j) {
        final int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    private static void assertValidRing(final List<Long> peers, final Map<Long, Set<Long>> blocked,
                                        final RingOptimizer.Result result) {
        assertNotNull(result, "no ring over " + peers.size() + " peers");
        final List<Long> ring = result.ring();
        assertEquals(peers.size(), ring.size());
        assertEquals(new HashSet<>(peers), new HashSet<>(ring), "every peer exactly once");
        assertEquals(Collections.min(peers), ring.get(0), "starts at the lowest id");
        assertTrue(usable(ring, blocked), "uses an unreachable edge: " + ring);
    }

    private static boolean usable(final List<Long> ring, final Map<Long, Set<Long>> blocked) {
        for (int i = 0; i < ring.size(); i++) {
            final Set<Long> out = blocked.get(ring.get(i));
            if (out != null && out.contains(ring.get((i + 1) % ring.size()))) {
                return false;
            }
        }
        return true;
    }

    private static double bottleneck(final List<Long> ring, final Map<Long, Map<Long, Double>> mbps) {
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < ring.size(); i++) {
            min = Math.min(min, mbit(mbps, ring.get(i), ring.get((i + 1) % ring.size())));
        }
        return min;
    }

    private static double mbit(final Map<Long, Map<Long, Double>> mbps, final long from, final long to) {
        final Map<Long, Double> row = mbps.get(from);
        final Double v = row == null ? null : row.get(to);
        return v == null ? 0.0 : v;
    }

    private static void put(final Map<Long, Map<Long, Double>> mbps, final long from, final long to,
                            final double value) {
        mbps.computeIfAbsent(from, k -> new HashMap<>()).put(to, value);
    }

    private static Map<Long, Map<Long, Double>> uniform(final List<Long> peers, final double value) {
        final Map<Long, Map<Long, Double>> mbps = new HashMap<>();
        for (final long from : peers) {
            for (final long to : peers) {
                if (from != to) {
                    put(mbps, from, to, value);
                }
            }
        }
        return mbps;
    }

    /** The same entries inserted forwards or backwards into HashMaps of the given initial capacity. */
    private static Map<Long, Map<Long, Double>> build(final List<long[]> edges, final List<double[]> values,
                                                      final boolean backwards, final int capacity) {
        final Map<Long, Map<Long, Double>> mbps = new HashMap<>(capacity);
        for (int k = 0; k < edges.size(); k++) {
            final int i = backwards ? edges.size() - 1 - k : k;
            mbps.computeIfAbsent(edges.get(i)[0], x -> new HashMap<>(capacity)).put(edges.get(i)[1], values.get(i)[0]);
        }
        return mbps;
    }

    private static List<Long> ids(final long first, final long last) {
        final List<Long> ids = new ArrayList<>();
        for (long id = first; id <= last; id++) {
            ids.add(id);
        }
        return ids;
    }

    /** Distinct random ids (spread out, so HashMap order differs from numeric order), ascending. */
    private static List<Long> randomIds(final Random random, final int n) {
        final Set<Long> set = new HashSet<>();
        while (set.size() < n) {
            set.add(random.nextLong() >>> 16);
        }
        final List<Long> ids = new ArrayList<>(set);
        Collections.sort(ids);
        return ids;
    }
}
