package io.pccl.internal.collective;

import io.netty.channel.Channel;
import io.pccl.PeerLostException;
import io.pccl.internal.p2p.DataPlane;
import io.pccl.internal.p2p.DataPlaneInitializer;
import io.pccl.internal.p2p.P2PConnections;
import io.pccl.ring.DropCounter;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.ParkingBudget;
import io.pccl.ring.RingLink;
import io.pccl.ring.RingTransport;
import io.pccl.ring.tcp.DataFrameInboundHandler;
import io.pccl.ring.tcp.TcpRingTransport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Binds the ring engine's TCP transport to the communicator's p2p pools. Incoming data connections get the
 * engine's frame decoder and a {@link DataFrameInboundHandler} routing into one {@link InboundRouter} per
 * predecessor peer id (a router whose predecessor connection was lost stays failed and is replaced when that peer
 * dials again); the routers park early frames within one shared {@link ParkingBudget}. {@link #transport}
 * combines the {@link TcpRingTransport} links of the current outgoing pool (built once per pool) with the current
 * predecessor's router into the transport an operation runs on.
 *
 * <p>Thread-safe: the initializer methods run on event loops and only touch the pipeline and a concurrent map;
 * {@link #transport} is synchronized and never blocks.
 */
public final class RingDataPlane implements DataPlaneInitializer {
    /**
     * Bytes of frames parked for operations this peer has not started yet, over all predecessors' routers together
     * (a dialer names its own peer id, so per router it would be one budget per id named).
     */
    private static final long MAX_PARKED_BYTES = 256L << 20;
    private static final long PARK_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    /**
     * Routers kept before failed ones are forgotten. Each id a dialer names gets a router; a failed one stays so
     * that an operation on that predecessor fails at once, but a dialer naming ever new ids must not grow the map
     * without bound (live routers are bounded by the peer port's connection limit).
     */
    static final int MAX_KEPT_ROUTERS = 64;

    private final int maxPayloadBytes;
    private final Map<Long, InboundRouter> routers = new ConcurrentHashMap<>();
    private final ParkingBudget parking = new ParkingBudget(MAX_PARKED_BYTES);
    private final DropCounter drops = new DropCounter();
    /** The predecessor of the last operation's ring; its router is never forgotten. */
    private volatile long predecessorInUse;
    // @GuardedBy("this") the TCP links of the last outgoing pool an operation ran on (their handlers are
    // installed into the pool's channels once, so they are reused for as long as the pool lives).
    private TcpRingTransport links;
    private Channel[] linkChannels;

    /**
     * Creates the data plane.
     *
     * @param maxPayloadBytes largest accepted frame payload (at least every peer's slice size)
     */
    public RingDataPlane(final int maxPayloadBytes) {
        this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    public void initOutgoing(final long peerId, final int connectionIndex, final int poolSize, final Channel channel) {
        // The successor never sends on our outgoing connections; anything arriving is dropped.
        DataPlane.DISCARDING.initOutgoing(peerId, connectionIndex, poolSize, channel);
    }

    @Override
    public void initIncoming(final long peerId, final int connectionIndex, final int poolSize, final Channel channel) {
        DataFrameInboundHandler.install(channel.pipeline(), router(peerId), maxPayloadBytes,
                "peer " + peerId + "#" + connectionIndex);
    }

    private InboundRouter router(final long peerId) {
        if (routers.size() > MAX_KEPT_ROUTERS) {
            // Any closed connection fails its router, so failed routers belong to ids with no live connection:
            // forget them, except the predecessor's (its failure tells a new operation at once) and this id's.
            final long inUse = predecessorInUse;
            routers.entrySet().removeIf(e -> e.getKey() != peerId && e.getKey() != inUse
                    && e.getValue().failure() != null);
        }
        return routers.compute(peerId, (id, r) -> r == null || r.failure() != null
                ? new InboundRouter(parking, drops, PARK_TIMEOUT_NS) : r);
    }

    /**
     * Frames dropped by every router this data plane ever had (frames of unknown or finished operations, or over
     * the parking limits).
     *
     * @return the total
     */
    public DropCounter drops() {
        return drops;
    }

    /** Routers currently kept (diagnostics and tests). */
    int routerCount() {
        return routers.size();
    }

    /** The router kept for {@code peerId}, or null (tests). */
    InboundRouter routerOf(final long peerId) {
        return routers.get(peerId);
    }

    /**
     * The transport for a ring in which this peer sends to {@code successor} and receives from
     * {@code predecessor}, over the pools of the last establishment.
     *
     * @param p2p the pools
     * @param successor the op ring's successor
     * @param predecessor the op ring's predecessor
     * @return the transport
     * @throws PeerLostException when the pools do not connect this peer to that successor (the ring changed since
     *                           the last topology update)
     */
    public synchronized RingTransport transport(final P2PConnections p2p, final long successor,
                                                final long predecessor) {
        if (p2p.successor() != successor || p2p.predecessor() != predecessor) {
            throw new PeerLostException("the operation's ring (successor " + successor + ", predecessor "
                    + predecessor + ") differs from the established ring (successor " + p2p.successor()
                    + ", predecessor " + p2p.predecessor() + "); call updateTopology() and retry");
        }
        final Channel[] out = p2p.outgoing(successor);
        if (out.length == 0) {
            throw new PeerLostException("no connection pool to ring successor " + successor
                    + "; call updateTopology() and retry");
        }
        predecessorInUse = predecessor;
        final InboundRouter in = routers.computeIfAbsent(predecessor,
                id -> new InboundRouter(parking, drops, PARK_TIMEOUT_NS));
        if (links == null || linkChannels != out) {
            // The router passed here is not used: operations get the current predecessor's router below.
            links = new TcpRingTransport(out, in, "peer " + successor);
            linkChannels = out;
        }
        return new Binding(links, in);
    }

    /**
     * A ring's transport: the successor links of the outgoing pool and the router of the current predecessor.
     * The pool may outlive a predecessor change (and the other way round), so the two are combined per ring.
     *
     * <p>Thread-safe (immutable).
     */
    private static final class Binding implements RingTransport {
        private final TcpRingTransport links;
        private final InboundRouter router;

        Binding(final TcpRingTransport links, final InboundRouter router) {
            this.links = links;
            this.router = router;
        }

        @Override
        public int poolSize() {
            return links.poolSize();
        }

        @Override
        public RingLink successor(final long seq) {
            return links.successor(seq);
        }

        @Override
        public InboundRouter inbound() {
            return router;
        }
    }
}
