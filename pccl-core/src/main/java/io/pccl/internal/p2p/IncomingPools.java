package io.pccl.internal.p2p;

import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * Registry of incoming {@code ROLE_P2P_DATA} connections by (dialer peer id, connection index). Owns the
 * registered channels: a channel replaced at its slot, a pool whose peer is no longer the predecessor
 * ({@link #retainOnly}) and everything at {@link #closeAll} are closed here; a channel that closes by itself is
 * removed from its slot.
 *
 * <p>Thread-safe: writers synchronize on this object and publish copy-on-write arrays, so {@link #pool} is a
 * cheap snapshot read.
 */
public final class IncomingPools {
    private static final Logger LOG = LoggerFactory.getLogger(IncomingPools.class);
    private static final Channel[] NONE = new Channel[0];

    /** Guarded by {@code this} for writes; values are never mutated after publication. */
    private volatile Map<Long, Channel[]> pools = new HashMap<>();

    /**
     * Registers {@code channel} at (peerId, index); a different pool size replaces the whole pool.
     *
     * @param peerId dialer's peer id
     * @param index connection index, {@code 0 <= index < poolSize}
     * @param poolSize dialer's pool size
     * @param channel the channel
     */
    public void register(final long peerId, final int index, final int poolSize, final Channel channel) {
        Channel replaced = null;
        Channel[] dropped = null;
        synchronized (this) {
            final Map<Long, Channel[]> next = new HashMap<>(pools);
            Channel[] pool = next.get(peerId);
            if (pool == null || pool.length != poolSize) {
                dropped = pool;
                pool = new Channel[poolSize];
            } else {
                pool = pool.clone();
                replaced = pool[index];
            }
            pool[index] = channel;
            next.put(peerId, pool);
            pools = next;
        }
        channel.closeFuture().addListener(f -> unregister(peerId, index, channel));
        if (replaced != null && replaced != channel) {
            LOG.debug("incoming connection {} of peer {} replaced", index, peerId);
            replaced.close();
        }
        closeAll(dropped);
    }

    private void unregister(final long peerId, final int index, final Channel channel) {
        synchronized (this) {
            final Channel[] pool = pools.get(peerId);
            if (pool == null || index >= pool.length || pool[index] != channel) {
                return;
            }
            final Map<Long, Channel[]> next = new HashMap<>(pools);
            final Channel[] copy = pool.clone();
            copy[index] = null;
            boolean empty = true;
            for (Channel c : copy) {
                empty &= c == null;
            }
            if (empty) {
                next.remove(peerId);
            } else {
                next.put(peerId, copy);
            }
            pools = next;
        }
    }

    /**
     * The incoming pool of {@code peerId}.
     *
     * @param peerId the dialer
     * @return a snapshot (do not modify), or an empty array
     */
    public Channel[] pool(final long peerId) {
        final Channel[] pool = pools.get(peerId);
        return pool == null ? NONE : pool;
    }

    /**
     * Closes every pool except the one of {@code keepPeerId}.
     *
     * @param keepPeerId the peer whose pool stays, or {@link P2PConnections#NO_PEER} to close all
     */
    public void retainOnly(final long keepPeerId) {
        final Map<Long, Channel[]> old;
        synchronized (this) {
            old = pools;
            final Map<Long, Channel[]> next = new HashMap<>();
            final Channel[] keep = old.get(keepPeerId);
            if (keep != null) {
                next.put(keepPeerId, keep);
            }
            pools = next;
        }
        for (Map.Entry<Long, Channel[]> e : old.entrySet()) {
            if (e.getKey() != keepPeerId) {
                LOG.debug("closing incoming pool of peer {}: no longer the ring predecessor", e.getKey());
                closeAll(e.getValue());
            }
        }
    }

    /** Closes and forgets every pool. */
    public void closeAll() {
        retainOnly(P2PConnections.NO_PEER);
    }

    static void closeAll(final Channel[] channels) {
        if (channels == null) {
            return;
        }
        for (Channel c : channels) {
            if (c != null) {
                c.close();
            }
        }
    }
}
