package io.pccl.master.state;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Chooses the order of a ring all-reduce over a peer group from measured point-to-point bandwidths. Each peer
 * sends to its ring successor, so the ring uses the directed edges {@code ring[i] -> ring[i + 1]} and the
 * closing edge from the last peer back to the first; an edge its dialer reported unreachable is never used.
 *
 * <p>Objective, compared lexicographically:
 * <ol>
 *   <li>maximize the bottleneck, the smallest edge bandwidth along the ring (an unmeasured edge counts as
 *       0 Mbit/s: usable, but the worst);</li>
 *   <li>minimize the sum of the edge costs {@code 1000 / Mbit/s}, where an unmeasured or 0 Mbit/s edge costs
 *       {@link #UNMEASURED_COST} instead of infinity. Costs are rounded to integer multiples of
 *       {@code 1 / costScale(n)} (2^-18 or finer up to 12 peers, 2^-14 at 256 peers) so that ring sums
 *       are exact {@code long}s and compare identically whatever the summation order;</li>
 *   <li>the lexicographically smallest ring (peer ids in order, starting at the lowest id).</li>
 * </ol>
 * Without measurements every ring ties, so the answer is plain ascending order whenever that ring is usable.
 *
 * <p>Up to {@link #EXACT_MAX_PEERS} peers the answer is optimal: a binary search over the distinct edge
 * bandwidths finds the largest bottleneck that still admits a Hamiltonian cycle (subset dynamic programming,
 * O(2^n n^2)), then a Held-Karp table of cheapest completions, restricted to edges at or above that bottleneck,
 * is walked from the lowest id taking the smallest successor that still reaches the optimum.
 *
 * <p>Larger groups get a heuristic: the better of ascending order and a greedy widest-edge walk from the
 * lowest id (which may still use unusable edges) is improved by directed 3-opt moves that swap two adjacent
 * ring segments, so no segment is ever reversed. First the bottleneck is raised, one level at a time, by
 * removing every edge at the current minimum (this also repairs unusable edges); then or-opt moves (segments
 * of up to three peers, tried next to each peer's cheapest neighbours) lower the cost sum without dropping
 * below the bottleneck. When unusable edges survive the repair, a cycle cover (a perfect successor matching
 * whose cycles are merged where two peers can swap successors) and then a pruned depth-first search supply the
 * start ring instead. The work is bounded by {@link #MAX_EDGE_EVALUATIONS} and {@link #MAX_FALLBACK_STEPS},
 * never by a clock, so the same input always gives the same ring. Groups whose peers each reach only a few
 * others (a sparse Hamiltonian-cycle problem) may get null although a ring exists. The local search lives in
 * {@link RingLocalSearch}, the cycle cover and depth-first fallbacks in {@link RingFallbacks}.
 *
 * <p>Thread-safe (stateless).
 */
final class RingOptimizer {
    /** Largest group solved exactly. */
    static final int EXACT_MAX_PEERS = 12;
    /** Bound on the edges the heuristic's local search looks at. */
    static final int MAX_EDGE_EVALUATIONS = 2_000_000;
    /** Bound on the adjacency visits of each of the heuristic's fallbacks (cycle cover, depth-first search). */
    static final int MAX_FALLBACK_STEPS = 500_000;
    /** Cost of an unmeasured or 0 Mbit/s edge, standing in for {@code 1000 / 0} so sums stay finite. */
    static final double UNMEASURED_COST = 1e12;

    /** Value of an edge that must not be used (reported unreachable, or a self edge). */
    private static final double UNUSABLE = -1.0;
    /** Marks "no completion" in the Held-Karp table. */
    private static final long NO_PATH = Long.MAX_VALUE;
    /** A ring's cost sum stays below this, far from {@code Long.MAX_VALUE}. */
    private static final double MAX_RING_COST_UNITS = 0x1p62;
    private static final int MAX_COST_SCALE_SHIFT = 20;

    private RingOptimizer() {
    }

    /**
     * Finds the best ring.
     *
     * @param peers the group's peer ids, ascending, no duplicates (size >= 0)
     * @param mbps  measured bandwidth in Mbit/s of the directed edge from -> to (the "from" peer sends to its ring
     *              successor "to"); an absent entry means "not measured"; values are finite and >= 0
     * @param unreachable dialer id -> ids it cannot reach; those directed edges must not be used
     * @return the result, or null when no ring avoids the unreachable edges (or for >EXACT_MAX_PEERS, none was
     *         found within the step bound)
     */
    static Result optimize(final List<Long> peers, final Map<Long, ? extends Map<Long, Double>> mbps,
                           final Map<Long, ? extends Set<Long>> unreachable) {
        final int n = peers.size();
        if (n <= 1) {
            return new Result(n == 0 ? List.of() : List.of(peers.get(0)), Double.POSITIVE_INFINITY, true);
        }
        final long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = peers.get(i);
        }
        // Already ascending by contract; sorting keeps "starts at the lowest id" true for any caller.
        Arrays.sort(ids);
        final double[] value = edgeValues(ids, mbps, unreachable);
        final long scale = costScale(n);
        final long[] cost = new long[n * n];
        for (int e = 0; e < cost.length; e++) {
            cost[e] = costUnits(value[e], scale);
        }
        final boolean exact = n <= EXACT_MAX_PEERS;
        final int[] ring = exact ? exactRing(value, cost, n) : heuristicRing(value, cost, n);
        return ring == null ? null : toResult(ids, ring, value, exact);
    }

    /**
     * The cost quantum for a group of {@code peerCount}: the largest power of two (at most 2^20) for which
     * {@code peerCount} edges of {@link #UNMEASURED_COST} stay below 2^62 units.
     */
    static long costScale(final int peerCount) {
        long scale = 1L << MAX_COST_SCALE_SHIFT;
        while (scale > 1 && scale * UNMEASURED_COST * peerCount > MAX_RING_COST_UNITS) {
            scale >>= 1;
        }
        return scale;
    }

    /** Cost of an edge of {@code mbps} (0 when unmeasured) in units of {@code 1 / scale}. */
    static long costUnits(final double mbps, final long scale) {
        final double cost = mbps > 0 ? Math.min(1000.0 / mbps, UNMEASURED_COST) : UNMEASURED_COST;
        return Math.round(cost * scale);
    }

    /**
     * Row-major {@code n x n} edge values: the measured Mbit/s, 0 when unmeasured, {@link #UNUSABLE} for self
     * edges and unreachable ones. Entries are looked up by binary search, so map iteration order never matters.
     */
    private static double[] edgeValues(final long[] ids, final Map<Long, ? extends Map<Long, Double>> mbps,
                                       final Map<Long, ? extends Set<Long>> unreachable) {
        final int n = ids.length;
        final double[] value = new double[n * n];
        for (int a = 0; a < n; a++) {
            final Long from = ids[a];
            final Map<Long, Double> row = mbps.get(from);
            if (row != null) {
                for (final Map.Entry<Long, Double> e : row.entrySet()) {
                    final int b = indexOf(ids, e.getKey());
                    final Double mbit = e.getValue();
                    if (b >= 0 && mbit != null) {
                        final double v = mbit;
                        value[a * n + b] = v > 0 ? v : 0.0; // folds -0.0 (and an illegal NaN) into "unmeasured"
                    }
                }
            }
        }
        for (int a = 0; a < n; a++) {
            value[a * n + a] = UNUSABLE;
            final Set<Long> blocked = unreachable.get(ids[a]);
            if (blocked != null) {
                for (final Long to : blocked) {
                    final int b = indexOf(ids, to);
                    if (b >= 0) {
                        value[a * n + b] = UNUSABLE;
                    }
                }
            }
        }
        return value;
    }

    private static int indexOf(final long[] ids, final Long id) {
        return id == null ? -1 : Arrays.binarySearch(ids, id);
    }

    private static Result toResult(final long[] ids, final int[] ring, final double[] value, final boolean exact) {
        final int n = ring.length;
        int start = 0;
        while (ring[start] != 0) {
            start++;
        }
        final Long[] order = new Long[n];
        double bottleneck = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            final int from = ring[(start + i) % n];
            order[i] = ids[from];
            bottleneck = Math.min(bottleneck, value[from * n + ring[(start + i + 1) % n]]);
        }
        return new Result(List.of(order), bottleneck, exact);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Exact search (n <= EXACT_MAX_PEERS)

    private static int[] exactRing(final double[] value, final long[] cost, final int n) {
        final double[] levels = usableLevels(value);
        if (levels.length == 0 || !hasCycle(value, n, levels[0])) {
            return null;
        }
        // Invariant: a cycle exists over the edges >= levels[lo], and none over the edges >= levels[hi + 1].
        int lo = 0;
        int hi = levels.length - 1;
        while (lo < hi) {
            final int mid = (lo + hi + 1) >>> 1;
            if (hasCycle(value, n, levels[mid])) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return cheapestCycle(value, cost, n, levels[lo]);
    }

    /** Distinct values of the usable edges, ascending. */
    private static double[] usableLevels(final double[] value) {
        final double[] sorted = value.clone();
        Arrays.sort(sorted);
        int count = 0;
        for (final double v : sorted) {
            if (v >= 0 && (count == 0 || v != sorted[count - 1])) {
                sorted[count++] = v;
            }
        }
        return Arrays.copyOf(sorted, count);
    }

    /** Whether a Hamiltonian cycle exists over the edges of value >= {@code level} (>= 0). */
    private static boolean hasCycle(final double[] value, final int n, final double level) {
        final int[] successors = new int[n];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                if (value[a * n + b] >= level) {
                    successors[a] |= 1 << b;
                }
            }
        }
        // ends[visited]: the nodes a path from node 0 over exactly the set "visited" (which holds node 0) can end at.
        final int all = (1 << n) - 1;
        final int[] ends = new int[1 << n];
        ends[1] = 1;
        for (int visited = 1; visited < all; visited += 2) {
            for (int e = ends[visited]; e != 0; e &= e - 1) {
                final int last = Integer.numberOfTrailingZeros(e);
                for (int next = successors[last] & ~visited; next != 0; next &= next - 1) {
                    final int bit = next & -next;
                    ends[visited | bit] |= bit;
                }
            }
        }
        for (int e = ends[all]; e != 0; e &= e - 1) {
            if ((successors[Integer.numberOfTrailingZeros(e)] & 1) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The lexicographically smallest cheapest cycle over the edges of value >= {@code level}, which must admit
     * one. {@code rest[s * n + j]} is the cheapest way from node {@code j}, having visited node 0 and the nodes
     * of {@code s} (bit {@code k - 1} for node {@code k}), through every other node and back to node 0.
     */
    private static int[] cheapestCycle(final double[] value, final long[] cost, final int n, final double level) {
        final int subsets = 1 << (n - 1);
        final int full = subsets - 1;
        final long[] rest = new long[subsets * n];
        Arrays.fill(rest, NO_PATH);
        for (int j = 1; j < n; j++) {
            if (value[j * n] >= level) {
                rest[full * n + j] = cost[j * n];
            }
        }
        for (int s = full - 1; s >= 0; s--) {
            for (int j = 0; j < n; j++) {
                final boolean last = j == 0 ? s == 0 : (s & (1 << (j - 1))) != 0;
                if (last) {
                    rest[s * n + j] = cheapestRest(value, cost, rest, n, level, s, j);
                }
            }
        }
        final int[] ring = new int[n];
        int s = 0;
        for (int p = 1; p < n; p++) {
            final int j = ring[p - 1];
            final int next = smallestStep(value, cost, rest, n, level, s, j, rest[s * n + j]);
            ring[p] = next;
            s |= 1 << (next - 1);
        }
        return ring;
    }

    /** The cheapest completion from {@code j} after visiting {@code s}, or {@link #NO_PATH}. */
    private static long cheapestRest(final double[] value, final long[] cost, final long[] rest, final int n,
                                     final double level, final int s, final int j) {
        long best = NO_PATH;
        for (int k = 1; k < n; k++) {
            final long total = viaSuccessor(value, cost, rest, n, level, s, j, k);
            if (total < best) {
                best = total;
            }
        }
        return best;
    }

    /** The smallest successor of {@code j} after visiting {@code s} whose completion costs {@code target}. */
    private static int smallestStep(final double[] value, final long[] cost, final long[] rest, final int n,
                                    final double level, final int s, final int j, final long target) {
        for (int k = 1; k < n; k++) {
            if (viaSuccessor(value, cost, rest, n, level, s, j, k) == target) {
                return k;
            }
        }
        throw new IllegalStateException("Held-Karp reconstruction lost the optimum " + target + " at node " + j);
    }

    /** The cheapest completion from {@code j} after visiting {@code s} that goes to {@code k} next. */
    private static long viaSuccessor(final double[] value, final long[] cost, final long[] rest, final int n,
                                     final double level, final int s, final int j, final int k) {
        final int bit = 1 << (k - 1);
        if ((s & bit) != 0 || value[j * n + k] < level) {
            return NO_PATH;
        }
        final long tail = rest[(s | bit) * n + k];
        return tail == NO_PATH ? NO_PATH : cost[j * n + k] + tail;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Heuristic (n > EXACT_MAX_PEERS)

    private static int[] heuristicRing(final double[] value, final long[] cost, final int n) {
        final double upper = bottleneckUpperBound(value, n);
        if (upper < 0) {
            return null; // some peer has no usable successor or predecessor
        }
        final RingLocalSearch search = new RingLocalSearch(value, cost, n, RingLocalSearch.startRing(value, cost, n));
        final int costReserve = MAX_EDGE_EVALUATIONS / 4;
        search.raiseBottleneck(upper, costReserve);
        if (search.bottleneck() < 0) {
            final int[][] successors = RingFallbacks.adjacency(value, n, true);
            final int[] cover = RingFallbacks.coverRing(value, n, successors);
            if (cover != null && cover.length == 0) {
                return null;
            }
            if (cover != null) {
                search.restart(cover);
                search.raiseBottleneck(upper, costReserve);
            }
            if (search.bottleneck() < 0) {
                final int[] fallback = RingFallbacks.depthFirstRing(value, n, successors,
                        RingFallbacks.adjacency(value, n, false));
                if (fallback == null) {
                    return null;
                }
                search.restart(fallback);
                search.raiseBottleneck(upper, costReserve);
            }
        }
        search.reduceCost();
        return search.ring();
    }

    /** No ring's bottleneck exceeds any peer's best outgoing or best incoming edge. */
    private static double bottleneckUpperBound(final double[] value, final int n) {
        double upper = Double.POSITIVE_INFINITY;
        for (int a = 0; a < n; a++) {
            double out = UNUSABLE;
            double in = UNUSABLE;
            for (int b = 0; b < n; b++) {
                out = Math.max(out, value[a * n + b]);
                in = Math.max(in, value[b * n + a]);
            }
            upper = Math.min(upper, Math.min(out, in));
        }
        return upper;
    }

    /**
     * The chosen ring.
     *
     * @param ring peer ids in ring order (each sends to the next, the last to the first), starting at the lowest id
     * @param bottleneckMbps the smallest edge bandwidth along the ring (0 if any edge is unmeasured; for 0 or 1
     *                       peers {@link Double#POSITIVE_INFINITY})
     * @param exact true when provably optimal (exact search)
     */
    record Result(List<Long> ring, double bottleneckMbps, boolean exact) {
        Result {
            ring = List.copyOf(Objects.requireNonNull(ring, "ring"));
        }
    }
}
