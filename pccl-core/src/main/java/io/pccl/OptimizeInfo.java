package io.pccl;

import java.util.List;
import java.util.Objects;

/**
 * Outcome of a successful {@link Communicator#optimizeTopology()}: the ring the group adopted and what the
 * measurements said about it.
 *
 * <p>Thread-safe (immutable).
 *
 * @param ring the adopted ring, peer ids in ring order (each peer sends to the next, the last to the first); the
 *        same on every peer of the group
 * @param bottleneckMbitPerS the measured bandwidth of the ring's slowest edge in Mbit/s; 0 when an edge of it was
 *        never measured (say, a peer that joined after the measurements and was appended)
 * @param exact whether the master proved the ring optimal (groups of up to 12 peers) rather than found it by its
 *        bounded local search
 * @param edgesMeasured the edges this peer measured during the call (0 when all were measured before)
 * @since 0.1
 */
public record OptimizeInfo(List<Long> ring, double bottleneckMbitPerS, boolean exact, int edgesMeasured) {
    /**
     * Creates the record; copies the ring.
     *
     * @param ring peer ids in ring order, not null
     * @param bottleneckMbitPerS {@code >= 0}
     * @param exact whether proved optimal
     * @param edgesMeasured {@code >= 0}
     */
    public OptimizeInfo {
        if (!(bottleneckMbitPerS >= 0) || edgesMeasured < 0) {
            throw new IllegalArgumentException("bottleneckMbitPerS " + bottleneckMbitPerS + " and edgesMeasured "
                    + edgesMeasured + " must be >= 0");
        }
        ring = List.copyOf(Objects.requireNonNull(ring, "ring"));
    }
}
