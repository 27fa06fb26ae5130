package io.pccl.internal.client;

import java.util.Collections;
import java.util.List;

/**
 * The membership numbers adopted at the last successful p2p establishment: world sizes and the ring.
 *
 * <p>Thread-safe (immutable).
 *
 * @param globalWorldSize accepted peers in all groups
 * @param peerGroupWorldSize accepted peers in this peer's group
 * @param numPeerGroups groups with at least one accepted peer
 * @param largestPeerGroupWorldSize size of the largest group
 * @param ring the group's ring, peer ids in order (unmodifiable)
 */
public record Membership(int globalWorldSize, int peerGroupWorldSize, int numPeerGroups,
                         int largestPeerGroupWorldSize, List<Long> ring) {
    /** Before the first establishment. */
    public static final Membership NONE = new Membership(0, 0, 0, 0, Collections.emptyList());
}
