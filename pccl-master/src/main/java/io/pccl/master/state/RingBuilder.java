package io.pccl.master.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a ring (a Hamiltonian cycle) over a set of peers that uses no successor edge reported unreachable.
 * Each peer dials its successor, so an entry {@code a -> {b}} in the unreachable map forbids {@code b} right
 * after {@code a} (and the closing edge from the last peer back to the first). The reference's adjacency test
 * is inverted (it only links mutually unreachable pairs); here an edge is usable exactly when the dialer did
 * not report its target unreachable.
 *
 * <p>Depth-first backtracking starting at the lowest peer id, trying successors in ascending id order: with
 * no unreachable edges the result is plain ascending order, and the same inputs always give the same ring.
 * The search is bounded by {@link #MAX_STEPS} extensions; hitting the bound counts as "no ring".
 *
 * <p>Thread-safe (stateless).
 */
final class RingBuilder {
    /** Upper bound on search steps, so a pathological unreachable map cannot stall the conductor. */
    static final int MAX_STEPS = 1_000_000;

    private RingBuilder() {
    }

    /**
     * Finds a ring.
     *
     * @param peers peer ids in ascending order, no duplicates
     * @param unreachable dialer id to the ids it cannot reach
     * @return the ring in order starting at the lowest id, or null when none exists (or the bound was hit)
     */
    static List<Long> build(final List<Long> peers, final Map<Long, ? extends Set<Long>> unreachable) {
        final int n = peers.size();
        if (n <= 1) {
            return new ArrayList<>(peers);
        }
        final long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = peers.get(i);
        }
        final boolean[][] edge = new boolean[n][n];
        for (int a = 0; a < n; a++) {
            final Set<Long> blocked = unreachable.get(ids[a]);
            for (int b = 0; b < n; b++) {
                edge[a][b] = a != b && (blocked == null || !blocked.contains(ids[b]));
            }
        }
        final int[] path = new int[n];
        final boolean[] used = new boolean[n];
        path[0] = 0;
        used[0] = true;
        final int[] steps = {0};
        if (!extend(edge, path, used, 1, steps)) {
            return null;
        }
        final List<Long> ring = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ring.add(ids[path[i]]);
        }
        return ring;
    }

    /**
     * Whether a given order is a ring that uses no unreachable successor edge.
     *
     * @param ring peer ids in ring order
     * @param unreachable dialer id to the ids it cannot reach
     * @return true if every edge, the closing one included, is usable
     */
    static boolean usable(final List<Long> ring, final Map<Long, ? extends Set<Long>> unreachable) {
        final int n = ring.size();
        if (n <= 1) {
            return true;
        }
        for (int i = 0; i < n; i++) {
            final Set<Long> blocked = unreachable.get(ring.get(i));
            if (blocked != null && blocked.contains(ring.get((i + 1) % n))) {
                return false;
            }
        }
        return true;
    }

    private static boolean extend(final boolean[][] edge, final int[] path, final boolean[] used, final int depth,
                                  final int[] steps) {
        final int n = path.length;
        final int last = path[depth - 1];
        if (depth == n) {
            return edge[last][path[0]];
        }
        for (int next = 0; next < n; next++) {
            if (used[next] || !edge[last][next]) {
                continue;
            }
            if (++steps[0] > MAX_STEPS) {
                return false;
            }
            used[next] = true;
            path[depth] = next;
            if (extend(edge, path, used, depth + 1, steps)) {
                return true;
            }
            used[next] = false;
        }
        return false;
    }
}
