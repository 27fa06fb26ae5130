package io.pccl.state.internal;

import java.net.SocketAddress;
import java.util.List;

/**
 * A completed, verified fetch.
 *
 * <p>Thread-safe (immutable).
 *
 * @param revision the distributor's revision; the receiver adopts it
 * @param rxBytes entry bytes received (headers not counted)
 * @param keys the keys received, in order
 * @param distributor where they came from
 */
public record FetchResult(long revision, long rxBytes, List<String> keys, SocketAddress distributor) {
    /**
     * Copies the key list.
     *
     * @param revision the distributor's revision
     * @param rxBytes entry bytes received
     * @param keys the keys received
     * @param distributor where they came from
     */
    public FetchResult {
        keys = List.copyOf(keys);
    }
}
