package io.pccl.master.state.election;

/**
 * What a group's last successful shared-state sync made current: its revision, and a fingerprint of the elected
 * content ({@link SharedStateElection#contentFingerprint}). The master's state file keeps it per group; after a
 * restart it is the floor of the group's first sync ({@link SharedStateElection#elect(long, boolean, HeldRevision,
 * java.util.Collection)}).
 *
 * <p>Thread-safe (immutable).
 *
 * @param revision the sync's revision (unsigned)
 * @param content the fingerprint of the content it elected
 */
public record HeldRevision(long revision, long content) {
}
