package io.pccl;

import java.util.List;
import java.util.Objects;

/**
 * Outcome of a successful shared-state synchronisation.
 *
 * <p>{@code rxBytes > 0} means this peer was outdated and received content; {@code txBytes > 0} means it served
 * other peers. Only entry bytes count, not headers (so a 1024-byte entry moved once shows txBytes 1024 on the
 * distributor and rxBytes 1024 on the receiver; identical states show 0/0).
 *
 * <p>Thread-safe (immutable).
 *
 * @param txBytes entry bytes this peer served to others during the sync
 * @param rxBytes entry bytes this peer received
 * @param revision the shared-state revision after the sync (the group's elected revision)
 * @param receivedKeys names of the entries this peer received, in the order fetched; empty if none
 * @since 0.1
 */
public record SyncInfo(long txBytes, long rxBytes, long revision, List<String> receivedKeys) {
    /**
     * Creates the record; copies the key list.
     *
     * @param txBytes entry bytes served, {@code >= 0}
     * @param rxBytes entry bytes received, {@code >= 0}
     * @param revision revision after the sync, {@code >= 0}
     * @param receivedKeys received entry names, not null
     */
    public SyncInfo {
        if (txBytes < 0 || rxBytes < 0 || revision < 0) {
            throw new IllegalArgumentException("txBytes " + txBytes + ", rxBytes " + rxBytes + " and revision "
                    + revision + " must all be >= 0");
        }
        receivedKeys = List.copyOf(Objects.requireNonNull(receivedKeys, "receivedKeys"));
    }
}
