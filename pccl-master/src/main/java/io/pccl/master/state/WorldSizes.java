package io.pccl.master.state;

/**
 * World sizes reported to peers. Only accepted peers count (pending peers do not, unlike the reference).
 *
 * <p>Thread-safe (immutable).
 *
 * @param global accepted peers of all groups
 * @param peerGroup accepted peers of the receiver's group
 * @param numPeerGroups groups with at least one accepted peer
 * @param largestPeerGroup accepted peers of the largest group
 */
public record WorldSizes(int global, int peerGroup, int numPeerGroups, int largestPeerGroup) {
}
