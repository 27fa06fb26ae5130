package io.pccl.master;

import com.google.protobuf.ByteString;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.EventExecutor;
import io.pccl.master.state.MasterError;
import io.pccl.master.state.MasterOutbox;
import io.pccl.master.state.MasterStateMachine;
import io.pccl.master.state.PeerEndpoint;
import io.pccl.master.state.WorldSizes;
import io.pccl.master.state.election.KeyToFetch;
import io.pccl.master.state.election.VoteStrategy;
import io.pccl.proto.CollectiveComplete;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.P2PConnectionsEstablished;
import io.pccl.proto.RegisterRequest;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.Envelopes;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.tls.TlsConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master conductor: owns the {@link MasterStateMachine} and every connection's handshake state, runs on
 * one single-threaded executor, and is the machine's {@link MasterOutbox} (domain decisions become protobuf
 * envelopes written to the peers' channels). Channel handlers only decode and hand calls here: inline when their
 * channel is served by the conductor's executor (in {@link Master} it is an I/O event loop), else by
 * {@code execute}.
 *
 * <p>The {@code on*} and {@code doWork}/{@code sendHeartbeats} methods are confined to the master conductor
 * thread (the {@link #executor()}); {@link #newConnectionId()} is thread-safe.
 *
 * <p>Registration deadline: a connection that has not sent its register request within the registration
 * timeout of being opened (heartbeats do not count) gets {@code Error{ERROR_KICKED}} naming the elapsed time and
 * the limit, and is closed; {@link #doWork()} checks it.
 */
final class MasterConductor implements MasterOutbox {
    private static final Logger LOG = LoggerFactory.getLogger(MasterConductor.class);

    private final EventExecutor executor;
    private final LongSupplier nanoClock;
    private final MasterStateMachine machine;
    private final AtomicLong connectionIds = new AtomicLong();
    /**
     * Which failures of connections that are not peers (malformed frames, bad hellos, refused registrations) get a
     * WARN line: any host that reaches the port can cause them. Thread-safe; the I/O loops count too.
     */
    private final LogThrottle strangerFailures = new LogThrottle();
    private final Map<Long, MasterConnection> connections = new TreeMap<>();
    private final Map<Long, MasterConnection> byPeer = new TreeMap<>();
    /** Connections that have not sent a register request yet, in opening order (so oldest first). */
    private final LinkedHashMap<Long, MasterConnection> unregistered = new LinkedHashMap<>();
    private final long registrationTimeoutNs;
    private final MasterMetrics metrics;
    /** Where the groups' revisions are kept across restarts, or null. */
    private MasterStateFile stateFile;
    /** {@link MasterStateMachine#heldRevisionsVersion} when the state file was last given a snapshot. */
    private long persistedVersion;
    /**
     * Set when the master starts closing (any thread): the peers it then drops must not empty the state file,
     * which the next master reads.
     */
    private volatile boolean stateFrozen;

    MasterConductor(final EventExecutor executor, final LongSupplier nanoClock, final long heartbeatTimeoutNs) {
        this(executor, nanoClock, heartbeatTimeoutNs, heartbeatTimeoutNs);
    }

    MasterConductor(final EventExecutor executor, final LongSupplier nanoClock, final long heartbeatTimeoutNs,
                    final long registrationTimeoutNs) {
        if (registrationTimeoutNs <= 0) {
            throw new IllegalArgumentException("registration timeout must be positive, got " + registrationTimeoutNs
                    + " ns");
        }
        this.executor = executor;
        this.nanoClock = nanoClock;
        this.machine = new MasterStateMachine(this, heartbeatTimeoutNs);
        this.registrationTimeoutNs = registrationTimeoutNs;
        this.metrics = new MasterMetrics(nanoClock.getAsLong());
    }

    /**
     * The metrics text (see {@link MasterMetrics}); on the conductor thread.
     *
     * @param slots the master port's connection slots
     * @param handshakeFailures connections refused at a handshake
     * @param tls the master's TLS configuration, or null
     * @return the exposition text
     */
    String metricsText(final ConnectionSlots slots, final LogThrottle handshakeFailures, final TlsConfig tls) {
        return metrics.render(machine, slots, handshakeFailures, tls, nanoClock.getAsLong());
    }

    EventExecutor executor() {
        return executor;
    }

    /**
     * Keeps the groups' revisions in {@code file} from now on; before the first connection.
     *
     * @param file the state file's writer
     */
    void persistTo(final MasterStateFile file) {
        this.stateFile = file;
        this.persistedVersion = machine.heldRevisionsVersion();
    }

    /** Gives the state file a snapshot if the held revisions may have changed since the last one. */
    private void persistState() {
        if (stateFile != null && !stateFrozen && machine.heldRevisionsVersion() != persistedVersion) {
            persistedVersion = machine.heldRevisionsVersion();
            stateFile.submit(machine.heldRevisions());
        }
    }

    MasterStateMachine machine() {
        return machine;
    }

    long newConnectionId() {
        return connectionIds.incrementAndGet();
    }

    int connectionCount() {
        return connections.size();
    }

    // ---- from channel handlers (on the conductor) ---------------------------------------------------------

    void onConnectionOpened(final MasterConnection conn) {
        conn.openedAtNs = nanoClock.getAsLong();
        connections.put(conn.id, conn);
        unregistered.put(conn.id, conn);
    }

    void onConnectionClosed(final MasterConnection conn) {
        connections.remove(conn.id);
        unregistered.remove(conn.id);
        if (conn.peerId != 0 && byPeer.get(conn.peerId) == conn) {
            byPeer.remove(conn.peerId);
        }
        if (conn.peerId != 0) {
            machine.onDisconnected(conn.peerId);
        }
        conn.state = MasterConnection.State.CLOSING;
        persistState();
    }

    void onEnvelope(final MasterConnection conn, final Envelope envelope) {
        handle(conn, envelope);
        persistState();
    }

    private void handle(final MasterConnection conn, final Envelope envelope) {
        switch (conn.state) {
            case AWAIT_HELLO -> {
                final String bad = Envelopes.checkHello(envelope, ConnectionRole.ROLE_PEER_TO_MASTER);
                if (bad != null) {
                    reject(conn, MasterError.PROTOCOL_VIOLATION, bad);
                    return;
                }
                conn.state = MasterConnection.State.AWAIT_REGISTER;
                conn.channel.writeAndFlush(Envelopes.helloAck(0));
            }
            case AWAIT_REGISTER -> {
                if (envelope.getBodyCase() == Envelope.BodyCase.HEARTBEAT) {
                    return;
                }
                if (envelope.getBodyCase() != Envelope.BodyCase.REGISTER_REQUEST) {
                    reject(conn, MasterError.PROTOCOL_VIOLATION, "expected register_request after hello, got "
                            + bodyName(envelope));
                    return;
                }
                conn.state = MasterConnection.State.REGISTERING;
                unregistered.remove(conn.id);
                register(conn, envelope.getRegisterRequest());
            }
            case REGISTERING -> reject(conn, MasterError.PROTOCOL_VIOLATION, "got " + bodyName(envelope)
                    + " before the register response");
            case REGISTERED -> dispatch(conn, envelope);
            case CLOSING -> LOG.debug("master: dropping {} from closing {}", bodyName(envelope), conn);
            default -> throw new IllegalStateException("unknown state " + conn.state);
        }
    }

    private void register(final MasterConnection conn, final RegisterRequest request) {
        machine.onRegister(conn.id, conn.host, conn.loopback, request.getListenPort(), request.getPeerGroup(),
                nanoClock.getAsLong());
    }

    private void dispatch(final MasterConnection conn, final Envelope envelope) {
        final long peer = conn.peerId;
        machine.onMessage(peer, nanoClock.getAsLong());
        switch (envelope.getBodyCase()) {
            case HEARTBEAT -> {
                // onMessage above recorded it.
            }
            case REGISTER_REQUEST -> register(conn, envelope.getRegisterRequest());
            case ESTABLISH_P2P_REQUEST -> machine.onEstablishVote(peer,
                    envelope.getEstablishP2PRequest().getAcceptNewPeers());
            case P2P_CONNECTIONS_ESTABLISHED -> {
                final P2PConnectionsEstablished m = envelope.getP2PConnectionsEstablished();
                final long[] unreachable = new long[m.getUnreachablePeersCount()];
                for (int i = 0; i < unreachable.length; i++) {
                    unreachable[i] = m.getUnreachablePeers(i);
                }
                machine.onP2PReport(peer, m.getRound(), m.getSuccess(), unreachable);
            }
            case PEERS_PENDING_QUERY -> machine.onPendingQuery(peer);
            case COLLECTIVE_INITIATE -> machine.onCollectiveInitiate(peer, envelope.getCollectiveInitiate().getTag(),
                    MasterProtoUtils.params(envelope.getCollectiveInitiate()));
            case COLLECTIVE_COMPLETE -> {
                final CollectiveComplete m = envelope.getCollectiveComplete();
                machine.onCollectiveComplete(peer, m.getTag(), m.getSeq(), m.getAborted());
            }
            case SYNC_SHARED_STATE_REQUEST -> {
                final SyncSharedStateRequest m = envelope.getSyncSharedStateRequest();
                final VoteStrategy strategy = MasterProtoUtils.strategy(m);
                if (strategy == null) {
                    machine.onProtocolViolation(peer, MasterError.PROTOCOL_VIOLATION, "unknown sync strategy "
                            + m.getStrategyValue() + " from peer " + peer + ", expected 0..2");
                    return;
                }
                machine.onSyncVote(peer, m.getRevision(), strategy, MasterProtoUtils.entries(m));
            }
            case SYNC_SHARED_STATE_COMPLETE -> machine.onSyncComplete(peer,
                    envelope.getSyncSharedStateComplete().getSuccess());
            case OPTIMIZE_TOPOLOGY_REQUEST -> machine.onOptimizeVote(peer);
            case BANDWIDTH_REPORT -> machine.onBandwidthReport(peer, envelope.getBandwidthReport().getToPeer(),
                    envelope.getBandwidthReport().getMbitPerS());
            case OPTIMIZE_TOPOLOGY_WORK_COMPLETE -> machine.onOptimizeWorkComplete(peer);
            default -> machine.onProtocolViolation(peer, MasterError.PROTOCOL_VIOLATION,
                    "unexpected message " + bodyName(envelope) + " from peer " + peer + " on the master connection");
        }
    }

    private static String bodyName(final Envelope envelope) {
        return envelope.getBodyCase() == Envelope.BodyCase.BODY_NOT_SET ? "an envelope without a known body"
                : envelope.getBodyCase().name().toLowerCase(Locale.ROOT);
    }

    /**
     * Logs what a connection that is not a peer did wrong: at WARN for the 1st, 2nd, 4th, ... such failure, with the
     * count, otherwise at DEBUG. Any thread.
     *
     * @param what e.g. "closing connection 7 (127.0.0.1, AWAIT_HELLO)"
     * @param reason why
     */
    void logStrangerFailure(final String what, final String reason) {
        if (strangerFailures.count()) {
            LOG.warn("master: {}: {} (failure #{} of a connection that is not a peer; #1, #2, #4, ... are logged at"
                    + " WARN)", what, reason, strangerFailures.events());
        } else {
            LOG.debug("master: {}: {}", what, reason);
        }
    }

    /**
     * Logs that a connection is being closed for {@code reason}: at WARN for a registered peer (operators need every
     * such line), throttled ({@link #logStrangerFailure}) for a connection that is not one. Any thread.
     *
     * @param conn the connection
     * @param reason why
     */
    void logClosing(final MasterConnection conn, final String reason) {
        if (conn.peerId != 0) {
            LOG.warn("master: closing {}: {}", conn, reason);
        } else {
            logStrangerFailure("closing " + conn, reason);
        }
    }

    /** Sends an error to a connection that is not (or no longer) a peer, then closes it. */
    void reject(final MasterConnection conn, final MasterError code, final String reason) {
        if (conn.state == MasterConnection.State.CLOSING) {
            return;
        }
        logClosing(conn, reason);
        conn.state = MasterConnection.State.CLOSING;
        unregistered.remove(conn.id);
        if (conn.peerId != 0) {
            // A registered peer: route through the machine so the loss is handled everywhere.
            machine.onProtocolViolation(conn.peerId, code, reason);
            return;
        }
        conn.channel.writeAndFlush(MasterProtoUtils.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    // ---- periodic (on the conductor) ----------------------------------------------------------------------

    int doWork() {
        final long nowNs = nanoClock.getAsLong();
        final int work = expireUnregistered(nowNs) + machine.doWork(nowNs);
        persistState();
        return work;
    }

    /** Rejects every connection whose registration deadline has passed; returns how many. */
    private int expireUnregistered(final long nowNs) {
        int expired = 0;
        final Iterator<MasterConnection> it = unregistered.values().iterator();
        while (it.hasNext()) {
            final MasterConnection conn = it.next();
            final long elapsedNs = nowNs - conn.openedAtNs;
            if (elapsedNs <= registrationTimeoutNs) {
                break;
            }
            it.remove();
            expired++;
            reject(conn, MasterError.KICKED, "no register request within " + TimeUnit.NANOSECONDS.toMillis(elapsedNs)
                    + " ms of connecting (state " + conn.state + "), limit "
                    + TimeUnit.NANOSECONDS.toMillis(registrationTimeoutNs) + " ms");
        }
        return expired;
    }

    int unregisteredCount() {
        return unregistered.size();
    }

    void sendHeartbeats(final long wallClockMs) {
        if (byPeer.isEmpty()) {
            return;
        }
        final Envelope hb = MasterProtoUtils.heartbeat(wallClockMs);
        for (final MasterConnection conn : byPeer.values()) {
            conn.channel.writeAndFlush(hb);
        }
    }

    /** Tells every connection the master is closing and closes it. */
    /** Stops updating the state file (any thread): the master is closing. */
    void freezeState() {
        stateFrozen = true;
    }

    List<Channel> closeAll(final String reason) {
        final List<Channel> channels = new ArrayList<>();
        unregistered.clear();
        for (final MasterConnection conn : connections.values()) {
            conn.state = MasterConnection.State.CLOSING;
            channels.add(conn.channel);
            conn.channel.writeAndFlush(MasterProtoUtils.error(MasterError.SHUTTING_DOWN, reason))
                    .addListener(ChannelFutureListener.CLOSE);
        }
        return channels;
    }

    // ---- MasterOutbox -------------------------------------------------------------------------------------

    @Override
    public void registered(final long connectionId, final long peerId) {
        final MasterConnection conn = connections.get(connectionId);
        if (conn == null) {
            return;
        }
        metrics.registrations++;
        conn.peerId = peerId;
        conn.state = MasterConnection.State.REGISTERED;
        byPeer.put(peerId, conn);
        final String certificate = TlsConfig.describeOtherSide(conn.channel);
        if (certificate != null) {
            conn.certificateSubject = ByteString.copyFrom(TlsConfig.otherSideSubject(conn.channel).getEncoded());
            LOG.info("master: peer {} presented the TLS certificate {}", peerId, certificate);
        }
        conn.channel.writeAndFlush(MasterProtoUtils.registered(peerId));
    }

    /** The subject of the certificate {@code peerId}'s connection presented, for the endpoints others receive. */
    private ByteString certificateOf(final long peerId) {
        final MasterConnection conn = byPeer.get(peerId);
        return conn == null ? ByteString.EMPTY : conn.certificateSubject;
    }

    @Override
    public void registrationRefused(final long connectionId, final MasterError code, final String reason) {
        final MasterConnection conn = connections.get(connectionId);
        if (conn == null) {
            return;
        }
        metrics.registrationsRefused++;
        logStrangerFailure("refusing registration of " + conn, reason);
        conn.state = MasterConnection.State.CLOSING;
        conn.channel.writeAndFlush(MasterProtoUtils.registrationRefused(code, reason))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void p2pConnectionInfo(final long peerId, final long round, final List<PeerEndpoint> ring,
                                  final WorldSizes world) {
        send(peerId, MasterProtoUtils.connectionInfo(round, ring, world, this::certificateOf));
    }

    @Override
    public void p2pEstablishResult(final long peerId, final long round, final boolean success, final List<Long> ring,
                                   final WorldSizes world, final String reason) {
        send(peerId, MasterProtoUtils.establishResult(round, success, ring, world, reason));
    }

    @Override
    public void establishRefused(final long peerId, final MasterError code, final String reason) {
        send(peerId, MasterProtoUtils.establishRefused(code, reason));
    }

    @Override
    public void pendingQueryRefused(final long peerId, final MasterError code, final String reason) {
        send(peerId, MasterProtoUtils.pendingQueryRefused(code, reason));
    }

    @Override
    public void syncResponse(final long peerId, final boolean outdated, final long revision,
                             final List<PeerEndpoint> distributors, final List<KeyToFetch> keys) {
        send(peerId, MasterProtoUtils.syncResponse(outdated, revision, distributors, keys, this::certificateOf));
    }

    @Override
    public void syncFailed(final long peerId, final MasterError code, final String reason) {
        send(peerId, MasterProtoUtils.syncFailed(code, reason));
    }

    @Override
    public void syncDone(final long peerId, final boolean success, final String reason) {
        if (success) {
            metrics.syncsSucceeded++;
        } else {
            metrics.syncsFailed++;
        }
        send(peerId, MasterProtoUtils.syncDone(success, reason));
    }

    @Override
    public void peersPending(final long peerId, final boolean pending) {
        send(peerId, MasterProtoUtils.peersPending(pending));
    }

    @Override
    public void collectiveCommence(final long peerId, final long tag, final long seq, final List<Long> ring) {
        send(peerId, MasterProtoUtils.commence(tag, seq, ring));
    }

    @Override
    public void collectiveAbort(final long peerId, final long tag, final long seq, final MasterError code,
                                final String reason) {
        send(peerId, MasterProtoUtils.abort(tag, seq, code, reason));
    }

    @Override
    public void collectiveDone(final long peerId, final long tag, final long seq, final boolean success,
                               final MasterError code, final String reason) {
        if (success) {
            metrics.collectivesSucceeded++;
        } else {
            metrics.collectivesFailed++;
        }
        send(peerId, MasterProtoUtils.done(tag, seq, success, code, reason));
    }

    @Override
    public void optimizeWork(final long peerId, final List<PeerEndpoint> targets) {
        send(peerId, MasterProtoUtils.optimizeWork(targets, this::certificateOf));
    }

    @Override
    public void optimizeDone(final long peerId, final boolean success, final List<Long> ring,
                             final double bottleneckMbps, final boolean exact, final MasterError code,
                             final String reason) {
        if (success) {
            metrics.optimizationsSucceeded++;
        } else {
            metrics.optimizationsFailed++;
        }
        send(peerId, MasterProtoUtils.optimizeDone(success, ring, bottleneckMbps, exact, code, reason));
    }

    @Override
    public void kick(final long peerId, final MasterError code, final String reason) {
        final MasterConnection conn = byPeer.remove(peerId);
        if (conn == null) {
            return;
        }
        metrics.kicks++;
        LOG.warn("master: kicking peer {}: {}", peerId, reason);
        conn.state = MasterConnection.State.CLOSING;
        conn.channel.writeAndFlush(MasterProtoUtils.error(code, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    private void send(final long peerId, final Envelope envelope) {
        final MasterConnection conn = byPeer.get(peerId);
        if (conn != null) {
            conn.channel.writeAndFlush(envelope);
        }
    }
}
