package io.pccl.master.state;

import java.util.Arrays;

/**
 * Bounded local search on one ring, the heavy part of {@link RingOptimizer}'s heuristic for groups larger than
 * {@link RingOptimizer#EXACT_MAX_PEERS}. The only move is the direction-preserving 3-opt: cut the ring after
 * positions x, y, z (in cyclic order) into segments A = (x, y], B = (y, z] and C, and swap A and B, which
 * replaces the edges {@code r[x]->r[x+1], r[y]->r[y+1], r[z]->r[z+1]} with
 * {@code r[x]->r[y+1], r[z]->r[x+1], r[y]->r[z+1]}. Rotating the three cuts gives the same move. The work is
 * bounded by {@link RingOptimizer#MAX_EDGE_EVALUATIONS} edge evaluations.
 *
 * <p>Edge values and costs are {@link RingOptimizer}'s row-major {@code n x n} tables ({@code value < 0}:
 * unusable).
 *
 * <p>Not thread-safe: one instance per call.
 */
final class RingLocalSearch {
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
    private int remaining = RingOptimizer.MAX_EDGE_EVALUATIONS;

    RingLocalSearch(final double[] value, final long[] cost, final int n, final int[] start) {
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

    /** The better of ascending order and a greedy widest-successor walk; either may use unusable edges. */
    static int[] startRing(final double[] value, final long[] cost, final int n) {
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

    /** The current ring, live: later moves change it. */
    int[] ring() {
        return ring;
    }

    double bottleneck() {
        return bottleneck(value, ring);
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
