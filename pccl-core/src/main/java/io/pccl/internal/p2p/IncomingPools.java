package io.pccl.internal.p2p;

import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.security.auth.x500.X500Principal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Registry of incoming {@code ROLE_P2P_DATA} connections by (dialer peer id, connection index). Owns the
 * registered channels: a channel replaced at its slot, a pool whose peer is no longer the predecessor
 * ({@link #retainOnly}) and everything at {@link #closeAll} are closed here; a channel that closes by itself is
 * removed from its slot.
 *
 * <p>With TLS, the predecessor's connections must present a certificate of the subject the master reported for it
 * ({@link #retainOnly(long, X500Principal)}): a connection naming the predecessor's id with another one is refused
 * by {@link #register}, and one registered before the ring was known is closed when it becomes known. Connections
 * naming another peer are held, unchecked, until a ring makes that peer the predecessor (then checked) or not
 * (then closed); none of them carries ring data before its check.
 *
 * <p>Thread-safe: writers synchronize on this object and publish copy-on-write arrays, so {@link #pool} is a
 * cheap snapshot read.
 */
public final class IncomingPools {
    private static final Logger LOG = LoggerFactory.getLogger(IncomingPools.class);
    private static final Channel[] NONE = new Channel[0];

    /** Guarded by {@code this} for writes; values are never mutated after publication. */
    private volatile Map<Long, Channel[]> pools = new HashMap<>();
    /** Guarded by {@code this}: the ring predecessor whose connections are checked. */
    private long checkedPeer = P2PConnections.NO_PEER;
    /** Guarded by {@code this}: the certificate subject its connections must present; null for any. */
    private X500Principal checkedSubject;
    /** Guarded by {@code this}: the certificate subject each registered channel presented (absent without TLS). */
    private final Map<Channel, X500Principal> subjects = new HashMap<>();

    /**
     * Registers {@code channel} at (peerId, index); a different pool size replaces the whole pool.
     *
     * @param peerId dialer's peer id
     * @param index connection index, {@code 0 <= index < poolSize}
     * @param poolSize dialer's pool size
     * @param channel the channel
     * @param subject the subject of the certificate the channel presented, or null without TLS
     * @return false (nothing registered) when {@code peerId} is the predecessor and the channel did not present a
     *         certificate of its subject
     */
    public boolean register(final long peerId, final int index, final int poolSize, final Channel channel,
                            final X500Principal subject) {
        Channel replaced = null;
        Channel[] dropped = null;
        synchronized (this) {
            if (!admissible(peerId, subject)) {
                return false;
            }
            if (subject != null) {
                subjects.put(channel, subject);
            }
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
        return true;
    }

    /** Guarded by {@code this}. */
    private boolean admissible(final long peerId, final X500Principal subject) {
        return peerId != checkedPeer || checkedSubject == null || checkedSubject.equals(subject);
    }

    private void unregister(final long peerId, final int index, final Channel channel) {
        synchronized (this) {
            subjects.remove(channel);
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
     * Closes every pool except the one of {@code keepPeerId}, whose connections from now on must present a
     * certificate of {@code subject}: those already registered with another one are closed too.
     *
     * @param keepPeerId the peer whose pool stays (the ring predecessor), or {@link P2PConnections#NO_PEER} to
     *        close all
     * @param subject the certificate subject the master reported for that peer; null for any
     */
    public void retainOnly(final long keepPeerId, final X500Principal subject) {
        final Map<Long, Channel[]> old;
        final List<Channel> impostors = new ArrayList<>();
        synchronized (this) {
            checkedPeer = keepPeerId;
            checkedSubject = subject;
            old = pools;
            final Map<Long, Channel[]> next = new HashMap<>();
            final Channel[] keep = old.get(keepPeerId);
            if (keep != null) {
                final Channel[] checked = keep.clone();
                for (int i = 0; i < checked.length; i++) {
                    if (checked[i] != null && !admissible(keepPeerId, subjects.get(checked[i]))) {
                        impostors.add(checked[i]);
                        checked[i] = null;
                    }
                }
                next.put(keepPeerId, checked);
            }
            pools = next;
        }
        for (Map.Entry<Long, Channel[]> e : old.entrySet()) {
            if (e.getKey() != keepPeerId) {
                LOG.debug("closing incoming pool of peer {}: no longer the ring predecessor", e.getKey());
                closeAll(e.getValue());
            }
        }
        for (Channel c : impostors) {
            LOG.warn("closing incoming ring connection from {}: it claimed to be peer {} but did not present a "
                    + "certificate of the subject {} that peer registered with at the master", c.remoteAddress(),
                    keepPeerId, subject.getName());
            c.close();
        }
    }

    /** Closes and forgets every pool. */
    public void closeAll() {
        retainOnly(P2PConnections.NO_PEER, null);
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
