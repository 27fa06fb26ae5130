package io.pccl.ring.local;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.RingLink;
import io.pccl.ring.RingTransport;
import io.pccl.transport.data.DataFrameFlyweight;

import java.util.ArrayDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * W peers in a ring (rank {@code i} sends to {@code (i + 1) mod W}), each with {@code poolSize} links to its
 * successor, entirely in memory. A frame is copied into a pooled buffer when sent (so the sender's memory is free
 * at once, like after a socket write) and delivered on the sender's thread to the successor's
 * {@link InboundRouter}, unless the link is stalled (frames queue, in order, until {@link #stall} is lifted; the
 * link stops being writable above a high-water mark) or dropping (frames vanish and are counted).
 *
 * <p>Thread-safe.
 */
public final class LocalRingNetwork {
    /** Queued bytes above which a stalled link reports itself unwritable. */
    public static final int HIGH_WATER_BYTES = 4 << 20;

    private final int worldSize;
    private final LocalTransport[] transports;
    private final AtomicLong droppedFrames = new AtomicLong();

    /**
     * Creates the network.
     *
     * @param worldSize peers, {@code >= 1}
     * @param poolSize links per neighbour pair, {@code >= 1}
     */
    public LocalRingNetwork(final int worldSize, final int poolSize) {
        if (worldSize < 1 || poolSize < 1) {
            throw new IllegalArgumentException("worldSize " + worldSize + " and poolSize " + poolSize
                    + " must be >= 1");
        }
        this.worldSize = worldSize;
        this.transports = new LocalTransport[worldSize];
        for (int i = 0; i < worldSize; i++) {
            transports[i] = new LocalTransport(new InboundRouter(1L << 30, TimeUnit.SECONDS.toNanos(60)));
        }
        for (int i = 0; i < worldSize; i++) {
            final LocalLink[] links = new LocalLink[poolSize];
            for (int k = 0; k < poolSize; k++) {
                links[k] = new LocalLink(i, transports[(i + 1) % worldSize].router);
            }
            transports[i].links = links;
        }
    }

    /**
     * @param rank peer index
     * @return that peer's transport
     */
    public RingTransport transport(final int rank) {
        return transports[rank];
    }

    /**
     * @return world size
     */
    public int worldSize() {
        return worldSize;
    }

    /**
     * Kills a peer: its links and the links into it fail, and its successor's router loses its predecessor.
     *
     * @param rank the peer
     */
    public void kill(final int rank) {
        final PeerLostException cause = new PeerLostException("peer at rank " + rank + " was killed");
        for (final LocalLink l : transports[rank].links) {
            l.fail(cause);
        }
        for (final LocalLink l : transports[Math.floorMod(rank - 1, worldSize)].links) {
            l.fail(cause);
        }
        transports[(rank + 1) % worldSize].router.onPredecessorLost(cause);
        transports[rank].router.onPredecessorLost(cause);
    }

    /**
     * Stalls (or releases) every link from {@code rank} to its successor: frames queue instead of being delivered.
     *
     * @param rank the sender
     * @param stalled true to stall, false to deliver the queue and resume
     */
    public void stall(final int rank, final boolean stalled) {
        for (final LocalLink l : transports[rank].links) {
            l.setStalled(stalled);
        }
    }

    /**
     * Makes every link from {@code rank} to its successor drop (or stop dropping) frames silently.
     *
     * @param rank the sender
     * @param drop true to drop
     */
    public void drop(final int rank, final boolean drop) {
        for (final LocalLink l : transports[rank].links) {
            l.dropping = drop;
        }
    }

    /**
     * Fails every link and router (releasing queued and parked frames). Idempotent.
     */
    public void close() {
        final PcclException cause = new PcclException(PcclException.Code.CLOSED, "local ring network closed");
        for (final LocalTransport t : transports) {
            for (final LocalLink l : t.links) {
                l.fail(cause);
            }
            t.router.onPredecessorLost(cause);
        }
    }

    /**
     * @return frames dropped by {@link #drop}
     */
    public long droppedFrames() {
        return droppedFrames.get();
    }

    /** One peer's view. Thread-safe. */
    private static final class LocalTransport implements RingTransport {
        final InboundRouter router;
        volatile LocalLink[] links;

        LocalTransport(final InboundRouter router) {
            this.router = router;
        }

        @Override
        public int poolSize() {
            return links.length;
        }

        @Override
        public RingLink successor(final long seq) {
            final LocalLink[] l = links;
            return l[RingTransport.connectionIndex(seq, l.length)];
        }

        @Override
        public InboundRouter inbound() {
            return router;
        }
    }

    /** One in-memory connection. Thread-safe; state guarded by {@code this}. */
    private final class LocalLink implements RingLink {
        private final int from;
        private final InboundRouter target;
        private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
        private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
        private long queuedBytes;
        private boolean stalled;
        private PcclException failure;
        volatile boolean dropping;

        LocalLink(final int from, final InboundRouter target) {
            this.from = from;
            this.target = target;
        }

        @Override
        public int trySend(final long seq, final long tag, final int stage, final int step, final int chunkIndex,
                           final long chunkOffsetBytes, final ByteBuf payload) {
            final ByteBuf frame;
            try {
                final int len = payload.readableBytes();
                frame = ByteBufAllocator.DEFAULT.directBuffer(DataFrameFlyweight.HEADER_LENGTH + len);
                DataFrameFlyweight.writeHeader(frame, seq, tag, stage, step, chunkIndex, chunkOffsetBytes, len);
                frame.writeBytes(payload, payload.readerIndex(), len);
            } finally {
                payload.release();
            }
            synchronized (this) {
                if (failure != null) {
                    frame.release();
                    return SEND_CLOSED;
                }
                if (dropping) {
                    droppedFrames.incrementAndGet();
                    frame.release();
                    return SEND_OK;
                }
                if (stalled || !queue.isEmpty()) {
                    queue.addLast(frame);
                    queuedBytes += frame.readableBytes();
                    return SEND_OK;
                }
                // Delivered under the lock so frames of one link stay in order; the router only enqueues.
                target.onFrame(frame);
            }
            return SEND_OK;
        }

        @Override
        public synchronized boolean isWritable() {
            return failure != null || queuedBytes < HIGH_WATER_BYTES;
        }

        @Override
        public void fence(final FenceListener listener) {
            final boolean ok;
            synchronized (this) {
                ok = failure == null;
            }
            // Payloads were copied in trySend, so the sender's memory is already free.
            listener.onFenced(ok);
        }

        @Override
        public void addListener(final Listener listener) {
            listeners.add(listener);
            final PcclException f;
            synchronized (this) {
                f = failure;
            }
            if (f != null) {
                listener.onLinkFailed(f);
            }
        }

        @Override
        public void removeListener(final Listener listener) {
            listeners.remove(listener);
        }

        void setStalled(final boolean stall) {
            synchronized (this) {
                stalled = stall;
                if (stall) {
                    return;
                }
                for (ByteBuf f = queue.pollFirst(); f != null; f = queue.pollFirst()) {
                    target.onFrame(f);
                }
                queuedBytes = 0;
            }
            for (final Listener l : listeners) {
                l.onLinkWritable();
            }
        }

        void fail(final PcclException cause) {
            synchronized (this) {
                if (failure != null) {
                    return;
                }
                failure = cause;
                for (ByteBuf f = queue.pollFirst(); f != null; f = queue.pollFirst()) {
                    f.release();
                }
                queuedBytes = 0;
            }
            for (final Listener l : listeners) {
                l.onLinkFailed(cause);
            }
        }

        @Override
        public String toString() {
            return "LocalLink{" + from + " -> " + ((from + 1) % worldSize) + '}';
        }
    }
}
