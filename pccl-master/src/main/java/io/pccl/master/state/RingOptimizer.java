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
 * others (a sparse Hamiltonian-cycle problem) may get null although a ring exists.
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
        final LocalSearch search = new LocalSearch(value, cost, n, startRing(value, cost, n));
        final int costReserve = MAX_EDGE_EVALUATIONS / 4;
        search.raiseBottleneck(upper, costReserve);
        if (search.bottleneck() < 0) {
            final int[][] successors = adjacency(value, n, true);
            final int[] cover = coverRing(value, n, successors);
            if (cover != null && cover.length == 0) {
                return null;
            }
            if (cover != null) {
                search.restart(cover);
                search.raiseBottleneck(upper, costReserve);
            }
            if (search.bottleneck() < 0) {
                final int[] fallback = new DepthFirst(value, n, successors, adjacency(value, n, false)).search();
                if (fallback == null) {
                    return null;
                }
                search.restart(fallback);
                search.raiseBottleneck(upper, costReserve);
            }
        }
        search.reduceCost();
        return search.ring;
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

    /** The better of ascending order and a greedy widest-successor walk; either may use unusable edges. */
    private static int[] startRing(final double[] value, final long[] cost, final int n) {
        final int[] ascending = new int[n];
        final int[] greedy = new int[n];
        final boolean[] used = new boolean[n];
        used[0] = true;
        for (int p = 1; p < n; p++) {
            ascending[p] = p;
            final int last = greedy[p - 1];
            int best = -1;
            for (int k = 1; k < n; k++) {
                if (!used[k] && (best < 0 || value[last * n + k] > value[last * n + best])) {
                    best = k;
                }
            }
            greedy[p] = best;
            used[best] = true;
        }
        final double bottleneckA = bottleneck(value, ascending);
        final double bottleneckG = bottleneck(value, greedy);
        final boolean greedyWins = bottleneckG > bottleneckA
                || bottleneckG == bottleneckA && totalCost(cost, greedy) < totalCost(cost, ascending);
        return greedyWins ? greedy : ascending;
    }

    private static double bottleneck(final double[] value, final int[] ring) {
        final int n = ring.length;
        double min = value[ring[n - 1] * n + ring[0]];
        for (int p = 0; p < n - 1; p++) {
            min = Math.min(min, value[ring[p] * n + ring[p + 1]]);
        }
        return min;
    }

    private static long totalCost(final long[] cost, final int[] ring) {
        final int n = ring.length;
        long sum = cost[ring[n - 1] * n + ring[0]];
        for (int p = 0; p < n - 1; p++) {
            sum += cost[ring[p] * n + ring[p + 1]];
        }
        return sum;
    }

    /** The usable successors (or predecessors) of every peer, ascending. */
    private static int[][] adjacency(final double[] value, final int n, final boolean outgoing) {
        final int[][] adjacent = new int[n][];
        final int[] buffer = new int[n];
        for (int a = 0; a < n; a++) {
            int count = 0;
            for (int b = 0; b < n; b++) {
                if (value[outgoing ? a * n + b : b * n + a] >= 0) {
                    buffer[count++] = b;
                }
            }
            adjacent[a] = Arrays.copyOf(buffer, count);
        }
        return adjacent;
    }

    /**
     * A start ring from a cycle cover, for groups the local search could not repair. A perfect matching of
     * senders to receivers over the usable edges (greedy, then breadth-first augmenting paths) gives every peer
     * one successor and so splits the group into disjoint cycles; two cycles merge whenever a peer {@code a} of
     * one and {@code b} of the other can swap successors ({@code a -> succ(b)} and {@code b -> succ(a)} usable).
     * Cycles left over are concatenated, joined by unusable edges for the local search to repair.
     *
     * @return the ring; an empty array when no perfect matching exists (so no ring exists); null when
     *         {@link #MAX_FALLBACK_STEPS} was hit
     */
    private static int[] coverRing(final double[] value, final int n, final int[][] successors) {
        final int[] succ = new int[n];
        final int[] pred = new int[n];
        Arrays.fill(succ, -1);
        Arrays.fill(pred, -1);
        int steps = 0;
        for (int u = 0; u < n; u++) {
            for (final int v : successors[u]) {
                steps++;
                if (pred[v] < 0) {
                    succ[u] = v;
                    pred[v] = u;
                    break;
                }
            }
        }
        final int[] queue = new int[n];
        final int[] via = new int[n]; // receiver -> the sender the search reached it from
        for (int u = 0; u < n; u++) {
            if (succ[u] >= 0) {
                continue;
            }
            Arrays.fill(via, -1);
            int head = 0;
            int tail = 0;
            queue[tail++] = u;
            int free = -1;
            while (head < tail && free < 0) {
                final int x = queue[head++];
                for (final int v : successors[x]) {
                    if (++steps > MAX_FALLBACK_STEPS) {
                        return null;
                    }
                    if (via[v] < 0) {
                        via[v] = x;
                        if (pred[v] < 0) {
                            free = v;
                            break;
                        }
                        queue[tail++] = pred[v];
                    }
                }
            }
            if (free < 0) {
                return new int[0]; // u can get no successor in any matching, so no ring exists
            }
            for (int v = free; v >= 0; ) {
                final int x = via[v];
                final int previous = succ[x];
                succ[x] = v;
                pred[v] = x;
                v = previous;
            }
        }
        return mergeCycles(value, n, successors, succ, pred, steps);
    }

    private static int[] mergeCycles(final double[] value, final int n, final int[][] successors, final int[] succ,
                                     final int[] pred, final int stepsSoFar) {
        int steps = stepsSoFar;
        final int[] cycle = new int[n];
        Arrays.fill(cycle, -1);
        int cycles = 0;
        for (int s = 0; s < n; s++) {
            for (int v = s; cycle[v] < 0; v = succ[v]) {
                cycle[v] = s;
            }
            cycles += cycle[s] == s ? 1 : 0;
        }
        boolean merged = true;
        while (cycles > 1 && merged && steps <= MAX_FALLBACK_STEPS) {
            merged = false;
            for (int a = 0; a < n && !merged; a++) {
                for (final int w : successors[a]) {
                    steps++;
                    final int b = pred[w];
                    if (cycle[w] != cycle[a] && value[b * n + succ[a]] >= 0) {
                        final int label = cycle[w];
                        for (int v = w; cycle[v] == label; v = succ[v]) {
                            cycle[v] = cycle[a];
                            steps++;
                        }
                        final int next = succ[a];
                        succ[a] = w;
                        pred[w] = a;
                        succ[b] = next;
                        pred[next] = b;
                        cycles--;
                        merged = true;
                        break;
                    }
                }
            }
        }
        final int[] ring = new int[n];
        final boolean[] placed = new boolean[n];
        int p = 0;
        for (int s = 0; s < n; s++) {
            for (int v = s; !placed[v]; v = succ[v]) {
                placed[v] = true;
                ring[p++] = v;
            }
        }
        return ring;
    }

    /**
     * Bounded local search on one ring. The only move is the direction-preserving 3-opt: cut the ring after
     * positions x, y, z (in cyclic order) into segments A = (x, y], B = (y, z] and C, and swap A and B, which
     * replaces the edges {@code r[x]->r[x+1], r[y]->r[y+1], r[z]->r[z+1]} with
     * {@code r[x]->r[y+1], r[z]->r[x+1], r[y]->r[z+1]}. Rotating the three cuts gives the same move.
     *
     * <p>Not thread-safe; one instance per call.
     */
    private static final class LocalSearch {
        /** Or-opt moves segments of at most this many peers. */
        private static final int MAX_SEGMENT = 3;
        /** Or-opt only tries new edges among each peer's this many cheapest successors and predecessors. */
        private static final int NEIGHBOURS = 8;

        private final double[] value;
        private final long[] cost;
        private final int n;
        private final int[] ring;
        private final int[] pos;
        private final int[] best;
        private final int[] scratch;
        private final int[] outs;
        private final int[] ins;
        private int remaining = MAX_EDGE_EVALUATIONS;

        LocalSearch(final double[] value, final long[] cost, final int n, final int[] start) {
            this.value = value;
            this.cost = cost;
            this.n = n;
            this.ring = new int[n];
            this.pos = new int[n];
            this.best = new int[n];
            this.scratch = new int[n];
            this.outs = new int[n];
            this.ins = new int[n];
            restart(start);
        }

        void restart(final int[] start) {
            System.arraycopy(start, 0, ring, 0, n);
            for (int p = 0; p < n; p++) {
                pos[ring[p]] = p;
            }
        }

        double bottleneck() {
            return RingOptimizer.bottleneck(value, ring);
        }

        private int next(final int p) {
            return p + 1 == n ? 0 : p + 1;
        }

        /** Steps forward from position {@code from} to position {@code to}, in 0..n-1. */
        private int distance(final int from, final int to) {
            return to >= from ? to - from : to - from + n;
        }

        private double edge(final int p) {
            return value[ring[p] * n + ring[next(p)]];
        }

        /**
         * Raises the bottleneck level by level towards {@code upper} until a level cannot be cleared or only
         * {@code reserve} evaluations remain; the ring ends at the last level fully cleared.
         */
        void raiseBottleneck(final double upper, final int reserve) {
            System.arraycopy(ring, 0, best, 0, n);
            double level = bottleneck();
            while (level < upper && remaining > reserve) {
                if (!clearLevel(level, reserve)) {
                    restart(best);
                    return;
                }
                System.arraycopy(ring, 0, best, 0, n);
                level = bottleneck();
            }
        }

        /** Removes every edge of value <= {@code level} without adding an edge below it; false if stuck. */
        private boolean clearLevel(final double level, final int reserve) {
            while (true) {
                boolean any = false;
                boolean moved = false;
                remaining -= n;
                for (int p = 0; p < n && !moved && remaining > reserve; p++) {
                    if (edge(p) <= level) {
                        any = true;
                        moved = removeEdge(p, level, reserve);
                    }
                }
                if (!any) {
                    return true;
                }
                if (!moved) {
                    return false;
                }
            }
        }

        /**
         * Applies the best move that removes the edge after position {@code p}: its two new edges at that cut
         * must be above {@code level}, the third at least {@code level}, and the number of edges at or below
         * {@code level} must drop. Best = fewest such edges, then widest narrowest new edge, then cheapest.
         */
        private boolean removeEdge(final int p, final double level, final int reserve) {
            final int a = ring[p];
            final int a1 = ring[next(p)];
            remaining -= 2 * n;
            int outCount = 0;
            int inCount = 0;
            for (int v = 0; v < n; v++) {
                if (value[a * n + v] > level) {
                    outs[outCount++] = v;
                }
                if (value[v * n + a1] > level) {
                    ins[inCount++] = v;
                }
            }
            int bestY = -1;
            int bestZ = -1;
            int bestBad = 0;
            double bestWidth = 0;
            long bestDelta = 0;
            for (int i = 0; i < outCount; i++) {
                final int y = pos[outs[i]] == 0 ? n - 1 : pos[outs[i]] - 1; // cut before a's new successor
                final int dy = distance(p, y); // > 0: a's current successor is never in outs
                final double widthY = value[a * n + outs[i]];
                for (int j = 0; j < inCount; j++) {
                    final int z = pos[ins[j]]; // cut after a1's new predecessor
                    if (distance(p, z) <= dy) {
                        continue;
                    }
                    remaining -= 3;
                    if (remaining <= reserve) {
                        return false;
                    }
                    final double third = value[ring[y] * n + ring[next(z)]];
                    if (third < level) {
                        continue;
                    }
                    final int bad = (third <= level ? 1 : 0) - 1 - (edge(y) <= level ? 1 : 0)
                            - (edge(z) <= level ? 1 : 0);
                    final double width = Math.min(third, Math.min(widthY, value[ins[j] * n + a1]));
                    final long delta = delta(p, y, z);
                    if (bad < 0 && (bestY < 0 || bad < bestBad || bad == bestBad
                            && (width > bestWidth || width == bestWidth && delta < bestDelta))) {
                        bestY = y;
                        bestZ = z;
                        bestBad = bad;
                        bestWidth = width;
                        bestDelta = delta;
                    }
                }
            }
            if (bestY < 0) {
                return false;
            }
            apply(p, bestY, bestZ);
            return true;
        }

        /**
         * Or-opt: moves segments of up to {@link #MAX_SEGMENT} peers elsewhere (direction kept) while the cost
         * sum drops, never adding an edge below the current bottleneck. A segment is only tried after a peer
         * that is one of its first peer's cheapest predecessors, or before one of its last peer's cheapest
         * successors.
         */
        void reduceCost() {
            final double floor = bottleneck();
            final int[] nearOut = new int[n * NEIGHBOURS];
            final int[] nearIn = new int[n * NEIGHBOURS];
            nearest(floor, nearOut, nearIn);
            boolean improved = true;
            while (improved && remaining > 0) {
                improved = false;
                for (int x = 0; x < n && remaining > 0; x++) {
                    for (int length = 1; length <= MAX_SEGMENT; length++) {
                        improved |= moveSegment(x, length, floor, nearOut, nearIn);
                    }
                }
            }
        }

        /** Applies the first improving move of the segment after position {@code x}; false if none. */
        private boolean moveSegment(final int x, final int length, final double floor, final int[] nearOut,
                                    final int[] nearIn) {
            final int y = x + length < n ? x + length : x + length - n;
            final int first = ring[next(x)];
            final int last = ring[y];
            for (int i = 0; i < NEIGHBOURS; i++) {
                final int before = nearIn[first * NEIGHBOURS + i];
                if (before >= 0 && tryMove(x, y, pos[before], length, floor)) {
                    return true;
                }
                final int after = nearOut[last * NEIGHBOURS + i];
                if (after >= 0 && tryMove(x, y, pos[after] == 0 ? n - 1 : pos[after] - 1, length, floor)) {
                    return true;
                }
            }
            return false;
        }

        private boolean tryMove(final int x, final int y, final int z, final int length, final double floor) {
            if (distance(x, z) <= length || remaining <= 0) {
                return false; // z inside the segment or at its ends: not a move
            }
            remaining -= 3;
            final int x1 = ring[next(x)];
            final int y1 = ring[next(y)];
            final int z1 = ring[next(z)];
            if (value[ring[x] * n + y1] < floor || value[ring[z] * n + x1] < floor || value[ring[y] * n + z1] < floor
                    || delta(x, y, z) >= 0) {
                return false;
            }
            apply(x, y, z);
            return true;
        }

        /**
         * Fills each peer's {@link #NEIGHBOURS} cheapest usable successors ({@code nearOut}) and predecessors
         * ({@code nearIn}) with value >= {@code floor}, cheapest first, ties by index; -1 pads short lists.
         */
        private void nearest(final double floor, final int[] nearOut, final int[] nearIn) {
            final long[] outCost = new long[nearOut.length];
            final long[] inCost = new long[nearIn.length];
            Arrays.fill(nearOut, -1);
            Arrays.fill(nearIn, -1);
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    if (value[a * n + b] >= floor) {
                        final long c = cost[a * n + b];
                        insertNearest(nearOut, outCost, a * NEIGHBOURS, b, c);
                        insertNearest(nearIn, inCost, b * NEIGHBOURS, a, c);
                    }
                }
            }
        }

        private static void insertNearest(final int[] near, final long[] nearCost, final int offset,
                                          final int candidate, final long c) {
            final int end = offset + NEIGHBOURS - 1;
            if (near[end] >= 0 && nearCost[end] <= c) {
                return;
            }
            int i = end;
            while (i > offset && (near[i - 1] < 0 || nearCost[i - 1] > c)) {
                near[i] = near[i - 1];
                nearCost[i] = nearCost[i - 1];
                i--;
            }
            near[i] = candidate;
            nearCost[i] = c;
        }

        /** Change of the cost sum for the move at cuts x, y, z. */
        private long delta(final int x, final int y, final int z) {
            final int a = ring[x];
            final int b = ring[y];
            final int c = ring[z];
            final int a1 = ring[next(x)];
            final int b1 = ring[next(y)];
            final int c1 = ring[next(z)];
            return cost[a * n + b1] + cost[c * n + a1] + cost[b * n + c1]
                    - cost[a * n + a1] - cost[b * n + b1] - cost[c * n + c1];
        }

        /** Swaps A = (x, y] and B = (y, z] in place; C keeps its positions. */
        private void apply(final int x, final int y, final int z) {
            final int lengthA = distance(x, y);
            final int lengthB = distance(y, z);
            remaining -= lengthA + lengthB;
            int p = y;
            for (int i = 0; i < lengthB; i++) {
                p = next(p);
                scratch[i] = ring[p];
            }
            p = x;
            for (int i = 0; i < lengthA; i++) {
                p = next(p);
                scratch[lengthB + i] = ring[p];
            }
            p = x;
            for (int i = 0; i < lengthA + lengthB; i++) {
                p = next(p);
                ring[p] = scratch[i];
                pos[scratch[i]] = p;
            }
        }
    }

    /**
     * Depth-first search for any ring over the usable edges, from node 0, for groups the local search could not
     * repair. Successors with the fewest remaining options go first (Warnsdorff's rule), and a branch is cut as
     * soon as an unvisited peer (or node 0, which the ring must return to) loses its last possible predecessor,
     * or an unvisited peer its last possible successor. Iterative, so large groups cannot overflow the stack, and
     * bounded by {@link #MAX_FALLBACK_STEPS} adjacency visits.
     *
     * <p>Not thread-safe; one instance per call.
     */
    private static final class DepthFirst {
        private final double[] value;
        private final int n;
        private final int[][] successors;
        private final int[][] predecessors;
        /** Possible predecessors left: unvisited peers and the path's end (for node 0 too). */
        private final int[] inLeft;
        /** Possible successors left: unvisited peers and node 0. */
        private final int[] outLeft;
        private final boolean[] used;
        private final int[] path;
        private final int[] candidates;
        private final int[] candidateStart;
        private final int[] candidateEnd;
        private int steps;

        DepthFirst(final double[] value, final int n, final int[][] successors, final int[][] predecessors) {
            this.value = value;
            this.n = n;
            this.successors = successors;
            this.predecessors = predecessors;
            this.inLeft = new int[n];
            this.outLeft = new int[n];
            int maxOut = 0;
            for (int a = 0; a < n; a++) {
                outLeft[a] = successors[a].length;
                inLeft[a] = predecessors[a].length;
                maxOut = Math.max(maxOut, outLeft[a]);
            }
            this.used = new boolean[n];
            this.path = new int[n];
            this.candidates = new int[n * maxOut];
            this.candidateStart = new int[n];
            this.candidateEnd = new int[n];
        }

        int[] search() {
            used[0] = true;
            int depth = 1;
            collectCandidates(1);
            while (depth >= 1 && steps <= MAX_FALLBACK_STEPS) {
                if (depth == n) {
                    if (value[path[n - 1] * n] >= 0) {
                        return path;
                    }
                } else if (candidateStart[depth] < candidateEnd[depth]) {
                    final int k = candidates[candidateStart[depth]++];
                    if (extend(path[depth - 1], k)) {
                        path[depth++] = k;
                        if (depth < n) {
                            collectCandidates(depth);
                        }
                    }
                    continue;
                }
                if (--depth >= 1) {
                    retract(path[depth - 1], path[depth]);
                }
            }
            return null;
        }

        /** Unvisited successors of the path's end, fewest successors left first, ties by index. */
        private void collectCandidates(final int depth) {
            final int start = depth * (candidates.length / n);
            int end = start;
            for (final int k : successors[path[depth - 1]]) {
                if (used[k]) {
                    continue;
                }
                int i = end++;
                while (i > start && outLeft[candidates[i - 1]] > outLeft[k]) {
                    candidates[i] = candidates[i - 1];
                    i--;
                    steps++;
                }
                candidates[i] = k;
                steps++;
            }
            candidateStart[depth] = start;
            candidateEnd[depth] = end;
        }

        /** Moves the path's end from {@code j} to the unvisited {@code k}; false (and undone) if a peer is cut off. */
        private boolean extend(final int j, final int k) {
            boolean alive = true;
            for (final int u : predecessors[k]) {
                if (!used[u]) {
                    alive &= --outLeft[u] > 0;
                }
            }
            for (final int v : successors[j]) {
                if (v != k && (v == 0 || !used[v])) {
                    alive &= --inLeft[v] > 0;
                }
            }
            steps += predecessors[k].length + successors[j].length;
            used[k] = true;
            if (!alive) {
                retract(j, k);
            }
            return alive;
        }

        private void retract(final int j, final int k) {
            used[k] = false;
            for (final int u : predecessors[k]) {
                if (!used[u]) {
                    outLeft[u]++;
                }
            }
            for (final int v : successors[j]) {
                if (v != k && (v == 0 || !used[v])) {
                    inLeft[v]++;
                }
            }
        }
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
