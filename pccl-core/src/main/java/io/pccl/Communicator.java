package io.pccl;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.pccl.internal.client.ClientConfig;
import io.pccl.internal.client.PeerCounters;
import io.pccl.internal.client.PeerMetrics;
import io.pccl.internal.client.PeerSession;
import io.pccl.internal.collective.ArrayOperands;
import io.pccl.internal.collective.Collectives;
import io.pccl.internal.collective.RetryLoop;
import io.pccl.internal.topology.BandwidthProbe;
import io.pccl.internal.topology.BandwidthServer;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.PeerEndpoint;
import io.pccl.ring.DropCounter;
import io.pccl.ring.RingAllReduce;
import io.pccl.state.internal.SharedStateSync;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.MetricsEndpoint;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.auth.SharedKey;
import io.pccl.transport.netty.NettyTransport;
import io.pccl.transport.tls.TlsConfig;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A peer's handle on a pccl run: joins the run coordinated by a master, keeps the ring connections to its
 * neighbours, answers membership questions and runs all-reduces over the ring.
 *
 * <pre>{@code
 * try (Communicator comm = Communicator.builder().masterAddress("10.0.0.1:48148").peerGroup(0).build()) {
 *     comm.connect();                       // blocks until this peer is accepted (bounded by connectTimeout)
 *     while (training) {
 *         if (comm.arePeersPending()) {     // joint call of the group's accepted peers
 *             comm.updateTopology();        // joint call: accept the newcomers, rebuild the ring
 *         }
 *         ... collectives ...
 *     }
 * }
 * }</pre>
 *
 * <p>Lifecycle: {@link #connect()} once (it may be retried after it failed); then {@link #updateTopology()},
 * {@link #arePeersPending()} and {@link #optimizeTopology()} as joint calls of the group's accepted peers;
 * {@link #close()} at the end. After the
 * master was lost or this peer was kicked every call fails; close the communicator and create a new one.
 *
 * <p>Threading: thread-safe. Membership calls block the calling thread (never longer than their configured
 * timeout) and are serialized; they fail with {@code FAILED_PRECONDITION} while all-reduce operations are in
 * flight. All-reduces may be launched and awaited from any thread, concurrently with distinct tags; their futures
 * complete on pccl's collective threads, never on a network thread. {@link #close()} may be called from any thread
 * and makes a blocked call or running operation fail with {@link PcclException.Code#CLOSED}. Network I/O runs on
 * the communicator's own Netty event loops, which never run user code. Do not call blocking methods from a Netty
 * event loop.
 *
 * @since 0.1
 */
public final class Communicator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Communicator.class);
    /** Pause before measuring a target again that was busy with another peer's measurement. */
    private static final long BUSY_RETRY_NS = 50_000_000L;

    private final PeerSession session;
    private final PeerCounters counters = new PeerCounters();
    private final Collectives collectives;
    private final SharedStateSync sharedStateSync;
    private final Duration benchmarkDuration;
    private final String metricsHost;
    private final int metricsPortSetting;
    private final Duration tlsReloadInterval;
    /** Guards what the communicator runs beside its session: the metrics endpoint and the TLS reload thread. */
    private final Object resourcesLock = new Object();
    // @GuardedBy("resourcesLock") the endpoint and its event loop, once bound
    private MetricsEndpoint metrics;
    private EventLoopGroup metricsLoop;
    // @GuardedBy("resourcesLock") checks the TLS files (tlsReloadInterval), once connected
    private ScheduledExecutorService tlsReloader;
    // @GuardedBy("resourcesLock")
    private boolean closed;

    private Communicator(final ClientConfig config, final Duration progressTimeout, final Duration benchmarkDuration,
                         final String metricsHost, final int metricsPort, final Duration tlsReloadInterval) {
        this.session = new PeerSession(config);
        this.metricsHost = metricsHost;
        this.metricsPortSetting = metricsPort;
        this.tlsReloadInterval = tlsReloadInterval;
        this.collectives = new Collectives(session, counters, progressTimeout, RingAllReduce.DEFAULT_SLICE_BYTES);
        this.sharedStateSync = new SharedStateSync(session, collectives::inFlight);
        this.benchmarkDuration = benchmarkDuration;
        session.roleHandler(ConnectionRole.ROLE_BENCHMARK, new BandwidthServer(this::selfIdOrZero)::onAccepted);
    }

    private long selfIdOrZero() {
        try {
            return session.peerId();
        } catch (final PcclException e) {
            return 0L;
        }
    }

    /**
     * A builder with defaults: peer group 0, 1 connection per peer, peer base port 48150, bind host 0.0.0.0,
     * connect and topology timeouts 60 s, heartbeats every 1 s, master timeout 5 s.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Connects to the master, registers, and blocks until the group's accepted peers accept this peer (in an
     * {@link #updateTopology()} round) and the ring connections are up. The first peer of a group is accepted at
     * once.
     *
     * @throws MasterLostException the master is unreachable (the message names its address), or lost
     * @throws KickedException the master refused or removed this peer (the message carries its reason)
     * @throws PcclException the master's code and reason if it refused the registration (e.g.
     *         {@code FAILED_PRECONDITION} when loopback and non-loopback peers would mix); {@code TIMEOUT} if not
     *         accepted within {@code connectTimeout}; {@code FAILED_PRECONDITION} if already connected;
     *         {@code CLOSED} if closed
     */
    public void connect() {
        bindMetrics();
        session.connect();
        collectives.attach();
        final TlsConfig tls = session.config().security().tls();
        if (tls != null && !tlsReloadInterval.isZero()) {
            // A thread of its own, not an event loop: a file read on a slow disk must not hold up ring data.
            final ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor(r -> {
                final Thread t = new Thread(r, "pccl-tls-reload");
                t.setDaemon(true);
                return t;
            });
            synchronized (resourcesLock) {
                if (closed || tlsReloader != null) {
                    reloader.shutdownNow();
                    return;
                }
                tlsReloader = reloader;
            }
            tls.scheduleReload(reloader, tlsReloadInterval.toNanos(), "peer " + session.peerId());
        }
    }

    /**
     * Reads the TLS files of {@link Builder#tls} again; if they changed, connections opened or accepted from now on
     * use them (open ones keep theirs). A connected communicator also does this by itself every
     * {@link Builder#tlsReloadInterval}.
     *
     * @return whether the files changed
     * @throws PcclException {@code FAILED_PRECONDITION} without TLS; {@code INVALID_ARGUMENT} naming the file and
     *         what is wrong with it (the files in use stay in use)
     */
    public boolean reloadTls() {
        final TlsConfig tls = session.config().security().tls();
        if (tls == null) {
            throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "reloadTls(): no TLS configured "
                    + "(Builder.tls)");
        }
        try {
            return tls.reload();
        } catch (final IllegalArgumentException e) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "reloadTls(): " + e.getMessage(), e);
        }
    }

    /** Binds the metrics endpoint if one is configured and not bound yet (the first {@link #connect()}). */
    private void bindMetrics() {
        if (metricsPortSetting < 0) {
            return;
        }
        synchronized (resourcesLock) {
            if (metrics != null || closed) {
                return;
            }
            final EventLoopGroup loop = NettyTransport.newEventLoopGroup(1, "pccl-peer-metrics");
            try {
                metrics = MetricsEndpoint.bind(loop, loop, metricsHost, metricsPortSetting,
                        ImmediateEventExecutor.INSTANCE, this::metricsText);
            } catch (final UncheckedIOException e) {
                loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "connect(): " + e.getMessage()
                        + " (metricsHost/metricsPort)", e);
            }
            metricsLoop = loop;
            LOG.info("peer metrics at http://{}:{}/metrics", metricsHost, metrics.localAddress().getPort());
        }
    }

    private String metricsText() {
        long id;
        try {
            id = session.peerId();
        } catch (final PcclException notConnected) {
            id = -1;
        }
        final TlsConfig tls = session.config().security().tls();
        return PeerMetrics.render(stats(), id, session.config().peerGroup(),
                tls == null ? null : tls.certificateNotAfter(), tls == null ? null : tls.revocationListNextUpdate());
    }

    /**
     * The port of this peer's metrics endpoint ({@link Builder#metricsPort}); with port 0 the one the OS chose.
     *
     * @return the port, or -1 when the endpoint is off or not bound yet (it binds in the first {@link #connect()})
     */
    public int metricsPort() {
        synchronized (resourcesLock) {
            return metrics == null ? -1 : metrics.localAddress().getPort();
        }
    }

    /**
     * What this communicator did since it was built: all-reduce, sync and topology outcomes, the bytes they moved,
     * dropped data frames. Never blocks on the network; may be called from any thread, also before
     * {@link #connect()} and after {@link #close()}. The same figures are served by the metrics endpoint
     * ({@link Builder#metricsPort}).
     *
     * @return a snapshot
     */
    public CommunicatorStats stats() {
        final DropCounter drops = collectives.drops();
        return counters.snapshot(session.lastMembership().peerGroupWorldSize(), collectives.inFlight(),
                drops.frames(), drops.bytes());
    }

    /**
     * Votes to accept pending peers and (re)establishes the ring connections; returns when the master confirmed
     * the new ring. Joint call: every accepted peer of this peer's group must call it. Failed rounds (a peer left
     * or was unreachable) are retried internally until {@code topologyTimeout}.
     *
     * @throws TopologyUpdateFailedException code {@code TIMEOUT} when no round succeeded within
     *         {@code topologyTimeout}, code {@code KICKED} when the master removed this peer
     * @throws MasterLostException the master connection was lost
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected or while all-reduce operations are in
     *         flight; {@code CLOSED} if closed
     */
    public void updateTopology() {
        collectives.beginMembershipCall("updateTopology()");
        boolean ok = false;
        try {
            session.updateTopology();
            ok = true;
        } finally {
            counters.onTopologyUpdate(ok);
            collectives.endMembershipCall();
        }
    }

    /**
     * Optimizes the ring order of this peer's group from measured bandwidth, and adopts it. Joint call: every
     * accepted peer of the group must call it. Each peer measures its send bandwidth to the group members the master
     * names (only edges not measured before: after the first call, just those of peers that joined since), over
     * {@code connectionsPerPeer} parallel connections for {@code benchmarkDuration} each; the master then picks the
     * ring whose slowest link is fastest, and this call re-establishes the ring connections in that order (an
     * {@link #updateTopology()} round without new peers) before it returns. Pending peers are not accepted by it.
     *
     * @return the adopted ring (also {@link #ring()} from now on), its slowest measured edge, whether it is proved
     *         optimal, and how many edges this peer measured
     * @throws TopologyUpdateFailedException code {@code FAILED_PRECONDITION} when the master refused the vote
     *         (another kind of group vote runs; the message names it) or found no usable ring, {@code TIMEOUT}
     *         when the other peers did not vote or finish in time, {@code KICKED} when the master removed this peer
     * @throws MasterLostException the master connection was lost
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected or while all-reduce operations are in
     *         flight; {@code CLOSED} if closed
     */
    public OptimizeInfo optimizeTopology() {
        collectives.beginMembershipCall("optimizeTopology()");
        boolean ok = false;
        try {
            final ClientConfig c = session.config();
            final Duration handshake = Duration.ofNanos(c.p2pHandshakeTimeoutNs());
            final OptimizeInfo info = session.optimizeTopology(new PeerSession.BandwidthMeasure() {
                @Override
                public CompletableFuture<Double> measure(final PeerEndpoint target) {
                    return BandwidthProbe.measure(session.eventLoops(), target.getHost(), target.getPort(),
                            session.peerId(), Math.min(c.connectionsPerPeer(), BandwidthProbe.MAX_STREAMS),
                            benchmarkDuration, handshake, c.security());
                }

                @Override
                public boolean isBusy(final Throwable failure) {
                    return BandwidthProbe.isBusy(failure);
                }
            }, BUSY_RETRY_NS, 2 * benchmarkDuration.toNanos() + 2 * c.p2pHandshakeTimeoutNs());
            ok = true;
            return info;
        } finally {
            counters.onOptimization(ok);
            collectives.endMembershipCall();
        }
    }

    /**
     * Whether peers of this group are registered but not yet accepted. Joint call of the group's accepted peers:
     * all of them get the same answer, so they call {@link #updateTopology()} together or not at all.
     *
     * @return true if a peer is waiting to be accepted
     * @throws PcclException {@code TIMEOUT} if the other peers did not ask within {@code topologyTimeout};
     *         {@link MasterLostException}, {@link KickedException}; {@code FAILED_PRECONDITION} if not connected
     *         or while all-reduce operations are in flight
     */
    public boolean arePeersPending() {
        collectives.beginMembershipCall("arePeersPending()");
        try {
            return session.arePeersPending();
        } finally {
            collectives.endMembershipCall();
        }
    }

    /**
     * Accepted peers in all groups, as of the last successful topology update (pending peers are not counted).
     *
     * @return the global world size
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public int globalWorldSize() {
        return session.membership().globalWorldSize();
    }

    /**
     * Accepted peers in this peer's group, as of the last successful topology update.
     *
     * @return the group's world size
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public int peerGroupWorldSize() {
        return session.membership().peerGroupWorldSize();
    }

    /**
     * Groups with at least one accepted peer, as of the last successful topology update.
     *
     * @return the number of groups
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public int numPeerGroups() {
        return session.membership().numPeerGroups();
    }

    /**
     * Size of the largest group, as of the last successful topology update.
     *
     * @return the largest group's world size
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public int largestPeerGroupWorldSize() {
        return session.membership().largestPeerGroupWorldSize();
    }

    /**
     * This peer's id, assigned by the master.
     *
     * @return the peer id
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public long peerId() {
        return session.peerId();
    }

    /**
     * The group's ring as of the last successful topology update: peer ids in ring order (this peer sends to the
     * next one).
     *
     * @return an unmodifiable list of peer ids
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected
     */
    public List<Long> ring() {
        return session.membership().ring();
    }

    /**
     * Makes the group's shared state bit-identical: every accepted peer of the group calls it with its local
     * state; the master elects the most popular content, outdated peers fetch the differing entries from a peer
     * that holds it (straight into their memory, hash-verified), and every peer's revision becomes the group's.
     * Joint call of the group's accepted peers; see {@code docs/shared-state.md} for the rules.
     *
     * <pre>{@code
     * SyncInfo info = comm.syncSharedState(state, SyncStrategy.ENFORCE_POPULAR);
     * train(); state.incrementRevision();   // exactly one increment between syncs
     * }</pre>
     *
     * @param state the local shared state; outdated entries are overwritten, its revision is set to the group's
     * @param strategy {@code ENFORCE_POPULAR} (all peers, possibly with {@code RECEIVE_ONLY} joiners), or a mix
     *        of {@code SEND_ONLY} / {@code RECEIVE_ONLY}
     * @return entry bytes served and received, the revision after the sync, the keys received
     * @throws SharedStateSyncException {@code SHARED_STATE_FAILED}, retryable: the master refused this peer's vote
     *         (key-set mismatch, SEND_ONLY mixed with ENFORCE_POPULAR, SEND_ONLY would receive, no candidate;
     *         the message carries the master's code and reason), the fetch failed (distributor lost, hash
     *         mismatch, ...), or the group's sync failed; update the topology, then retry with the same revision
     * @throws KickedException the master removed this peer (e.g. its revision skipped ahead)
     * @throws MasterLostException the master connection was lost
     * @throws PcclException {@code FAILED_PRECONDITION} if not connected, while collectives are in flight or while
     *         another sync runs; {@code TIMEOUT} if the group did not vote within {@code topologyTimeout};
     *         {@code CLOSED} if closed
     */
    public SyncInfo syncSharedState(final SharedState state, final SyncStrategy strategy) {
        collectives.beginMembershipCall("syncSharedState()");
        SyncInfo info = null;
        try {
            info = sharedStateSync.sync(state, strategy);
            return info;
        } finally {
            if (info != null) {
                counters.onSync(info);
            } else {
                counters.onSyncFailed();
            }
            collectives.endMembershipCall();
        }
    }

    /**
     * The shared-state component, for pccl's own tests and diagnostics. Not API.
     *
     * @return the component
     */
    SharedStateSync sharedStateSync() {
        return sharedStateSync;
    }

    /**
     * All-reduces {@code descriptor.count()} elements of {@code descriptor.dataType()} over the peer group and
     * blocks until the operation finished on every member. Collective call: every accepted peer of the group must
     * launch the same tag with the same count, type, op and quantization (in any order relative to other tags).
     *
     * <p>The operand starts at each buffer's position ({@code send.remaining()} and {@code recv.remaining()} must
     * hold it); positions and limits are not changed. Elements are little-endian whatever the buffers' byte order.
     * Heap and direct buffers both work; direct ones avoid a copy on the socket path. {@code send == recv} (or the
     * same memory) runs in place. After a failure an in-place input is restored to its original content (so the
     * same call can be retried), out of place {@code send} is untouched and {@code recv} is undefined. The result
     * is bit-identical on every peer, floating-point results included, also when the descriptor quantizes the
     * transfers ({@link Quantization#MIN_MAX}: a {@code FLOAT32} or {@code FLOAT64} operand travels as
     * {@code UINT8}..{@code UINT64} with a range per slice; {@link Quantization#ZERO_POINT_SCALE}: as any integer
     * type with a scale and zero point per slice, {@code SUM} and {@code AVG} only; the transfers are rounded, not
     * the accumulation).
     *
     * @param send input
     * @param recv output; {@code send} for in place
     * @param descriptor count, type, op, tag and quantization
     * @return world size and bytes sent/received by this peer
     * @throws PeerLostException (retryable) a ring neighbour or member was lost, stalled beyond
     *         {@code progressTimeout}, or the master aborted the operation: call {@link #updateTopology()} (joint
     *         call of the survivors), then retry
     * @throws TooFewPeersException the group has fewer than two accepted peers
     * @throws PcclException {@code INVALID_ARGUMENT} for a buffer that is too small or read-only, a tag already
     *         running on this peer, a type pair (or for {@code ZERO_POINT_SCALE} an op) the quantization does not
     *         take, or peers that launched the tag with different parameters (the message carries the master's
     *         reason); {@code FAILED_PRECONDITION} if not connected or during a membership call on another thread;
     *         {@link MasterLostException}; {@code CLOSED}
     */
    public ReduceInfo allReduce(final ByteBuffer send, final ByteBuffer recv, final ReduceDescriptor descriptor) {
        return collectives.allReduce(send, recv, descriptor, true);
    }

    /**
     * Launches an all-reduce and returns at once; see {@link #allReduce(ByteBuffer, ByteBuffer, ReduceDescriptor)}
     * for the semantics. Operations with distinct tags may run concurrently; they are spread over the
     * {@code connectionsPerPeer} connections. May be called and awaited from any thread; the future never
     * completes on a network thread (dependent stages run on pccl's collective threads unless an executor is
     * given). The buffers belong to the operation until the future completes.
     *
     * @param send input
     * @param recv output; {@code send} for in place
     * @param descriptor count, type, op, tag
     * @return the future; fails with the exceptions listed for the blocking call
     * @throws PcclException validation failures (too few peers, bad buffer, running tag, not connected) are thrown
     *         here, not through the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final ByteBuffer send, final ByteBuffer recv,
                                                        final ReduceDescriptor descriptor) {
        return collectives.launch(send, recv, descriptor, true);
    }

    /**
     * {@link #allReduce(ByteBuffer, ByteBuffer, ReduceDescriptor)} over {@code float[]} ({@code FLOAT32});
     * {@code count} elements from index 0. The arrays are copied through a staging buffer; {@code recv} is written
     * only on success.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count ({@code <=} both lengths), type {@code FLOAT32}
     * @return the outcome
     */
    public ReduceInfo allReduce(final float[] send, final float[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * {@code double[]} ({@code FLOAT64}) overload; see {@link #allReduce(float[], float[], ReduceDescriptor)}.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type {@code FLOAT64}
     * @return the outcome
     */
    public ReduceInfo allReduce(final double[] send, final double[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * {@code int[]} ({@code INT32} or {@code UINT32}) overload; see
     * {@link #allReduce(float[], float[], ReduceDescriptor)}.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type {@code INT32} or {@code UINT32}
     * @return the outcome
     */
    public ReduceInfo allReduce(final int[] send, final int[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * {@code long[]} ({@code INT64} or {@code UINT64}) overload; see
     * {@link #allReduce(float[], float[], ReduceDescriptor)}.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type {@code INT64} or {@code UINT64}
     * @return the outcome
     */
    public ReduceInfo allReduce(final long[] send, final long[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * {@code short[]} ({@code INT16}, {@code UINT16}, {@code FLOAT16} or {@code BFLOAT16} bits) overload; see
     * {@link #allReduce(float[], float[], ReduceDescriptor)}.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, a 16-bit type
     * @return the outcome
     */
    public ReduceInfo allReduce(final short[] send, final short[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * {@code byte[]} ({@code INT8} or {@code UINT8}) overload, wrapped without copying; see
     * {@link #allReduce(ByteBuffer, ByteBuffer, ReduceDescriptor)}.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type {@code INT8} or {@code UINT8}
     * @return the outcome
     */
    public ReduceInfo allReduce(final byte[] send, final byte[] recv, final ReduceDescriptor descriptor) {
        return ArrayOperands.allReduce(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(float[], float[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type FLOAT32
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final float[] send, final float[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(double[], double[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type FLOAT64
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final double[] send, final double[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(int[], int[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type INT32/UINT32
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final int[] send, final int[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(long[], long[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type INT64/UINT64
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final long[] send, final long[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(short[], short[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, a 16-bit type
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final short[] send, final short[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Asynchronous {@link #allReduce(byte[], byte[], ReduceDescriptor)}; {@code recv} is written before the future
     * completes successfully.
     *
     * @param send input
     * @param recv output; may be {@code send}
     * @param descriptor count, type INT8/UINT8
     * @return the future
     */
    public CompletableFuture<ReduceInfo> allReduceAsync(final byte[] send, final byte[] recv,
                                                        final ReduceDescriptor descriptor) {
        return ArrayOperands.launch(collectives, send, recv, descriptor);
    }

    /**
     * Runs a batch of all-reduces, at most {@code maxInFlight} at once, and returns only when every one succeeded,
     * each possibly at a different world size. After a retryable failure no further operation is launched, every
     * launched one is awaited, the survivors re-establish the ring without accepting new peers (like
     * {@link #updateTopology()} with {@code accept_new_peers = false}) and the failed and unlaunched operations
     * run again. Collective call: every accepted peer passes the same list (same order, tags, parameters) and
     * {@code maxInFlight}. Every launched operation has completed when this method returns or throws.
     *
     * @param operations the batch; tags must differ
     * @param maxInFlight most operations in flight, {@code >= 1}
     * @return world size = the smallest any operation completed with, tx/rx = sums over the successful attempts
     * @throws TooFewPeersException fewer than two peers are left (operations not yet done are not run)
     * @throws PcclException a non-retryable failure ({@code INVALID_ARGUMENT}, {@code CLOSED}, master lost, ...)
     *         after every launched operation completed; {@link TopologyUpdateFailedException} if the ring could not
     *         be re-established
     */
    public ReduceInfo allReduceMultipleWithRetry(final List<ReduceOperation> operations, final int maxInFlight) {
        Objects.requireNonNull(operations, "operations");
        return RetryLoop.run(operations, maxInFlight, op -> allReduceAsync(op.send(), op.recv(), op.descriptor()),
                this::reestablishWithoutNewPeers, () -> session.membership().peerGroupWorldSize());
    }

    private void reestablishWithoutNewPeers() {
        counters.onRetryRound();
        collectives.beginMembershipCall("allReduceMultipleWithRetry re-establishment");
        try {
            session.updateTopology(false);
        } finally {
            collectives.endMembershipCall();
        }
    }

    /**
     * Payload bytes received so far by the all-reduces in flight (diagnostics, tests).
     *
     * @return bytes
     */
    long inFlightRxBytes() {
        return collectives.inFlightRxBytes();
    }

    /**
     * The session behind this communicator, for pccl's own components (collectives, shared state). Not API.
     *
     * @return the session
     */
    PeerSession session() {
        return session;
    }

    /**
     * Leaves the run: closes the master connection (the master drops this peer at once), all peer connections
     * and the event loops. Idempotent; a blocked call fails with {@code CLOSED}, and so do running all-reduces
     * (in-place inputs restored) once their queued writes drained (bounded).
     */
    @Override
    public void close() {
        collectives.failRunning();
        sharedStateSync.close();
        session.close();
        collectives.close();
        final MetricsEndpoint m;
        final EventLoopGroup loop;
        final ScheduledExecutorService reloader;
        synchronized (resourcesLock) {
            closed = true;
            m = metrics;
            loop = metricsLoop;
            reloader = tlsReloader;
            metrics = null;
            metricsLoop = null;
            tlsReloader = null;
        }
        if (reloader != null) {
            reloader.shutdownNow();
        }
        if (m != null) {
            m.close();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }

    /**
     * Builds a {@link Communicator}. Setters validate their argument; {@link #build()} checks the combination.
     *
     * <p>Not thread-safe.
     *
     * @since 0.1
     */
    public static final class Builder {
        private String masterAddress;
        private int peerGroup;
        private int connectionsPerPeer = 1;
        private int peerBasePort = ProtocolConstants.DEFAULT_PEER_BASE_PORT;
        private int peerPortAttempts = 64;
        private String bindHost = "0.0.0.0";
        private Duration connectTimeout = Duration.ofSeconds(60);
        private Duration topologyTimeout = Duration.ofSeconds(60);
        private Duration p2pHandshakeTimeout = Duration.ofSeconds(10);
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        private Duration heartbeatTimeout = Duration.ofSeconds(5);
        private int ioThreads = Math.min(4, Math.max(2, Runtime.getRuntime().availableProcessors() / 2));
        private Duration progressTimeout = RingAllReduce.DEFAULT_PROGRESS_TIMEOUT;
        private Duration benchmarkDuration = Duration.ofSeconds(2);
        private SharedKey authKey;
        private TlsConfig tls;
        private String metricsHost = "127.0.0.1";
        private int metricsPort = -1;
        private Duration tlsReloadInterval = Duration.ofSeconds(60);

        private Builder() {
        }

        /**
         * How often a connected communicator reads its TLS files again ({@link #tls}) and, when they changed and are
         * usable, uses them for new connections: certificates rotate without restarting training
         * (docs/operations.md, "Rotating certificates"). Default 60 s; zero turns it off.
         *
         * @param interval zero or positive
         * @return this
         */
        public Builder tlsReloadInterval(final Duration interval) {
            Objects.requireNonNull(interval, "tlsReloadInterval");
            if (interval.isNegative()) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "tlsReloadInterval " + interval
                        + " must be zero (off) or positive");
            }
            this.tlsReloadInterval = interval;
            return this;
        }

        /**
         * Serves this peer's {@link #stats()} over plain HTTP ({@code GET /metrics}, Prometheus text format) on this
         * port, bound by the first {@link #connect()} and kept until {@link #close()} (also when that
         * {@code connect()} fails); 0 lets the OS choose ({@link #metricsPort()} tells which). Default -1: no
         * endpoint.
         *
         * @param port -1 (off), 0 or 1..65535
         * @return this
         */
        public Builder metricsPort(final int port) {
            this.metricsPort = requireRange("metricsPort", port, -1, 65535);
            return this;
        }

        /**
         * The address the metrics endpoint binds to (default {@code 127.0.0.1}: only this host can scrape; the
         * endpoint has no authentication and no TLS).
         *
         * @param host an address or host name of this machine
         * @return this
         */
        public Builder metricsHost(final String host) {
            Objects.requireNonNull(host, "metricsHost");
            if (host.isBlank()) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "metricsHost must not be blank");
            }
            this.metricsHost = host;
            return this;
        }

        /**
         * The master's address (required).
         *
         * @param hostPort {@code host:port}, {@code [ipv6]:port}, or {@code host} for the default port 48148
         * @return this builder
         * @throws PcclException {@code INVALID_ARGUMENT} if the address does not parse
         */
        public Builder masterAddress(final String hostPort) {
            parseAddress(Objects.requireNonNull(hostPort, "hostPort"));
            this.masterAddress = hostPort;
            return this;
        }

        /**
         * The peer group (default 0). Votes and collectives are scoped to a group.
         *
         * @param group the group, {@code >= 0}
         * @return this builder
         */
        public Builder peerGroup(final int group) {
            this.peerGroup = requireRange("peerGroup", group, 0, Integer.MAX_VALUE);
            return this;
        }

        /**
         * TCP connections per ring neighbour (default 1); concurrent collectives are spread over them.
         *
         * @param connections {@code 1..1024}
         * @return this builder
         */
        public Builder connectionsPerPeer(final int connections) {
            this.connectionsPerPeer = requireRange("connectionsPerPeer", connections, 1, 1024);
            return this;
        }

        /**
         * First port tried for the peer's listening port (default 48150); the next ports are tried while the bind
         * fails. 0 binds an ephemeral port.
         *
         * @param port {@code 0..65535}
         * @return this builder
         */
        public Builder peerBasePort(final int port) {
            this.peerBasePort = requireRange("peerBasePort", port, 0, 65535);
            return this;
        }

        /**
         * How many consecutive ports from {@link #peerBasePort} are tried (default 64).
         *
         * @param attempts {@code 1..1024}
         * @return this builder
         */
        public Builder peerPortAttempts(final int attempts) {
            this.peerPortAttempts = requireRange("peerPortAttempts", attempts, 1, 1024);
            return this;
        }

        /**
         * Address the peer port binds to (default {@code 0.0.0.0}).
         *
         * @param host an address or host name
         * @return this builder
         */
        public Builder bindHost(final String host) {
            this.bindHost = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * Bound of {@link Communicator#connect()}, including the wait for acceptance (default 60 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder connectTimeout(final Duration timeout) {
            this.connectTimeout = requirePositive("connectTimeout", timeout);
            return this;
        }

        /**
         * Bound of {@link Communicator#updateTopology()} and {@link Communicator#arePeersPending()} (default 60 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder topologyTimeout(final Duration timeout) {
            this.topologyTimeout = requirePositive("topologyTimeout", timeout);
            return this;
        }

        /**
         * Bound of dialing one neighbour's pool and of an inbound hello (default 10 s).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder p2pHandshakeTimeout(final Duration timeout) {
            this.p2pHandshakeTimeout = requirePositive("p2pHandshakeTimeout", timeout);
            return this;
        }

        /**
         * Period of heartbeats to the master (default 1 s).
         *
         * @param interval positive
         * @return this builder
         */
        public Builder heartbeatInterval(final Duration interval) {
            this.heartbeatInterval = requirePositive("heartbeatInterval", interval);
            return this;
        }

        /**
         * Silence from the master after which it counts as lost and calls fail with {@link MasterLostException}
         * (default 5 s).
         *
         * @param timeout positive, greater than the heartbeat interval
         * @return this builder
         */
        public Builder heartbeatTimeout(final Duration timeout) {
            this.heartbeatTimeout = requirePositive("heartbeatTimeout", timeout);
            return this;
        }

        /**
         * Netty event-loop threads of this communicator (default min(4, max(2, cores / 2))): half of them (at least
         * one) serve the connections this peer accepts, the rest (at least one) those it dials, so {@code 1} still
         * starts two threads.
         *
         * @param threads {@code 1..64}
         * @return this builder
         */
        public Builder ioThreads(final int threads) {
            this.ioThreads = requireRange("ioThreads", threads, 1, 64);
            return this;
        }

        /**
         * Longest time an all-reduce may go without sending or receiving any data before it fails with
         * {@link PeerLostException} (default 30 s). Detects a stalled neighbour whose connections stay open; a
         * closed connection fails operations at once regardless.
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder progressTimeout(final Duration timeout) {
            this.progressTimeout = requirePositive("progressTimeout", timeout);
            return this;
        }

        /**
         * How long {@link Communicator#optimizeTopology()} sends to each peer it measures (default 2 s). Longer
         * measurements settle TCP's congestion window on long fat links; shorter ones finish sooner.
         *
         * @param duration positive
         * @return this builder
         */
        public Builder benchmarkDuration(final Duration duration) {
            this.benchmarkDuration = requirePositive("benchmarkDuration", duration);
            return this;
        }

        /**
         * The shared key of the deployment: every connection this peer opens or accepts (to the master, to and from
         * other peers) must then prove it, and so must the other side (docs/protocol.md, "Authentication"). The
         * master and every peer need the same key. Default: none, and then no connection is authenticated.
         *
         * @param key 16 to 4096 bytes (copied)
         * @return this builder
         * @throws PcclException {@code INVALID_ARGUMENT} if the length is out of range
         */
        public Builder authKey(final byte[] key) {
            try {
                this.authKey = SharedKey.of(key);
            } catch (IllegalArgumentException e) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "authKey: " + e.getMessage());
            }
            return this;
        }

        /**
         * {@link #authKey(byte[])} from a file, read as the master daemon's {@code --auth-key-file} reads it: its
         * UTF-8 text without surrounding white space.
         *
         * @param file the key file
         * @return this builder
         * @throws PcclException {@code INVALID_ARGUMENT} if the file cannot be read or holds fewer than 16 bytes
         */
        public Builder authKeyFile(final Path file) {
            try {
                this.authKey = SharedKey.fromFile(file);
            } catch (IOException | IllegalArgumentException e) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "authKeyFile " + file + ": "
                        + e.getMessage());
            }
            return this;
        }

        /**
         * Mutual TLS for every connection this peer opens or accepts (docs/protocol.md, "Encryption (TLS)"): the
         * bytes are encrypted and integrity-protected, and both ends present a certificate signed by a CA the other
         * trusts. The master and every peer of a deployment must all use TLS or all not. Host names are not checked:
         * give the deployment a CA of its own. Ring payloads are then read through the pipeline instead of straight
         * into the receive buffer (docs/data-plane.md). Combines with {@link #authKeyFile} (the key is proved inside
         * TLS). Default: none.
         *
         * @param certificateChain PEM certificate chain of this peer, leaf first
         * @param privateKey PEM private key of the leaf, unencrypted PKCS#8
         * @param trustedCertificates PEM certificates this peer trusts (the deployment's CA)
         * @return this builder
         * @throws PcclException {@code INVALID_ARGUMENT} naming the file if one is missing, unreadable or invalid
         */
        public Builder tls(final Path certificateChain, final Path privateKey, final Path trustedCertificates) {
            return tls(certificateChain, privateKey, trustedCertificates, null);
        }

        /**
         * {@link #tls(Path, Path, Path)} with a certificate revocation list: a certificate the list names is refused
         * in every handshake, and at the next reload ({@link #tlsReloadInterval}) after the list gained it, this
         * peer closes its connections whose other side presented it (docs/operations.md, "Revoking a certificate").
         *
         * @param certificateChain PEM certificate chain of this peer, leaf first
         * @param privateKey PEM private key of the leaf, unencrypted PKCS#8
         * @param trustedCertificates PEM certificates this peer trusts (the deployment's CA)
         * @param revocationList PEM or DER CRLs, each signed by one of the trusted certificates (an empty file
         *        revokes nothing), or null for none
         * @return this builder
         * @throws PcclException {@code INVALID_ARGUMENT} naming the file if one is missing, unreadable or invalid
         */
        public Builder tls(final Path certificateChain, final Path privateKey, final Path trustedCertificates,
                           final Path revocationList) {
            try {
                this.tls = TlsConfig.fromPem(certificateChain, privateKey, trustedCertificates, revocationList);
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "tls: " + e.getMessage());
            }
            return this;
        }

        /**
         * Validates the settings and creates an unconnected communicator.
         *
         * @return the communicator
         * @throws PcclException {@code INVALID_ARGUMENT} naming the setting that is missing or inconsistent
         */
        public Communicator build() {
            if (masterAddress == null) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "masterAddress is required");
            }
            if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "heartbeatTimeout " + heartbeatTimeout
                        + " must exceed heartbeatInterval " + heartbeatInterval);
            }
            return new Communicator(new ClientConfig(parseAddress(masterAddress), peerGroup, connectionsPerPeer,
                    peerBasePort, peerPortAttempts, bindHost, connectTimeout.toNanos(), topologyTimeout.toNanos(),
                    p2pHandshakeTimeout.toNanos(), heartbeatInterval.toNanos(), heartbeatTimeout.toNanos(),
                    ioThreads, ConnectionSecurity.of(authKey, tls)), progressTimeout, benchmarkDuration, metricsHost,
                    metricsPort, tlsReloadInterval);
        }

        static InetSocketAddress parseAddress(final String hostPort) {
            String host = hostPort.trim();
            int port = ProtocolConstants.DEFAULT_MASTER_PORT;
            final int colon = host.lastIndexOf(':');
            final boolean bracketed = host.startsWith("[");
            if (colon > 0 && (!bracketed || host.lastIndexOf(']') < colon) && host.indexOf(':') == colon
                    || bracketed && colon > host.lastIndexOf(']')) {
                try {
                    port = Integer.parseInt(host.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "masterAddress '" + hostPort
                            + "': port is not a number", e);
                }
                host = host.substring(0, colon);
            }
            if (bracketed && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty() || port < 1 || port > 65535) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "masterAddress '" + hostPort
                        + "': need host:port with port 1..65535");
            }
            return InetSocketAddress.createUnresolved(host, port);
        }

        private static int requireRange(final String name, final int value, final int min, final int max) {
            if (value < min || value > max) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, name + " " + value + " out of range "
                        + min + ".." + max);
            }
            return value;
        }

        private static Duration requirePositive(final String name, final Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, name + " " + value + " must be positive");
            }
            return value;
        }
    }
}
