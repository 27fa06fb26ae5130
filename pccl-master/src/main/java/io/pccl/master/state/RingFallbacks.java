package io.pccl.master.state;

import java.util.Arrays;

/**
 * Start rings for {@link RingOptimizer}'s heuristic when {@link RingLocalSearch} could not repair the unusable
 * edges of its first start ring: a cycle cover ({@link #coverRing}) and then a pruned depth-first search
 * ({@link #depthFirstRing}). Each is bounded by {@link RingOptimizer#MAX_FALLBACK_STEPS} adjacency visits.
 *
 * <p>Edge values are {@link RingOptimizer}'s row-major {@code n x n} table ({@code value < 0}: unusable).
 *
 * <p>Thread-safe (stateless).
 */
final class RingFallbacks {
    private RingFallbacks() {
    }

    /** The usable successors (or predecessors) of every peer, ascending. */
    static int[][] adjacency(final double[] value, final int n, final boolean outgoing) {
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
     *         {@link RingOptimizer#MAX_FALLBACK_STEPS} was hit
     */
    static int[] coverRing(final double[] value, final int n, final int[][] successors) {
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
                    if (++steps > RingOptimizer.MAX_FALLBACK_STEPS) {
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
        while (cycles > 1 && merged && steps <= RingOptimizer.MAX_FALLBACK_STEPS) {
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
     * Any ring over the usable edges, found by {@link DepthFirst}.
     *
     * @param successors   the usable successors of every peer, ascending ({@link #adjacency} outgoing)
     * @param predecessors the usable predecessors of every peer, ascending ({@link #adjacency} incoming)
     * @return the ring starting at node 0, or null when none was found within
     *         {@link RingOptimizer#MAX_FALLBACK_STEPS}
     */
    static int[] depthFirstRing(final double[] value, final int n, final int[][] successors,
                                final int[][] predecessors) {
        return new DepthFirst(value, n, successors, predecessors).search();
    }

    /**
     * Depth-first search for any ring over the usable edges, from node 0, for groups the local search could not
     * repair. Successors with the fewest remaining options go first (Warnsdorff's rule), and a branch is cut as
     * soon as an unvisited peer (or node 0, which the ring must return to) loses its last possible predecessor,
     * or an unvisited peer its last possible successor. Iterative, so large groups cannot overflow the stack, and
     * bounded by {@link RingOptimizer#MAX_FALLBACK_STEPS} adjacency visits.
     *
     * <p>Not thread-safe: one instance per call.
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
            while (depth >= 1 && steps <= RingOptimizer.MAX_FALLBACK_STEPS) {
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
}
