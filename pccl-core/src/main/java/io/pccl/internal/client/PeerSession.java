package io.pccl.internal.client;

import io.netty.channel.EventLoopGroup;
import io.pccl.OptimizeInfo;
import io.pccl.PcclException;
import io.pccl.TopologyUpdateFailedException;
import io.pccl.internal.master.MasterConnection;
import io.pccl.internal.master.MasterDispatcher;
import io.pccl.internal.p2p.DataPlane;
import io.pccl.internal.p2p.DataPlaneInitializer;
import io.pccl.internal.p2p.IncomingPools;
import io.pccl.internal.p2p.P2PConnections;
import io.pccl.internal.p2p.P2PPools;
import io.pccl.internal.p2p.PeerListener;
import io.pccl.internal.p2p.RoleHandler;
import io.pccl.proto.BandwidthReport;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.EstablishP2PRequest;
import io.pccl.proto.OptimizeTopologyDone;
import io.pccl.proto.OptimizeTopologyRequest;
import io.pccl.proto.OptimizeTopologyWorkComplete;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PConnectionsEstablished;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeerEndpoint;
import io.pccl.proto.PeersPendingQuery;
import io.pccl.proto.PeersPendingResponse;
import io.pccl.proto.WorldSizes;
import io.pccl.transport.netty.NettyTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * One communicator's connection to a run: it owns the event-loop group, the {@link MasterConnection}, the
 * {@link PeerListener} and the {@link P2PPools}, and implements the membership sequences of {@code docs/protocol.md}
 * as blocking calls with bounds.
 *
 * <pre>
 *   NEW --connect()--&gt; CONNECTED --close()--&gt; CLOSED
 *    ^                     |  master lost / kicked: calls fail, close() still required
 *    +-- connect() failed -+  (resources released, connect() may be retried)
 * </pre>
 *
 * <p>Thread-safe: membership calls ({@link #connect}, {@link #updateTopology}, {@link #arePeersPending},
 * {@link #optimizeTopology}) are serialized by a lock; {@link #close()} may be called from any thread at any time
 * and wakes a blocked call.
 * Accessors read a volatile snapshot.
 */
public final class PeerSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerSession.class);
    /** What may answer an establish vote: the round's connection info, or a refusal (a result for round 0). */
    private static final Envelope.BodyCase[] INFO_OR_REFUSAL = {
        Envelope.BodyCase.P2P_CONNECTION_INFO, Envelope.BodyCase.P2P_ESTABLISH_RESULT};

    private enum State { NEW, CONNECTED, CLOSED }

    private final ClientConfig config;
    private final Object callLock = new Object();
    private final IncomingPools incoming = new IncomingPools();
    private final Map<ConnectionRole, RoleHandler> roleHandlers = new ConcurrentHashMap<>();
    private volatile DataPlaneInitializer dataPlane = DataPlane.DISCARDING;
    private volatile State state = State.NEW;
    private volatile long peerId;
    private volatile Membership membership = Membership.NONE;
    /** Resources of the current connection; written under {@code callLock}, read by {@link #close()}. */
    private volatile EventLoopGroup group;
    /** Event loops of the connections the listener accepts. */
    private volatile EventLoopGroup inbound;
    private volatile PeerListener listener;
    private volatile P2PPools pools;
    private volatile MasterConnection master;

    /**
     * Creates an unconnected session.
     *
     * @param config the settings
     */
    public PeerSession(final ClientConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * The settings.
     *
     * @return the config
     */
    public ClientConfig config() {
        return config;
    }

    /**
     * Sets the data-plane initializer for p2p connections handshaken from now on. Call before {@link #connect}.
     *
     * @param initializer the initializer
     */
    public void dataPlaneInitializer(final DataPlaneInitializer initializer) {
        this.dataPlane = Objects.requireNonNull(initializer, "initializer");
        final P2PPools p = pools;
        if (p != null) {
            p.dataPlaneInitializer(initializer);
        }
    }

    /**
     * Registers a handler for shared-state or benchmark connections on the peer port. May be called before
     * {@link #connect} (applied when the listener binds) or after.
     *
     * @param role {@code ROLE_SHARED_STATE} or {@code ROLE_BENCHMARK}
     * @param handler the handler
     */
    public void roleHandler(final ConnectionRole role, final RoleHandler handler) {
        if (role != ConnectionRole.ROLE_SHARED_STATE && role != ConnectionRole.ROLE_BENCHMARK) {
            throw new IllegalArgumentException("role handlers exist only for shared-state and benchmark, got " + role);
        }
        roleHandlers.put(role, Objects.requireNonNull(handler, "handler"));
        final PeerListener l = listener;
        if (l != null) {
            l.roleHandler(role, handler);
        }
    }

    /**
     * The p2p connections for the ring engine.
     *
     * @return the pools (valid after {@link #connect})
     */
    public P2PConnections p2p() {
        final P2PPools p = pools;
        if (p == null) {
            throw notConnected("p2p");
        }
        return p;
    }

    /**
     * The master connection, for components that exchange their own messages with the master (collectives,
     * shared state). They send with {@link MasterConnection#send} and receive through its
     * {@link MasterDispatcher}.
     *
     * @return the master connection (valid after {@link #connect})
     */
    public MasterConnection master() {
        final MasterConnection m = master;
        if (m == null || state != State.CONNECTED) {
            throw notConnected("master");
        }
        return m;
    }

    /**
     * The communicator's event loops, for pccl's own outbound connections (shared-state fetches).
     *
     * @return the event-loop group (valid after {@link #connect}; shut down by {@link #close()})
     */
    public EventLoopGroup eventLoops() {
        final EventLoopGroup g = group;
        if (g == null || state != State.CONNECTED) {
            throw notConnected("eventLoops");
        }
        return g;
    }

    /**
     * The port the peer listener is bound to.
     *
     * @return the port
     */
    public int listenPort() {
        return requireConnected("listenPort").port();
    }

    /**
     * This peer's id.
     *
     * @return the id the master assigned
     */
    public long peerId() {
        requireConnected("peerId");
        return peerId;
    }

    /**
     * The membership adopted at the last successful establishment.
     *
     * @return the snapshot
     */
    public Membership membership() {
        requireConnected("membership");
        return membership;
    }

    /**
     * The membership adopted at the last successful establishment, whatever the state (statistics).
     *
     * @return the snapshot; {@link Membership#NONE} before the first establishment
     */
    public Membership lastMembership() {
        return membership;
    }

    /**
     * Connects to the master, registers and waits until this peer is accepted into a ring.
     *
     * @throws PcclException see {@code Communicator#connect()}
     */
    public void connect() {
        synchronized (callLock) {
            if (state == State.CLOSED) {
                throw closed("connect");
            }
            if (state == State.CONNECTED) {
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "connect(): already connected to "
                        + config.master());
            }
            final long deadline = System.nanoTime() + config.connectTimeoutNs();
            try {
                open(deadline);
                awaitAcceptance(deadline);
                state = State.CONNECTED;
            } catch (RuntimeException e) {
                releaseResources();
                if (state == State.CLOSED) {
                    throw closed("connect");
                }
                throw e;
            }
        }
    }

    private void open(final long deadline) {
        // Connections this peer accepts (ring data from its predecessor, shared-state requests) get event loops of
        // their own, apart from those that dial out (ring data to the successor, the master, fetches): a reading
        // loop is then never busy with a large write while its socket fills (W = 4, 256 MiB on 2 cores: busbw
        // ~0.90 against ~0.81 GB/s with one shared pool of two loops, alternating runs).
        final int inThreads = Math.max(1, config.ioThreads() / 2);
        inbound = NettyTransport.newEventLoopGroup(inThreads, "pccl-peer-in");
        group = NettyTransport.newEventLoopGroup(Math.max(1, config.ioThreads() - inThreads), "pccl-peer");
        final P2PPools p = new P2PPools(group, incoming, config.connectionsPerPeer(), this::currentPeerId);
        p.dataPlaneInitializer(dataPlane);
        p.security(config.security());
        pools = p;
        listener = PeerListener.bind(inbound, config.bindHost(), config.peerBasePort(), config.peerPortAttempts(),
                incoming, this::currentPeerId, p::dataPlaneInitializer, config.p2pHandshakeTimeoutNs(),
                PeerListener.DEFAULT_MAX_CONNECTIONS, config.security());
        for (Map.Entry<ConnectionRole, RoleHandler> e : roleHandlers.entrySet()) {
            listener.roleHandler(e.getKey(), e.getValue());
        }
        final MasterConnection m = new MasterConnection(group, config.master(), config.heartbeatIntervalNs(),
                config.heartbeatTimeoutNs());
        m.security(config.security());
        master = m;
        if (state == State.CLOSED) {
            throw closed("connect");
        }
        m.open(left(deadline));
        peerId = m.register(listener.port(), config.peerGroup(), left(deadline));
        LOG.info("peer {}: registered with master {} in group {}, listening on port {}", peerId, m.addressText(),
                config.peerGroup(), listener.port());
    }

    /**
     * This peer's id for handshakes: the master connection publishes it as soon as the registration response is
     * read, before {@link #open} stores it, so a peer that dials this one right after the master announced it is
     * never answered with id 0.
     */
    private long currentPeerId() {
        final long id = peerId;
        if (id != 0L) {
            return id;
        }
        final MasterConnection m = master;
        return m == null ? 0L : m.peerId();
    }

    /** Pending peers wait for rounds the accepted peers start; a failed round leaves them pending. */
    private void awaitAcceptance(final long deadline) {
        final MasterDispatcher d = master.dispatcher();
        int rounds = 0;
        while (true) {
            final Envelope info;
            try {
                info = d.await(Envelope.BodyCase.P2P_CONNECTION_INFO, left(deadline), "acceptance into group "
                        + config.peerGroup() + " (the group's accepted peers must call updateTopology())");
            } catch (PcclException e) {
                if (e.code() == PcclException.Code.TIMEOUT) {
                    throw new PcclException(PcclException.Code.TIMEOUT, "connect(): peer " + peerId
                            + " not accepted by master " + master.addressText() + " within connectTimeout "
                            + TimeUnit.NANOSECONDS.toMillis(config.connectTimeoutNs()) + " ms after " + rounds
                            + " failed round(s); accepted peers of group " + config.peerGroup()
                            + " must call updateTopology()", e);
                }
                throw e;
            }
            rounds++;
            final P2PEstablishResult result = runRound(info.getP2PConnectionInfo(), deadline);
            if (result.getSuccess()) {
                adopt(result);
                return;
            }
            LOG.info("peer {}: establishment round {} failed ({}), still pending", peerId, result.getRound(),
                    result.getReason());
        }
    }

    /**
     * Votes to accept new peers and re-establishes the ring, retrying failed rounds until the topology timeout.
     *
     * @throws PcclException see {@code Communicator#updateTopology()}
     */
    public void updateTopology() {
        updateTopology(true);
    }

    /**
     * Votes to re-establish the ring, accepting pending peers or not, retrying failed rounds until the topology
     * timeout. All accepted peers of the group must vote the same way.
     *
     * @param acceptNewPeers whether pending peers join in this update
     * @throws PcclException see {@code Communicator#updateTopology()}
     */
    public void updateTopology(final boolean acceptNewPeers) {
        synchronized (callLock) {
            final MasterConnection m = requireMaster("updateTopology");
            final MasterDispatcher d = m.dispatcher();
            final long deadline = System.nanoTime() + config.topologyTimeoutNs();
            String lastReason = "none";
            int attempts = 0;
            try {
                while (true) {
                    attempts++;
                    d.clear(Envelope.BodyCase.P2P_CONNECTION_INFO, Envelope.BodyCase.P2P_ESTABLISH_RESULT);
                    m.send(Envelope.newBuilder().setEstablishP2PRequest(
                            EstablishP2PRequest.newBuilder().setAcceptNewPeers(acceptNewPeers)).build());
                    final Envelope info = d.awaitAny(INFO_OR_REFUSAL, left(deadline),
                            "connection info from master " + m.addressText());
                    if (info.getBodyCase() == Envelope.BodyCase.P2P_ESTABLISH_RESULT) {
                        // Refused before any round started: another kind of group vote is running (round 0).
                        throw new TopologyUpdateFailedException(PcclException.Code.FAILED_PRECONDITION,
                                "updateTopology(): refused by master " + m.addressText() + " ("
                                        + info.getP2PEstablishResult().getCode() + "): "
                                        + info.getP2PEstablishResult().getReason(), null);
                    }
                    final P2PEstablishResult result = runRound(info.getP2PConnectionInfo(), deadline);
                    if (result.getSuccess()) {
                        adopt(result);
                        return;
                    }
                    lastReason = result.getReason();
                    LOG.info("peer {}: establishment round {} failed ({}), voting again", peerId, result.getRound(),
                            lastReason);
                }
            } catch (PcclException e) {
                throw topologyFailure(e, attempts, lastReason);
            }
        }
    }

    private PcclException topologyFailure(final PcclException e, final int attempts, final String lastReason) {
        switch (e.code()) {
            case TIMEOUT:
                return new TopologyUpdateFailedException(PcclException.Code.TIMEOUT, "updateTopology(): peer "
                        + peerId + " did not complete within topologyTimeout "
                        + TimeUnit.NANOSECONDS.toMillis(config.topologyTimeoutNs()) + " ms (" + attempts
                        + " attempt(s), last round failure: " + lastReason + ")", e);
            case KICKED:
                return new TopologyUpdateFailedException(PcclException.Code.KICKED, "updateTopology(): "
                        + e.getMessage(), e);
            default:
                return e;
        }
    }

    /** Dials per the connection info, reports, and waits for the round's result. */
    private P2PEstablishResult runRound(final P2PConnectionInfo info, final long deadline) {
        final MasterConnection m = master;
        final List<Long> unreachable = pools.establish(info.getRingList(), peerId,
                Math.min(left(deadline), config.p2pHandshakeTimeoutNs()));
        m.send(Envelope.newBuilder().setP2PConnectionsEstablished(P2PConnectionsEstablished.newBuilder()
                .setRound(info.getRound()).setSuccess(unreachable.isEmpty()).addAllUnreachablePeers(unreachable))
                .build());
        final long round = info.getRound();
        return m.dispatcher().await(Envelope.BodyCase.P2P_ESTABLISH_RESULT,
                e -> e.getP2PEstablishResult().getRound() == round, left(deadline),
                "result of establishment round " + round + " from master " + m.addressText())
                .getP2PEstablishResult();
    }

    private void adopt(final P2PEstablishResult result) {
        final WorldSizes w = result.getWorld();
        final List<Long> ring = Collections.unmodifiableList(new ArrayList<>(result.getRingList()));
        final Membership previous = membership;
        membership = new Membership(w.getGlobal(), w.getPeerGroup(), w.getNumPeerGroups(), w.getLargestPeerGroup(),
                ring);
        if (!previous.ring().equals(ring) || previous.globalWorldSize() != w.getGlobal()) {
            LOG.info("peer {}: round {} adopted, ring {} (group {} size {}, global {}, {} group(s))", peerId,
                    result.getRound(), ring, config.peerGroup(), w.getPeerGroup(), w.getGlobal(),
                    w.getNumPeerGroups());
        }
    }

    /** Measures this peer's send bandwidth to one target; see {@link #optimizeTopology}. */
    public interface BandwidthMeasure {
        /**
         * @param target the peer to send to
         * @return completes with Mbit/s, or exceptionally
         */
        CompletableFuture<Double> measure(PeerEndpoint target);

        /**
         * @param failure how a measurement failed
         * @return whether the target was busy measuring another peer (retried later) rather than failing
         */
        boolean isBusy(Throwable failure);
    }

    /**
     * Votes to optimize the group's ring, measures this peer's unmeasured edges as the master assigns them
     * (sequentially, targets in ring order after this peer, retrying busy targets), reports them, waits for the
     * master's choice and adopts it with an establishment round without new peers.
     *
     * @param measure how one edge is measured
     * @param retryBackoffNs pause before retrying a busy target
     * @param perTargetNs upper bound on one edge's measurement, for this call's own bound
     * @return the adopted ring
     * @throws PcclException see {@code Communicator#optimizeTopology()}
     */
    public OptimizeInfo optimizeTopology(final BandwidthMeasure measure, final long retryBackoffNs,
                                         final long perTargetNs) {
        synchronized (callLock) {
            final MasterConnection m = requireMaster("optimizeTopology");
            final MasterDispatcher d = m.dispatcher();
            final Envelope.BodyCase[] workOrDone = {Envelope.BodyCase.OPTIMIZE_TOPOLOGY_WORK,
                Envelope.BodyCase.OPTIMIZE_TOPOLOGY_DONE};
            d.clear(workOrDone);
            m.send(Envelope.newBuilder().setOptimizeTopologyRequest(OptimizeTopologyRequest.getDefaultInstance())
                    .build());
            final Envelope first;
            try {
                first = d.awaitAny(workOrDone, config.topologyTimeoutNs(), "topology optimization work from master "
                        + m.addressText() + " (all accepted peers of group " + config.peerGroup() + " must call"
                        + " optimizeTopology())");
            } catch (PcclException e) {
                throw topologyFailure(e, 0, "no optimization consensus");
            }
            if (first.getBodyCase() == Envelope.BodyCase.OPTIMIZE_TOPOLOGY_DONE) {
                throw optimizeFailure(m, first.getOptimizeTopologyDone());
            }
            final List<PeerEndpoint> targets = ringOrderAfterSelf(
                    first.getOptimizeTopologyWork().getTargetsList());
            final int peers = Math.max(membership.peerGroupWorldSize(), targets.size() + 1);
            // Every participant measures up to (peers - 1) edges one after another; busy targets wait their turn.
            final long stageNs = config.topologyTimeoutNs() + (long) peers * perTargetNs;
            final long deadline = System.nanoTime() + stageNs;
            int measured = 0;
            for (final PeerEndpoint t : targets) {
                final Double mbps = measureWithRetry(measure, t, deadline, retryBackoffNs);
                if (mbps != null) {
                    LOG.info("peer {}: measured {} Mbit/s to peer {} at {}:{}", peerId, String.format(Locale.ROOT,
                            "%.1f", mbps), t.getPeerId(), t.getHost(), t.getPort());
                    m.send(Envelope.newBuilder().setBandwidthReport(BandwidthReport.newBuilder()
                            .setToPeer(t.getPeerId()).setMbitPerS(mbps)).build());
                    measured++;
                }
            }
            m.send(Envelope.newBuilder().setOptimizeTopologyWorkComplete(
                    OptimizeTopologyWorkComplete.getDefaultInstance()).build());
            final OptimizeTopologyDone done;
            try {
                done = d.await(Envelope.BodyCase.OPTIMIZE_TOPOLOGY_DONE, left(deadline) + config.topologyTimeoutNs(),
                        "end of the topology optimization from master " + m.addressText()).getOptimizeTopologyDone();
            } catch (PcclException e) {
                throw topologyFailure(e, 0, "the other peers did not finish measuring");
            }
            if (!done.getSuccess()) {
                throw optimizeFailure(m, done);
            }
            LOG.info("peer {}: topology optimized by master: ring {}, bottleneck {} Mbit/s ({}), {} edge(s) measured"
                    + " here", peerId, done.getRingList(), done.getBottleneckMbitPerS(),
                    done.getExact() ? "optimal" : "heuristic", measured);
            updateTopology(false);
            return new OptimizeInfo(done.getRingList(), done.getBottleneckMbitPerS(), done.getExact(),
                    measured);
        }
    }

    /** Targets in ring order starting after this peer (ids ascending, wrapping), so peers measure in rotation. */
    private List<PeerEndpoint> ringOrderAfterSelf(final List<PeerEndpoint> targets) {
        final List<PeerEndpoint> sorted = new ArrayList<>(targets);
        final long self = peerId;
        sorted.sort(Comparator.comparing((PeerEndpoint e) -> e.getPeerId() < self)
                .thenComparingLong(PeerEndpoint::getPeerId));
        return sorted;
    }

    /** One edge; null when it could not be measured (logged), retrying while the target is busy. */
    private Double measureWithRetry(final BandwidthMeasure measure, final PeerEndpoint target, final long deadline,
                                    final long retryBackoffNs) {
        while (true) {
            if (state == State.CLOSED) {
                throw closed("optimizeTopology");
            }
            final PcclException lost = master.dispatcher().failure();
            if (lost != null) {
                throw lost;
            }
            try {
                return measure.measure(target).get(Math.max(1, left(deadline)), TimeUnit.NANOSECONDS);
            } catch (final ExecutionException e) {
                final Throwable cause = e.getCause();
                if (!measure.isBusy(cause) || left(deadline) <= retryBackoffNs) {
                    LOG.info("peer {}: bandwidth to peer {} at {}:{} not measured: {}", peerId, target.getPeerId(),
                            target.getHost(), target.getPort(), cause.toString());
                    return null;
                }
            } catch (final TimeoutException e) {
                LOG.info("peer {}: bandwidth to peer {} not measured within this call's bound", peerId,
                        target.getPeerId());
                return null;
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PcclException(PcclException.Code.CLOSED, "optimizeTopology(): interrupted", e);
            }
            // A retry backoff, not synchronization: the busy target finishes another peer's measurement meanwhile.
            LockSupport.parkNanos(retryBackoffNs);
        }
    }

    private TopologyUpdateFailedException optimizeFailure(final MasterConnection m, final OptimizeTopologyDone done) {
        final PcclException.Code code = done.getCode() == ErrorCode.ERROR_FAILED_PRECONDITION
                ? PcclException.Code.FAILED_PRECONDITION : PcclException.Code.INTERNAL;
        return new TopologyUpdateFailedException(code, "optimizeTopology(): master " + m.addressText() + " ("
                + done.getCode() + "): " + done.getReason(), null);
    }

    /**
     * Asks the master whether peers of this group are waiting to be accepted (a vote of the group's accepted
     * peers).
     *
     * @return true if some peer is pending
     * @throws PcclException {@code TIMEOUT}, or the master connection's failure
     */
    public boolean arePeersPending() {
        synchronized (callLock) {
            final MasterConnection m = requireMaster("arePeersPending");
            m.dispatcher().clear(Envelope.BodyCase.PEERS_PENDING_RESPONSE);
            m.send(Envelope.newBuilder().setPeersPendingQuery(PeersPendingQuery.getDefaultInstance()).build());
            final PeersPendingResponse answer = m.dispatcher().await(Envelope.BodyCase.PEERS_PENDING_RESPONSE,
                    config.topologyTimeoutNs(), "pending-peers answer from master " + m.addressText()
                            + " (all accepted peers of group " + config.peerGroup() + " must ask)")
                    .getPeersPendingResponse();
            if (answer.getCode() != ErrorCode.ERROR_UNSPECIFIED) {
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "arePeersPending(): refused by master "
                        + m.addressText() + " (" + answer.getCode() + "): " + answer.getReason());
            }
            return answer.getPending();
        }
    }

    private MasterConnection requireMaster(final String call) {
        final MasterConnection m = master;
        if (state == State.CLOSED) {
            throw closed(call);
        }
        if (state != State.CONNECTED || m == null) {
            throw notConnected(call);
        }
        return m;
    }

    private PeerListener requireConnected(final String call) {
        final PeerListener l = listener;
        if (state == State.CLOSED) {
            throw closed(call);
        }
        if (state != State.CONNECTED || l == null) {
            throw notConnected(call);
        }
        return l;
    }

    private static PcclException notConnected(final String call) {
        return new PcclException(PcclException.Code.FAILED_PRECONDITION, call + "(): not connected (call connect())");
    }

    private static PcclException closed(final String call) {
        return new PcclException(PcclException.Code.CLOSED, call + "(): communicator is closed");
    }

    private static long left(final long deadline) {
        return Math.max(0L, deadline - System.nanoTime());
    }

    /** Closes everything; wakes a blocked membership call with {@code CLOSED}. Idempotent. */
    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        releaseResources();
    }

    private void releaseResources() {
        final MasterConnection m = master;
        if (m != null) {
            m.close();
        }
        final P2PPools p = pools;
        if (p != null) {
            p.close();
        }
        final PeerListener l = listener;
        if (l != null) {
            l.close();
        }
        final EventLoopGroup g = group;
        final EventLoopGroup in = inbound;
        if (g != null) {
            g.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
        if (in != null) {
            in.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (g != null) {
            g.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (state != State.CLOSED) {
            master = null;
            pools = null;
            listener = null;
            group = null;
            inbound = null;
        }
    }
}
