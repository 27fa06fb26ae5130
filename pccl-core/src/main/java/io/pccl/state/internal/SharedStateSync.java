package io.pccl.state.internal;

import io.pccl.PcclException;
import io.pccl.SharedState;
import io.pccl.SharedStateSyncException;
import io.pccl.SyncInfo;
import io.pccl.SyncStrategy;
import io.pccl.internal.client.PeerSession;
import io.pccl.internal.master.MasterConnection;
import io.pccl.internal.master.MasterDispatcher;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.SyncSharedStateComplete;
import io.pccl.proto.SyncSharedStateDone;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of {@code Communicator.syncSharedState}: owns this peer's {@link SharedStateServer} (registered
 * as the peer listener's {@code ROLE_SHARED_STATE} handler) and runs one sync at a time:
 *
 * <pre>
 *  check preconditions -&gt; hash entries -&gt; serve the state -&gt; SyncSharedStateRequest -&gt; await response
 *    refused (code, reason)          -&gt; stop serving, throw SharedStateSyncException (no completion is sent)
 *    outdated with keys              -&gt; fetch from the listed distributors (first one first, then fallbacks)
 *  adopt the response's revision (unless the fetch failed) -&gt; SyncSharedStateComplete{success}
 *  -&gt; await SyncSharedStateDone -&gt; wait for own responses to drain -&gt; stop serving -&gt; SyncInfo or exception
 * </pre>
 *
 * <p>Serving starts before the vote so that a fast requester never reaches a distributor that has not yet seen
 * the master's answer (reference §8.1). A peer whose fetch failed still completes (with {@code success = false})
 * and waits for the group's {@code Done}, so the master and this peer stay in step and the next sync can be voted.
 *
 * <p>Bounds: the vote waits up to the communicator's {@code topologyTimeout} (every accepted peer of the group
 * must vote); a fetch fails when no byte arrives for the progress timeout; the fetch as a whole and the wait for
 * {@code Done} are each bounded by the completion timeout (default {@link #DEFAULT_COMPLETION_TIMEOUT}), which
 * must cover the largest transfer of any peer of the group.
 *
 * <p>Thread-safe: syncs are serialized (a second concurrent call is refused with {@code FAILED_PRECONDITION});
 * {@link #close()} may be called from any thread.
 */
public final class SharedStateSync implements AutoCloseable {
    /** Default bound of a fetch and of the wait for the group's completion. */
    public static final Duration DEFAULT_COMPLETION_TIMEOUT = Duration.ofMinutes(10);
    /** Default bound on a fetch connection without a byte received. */
    public static final Duration DEFAULT_PROGRESS_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(SharedStateSync.class);
    /** How long, after {@code Done}, the tx count may wait for this peer's last response write to be confirmed. */
    private static final long DRAIN_NS = TimeUnit.SECONDS.toNanos(5);

    private final PeerSession session;
    private final IntSupplier collectivesInFlight;
    private final SharedStateServer server;
    private final ExecutorService verifier;
    private final ReentrantLock syncLock = new ReentrantLock();
    private volatile long completionTimeoutNs = DEFAULT_COMPLETION_TIMEOUT.toNanos();
    private volatile Duration progressTimeout = DEFAULT_PROGRESS_TIMEOUT;
    private volatile FetchObserver observer;
    /** The fetch a sync is waiting for, so that close() can end it. */
    private volatile CompletableFuture<FetchResult> inFlight;
    private volatile int maxDistributors = Integer.MAX_VALUE;
    private volatile boolean closed;

    /**
     * Creates the sync component of a communicator and registers its server with the session's peer listener.
     *
     * @param session the communicator's session (not owned)
     * @param collectivesInFlight number of collective operations launched and not yet awaited; a sync is refused
     *        while it is positive
     */
    public SharedStateSync(final PeerSession session, final IntSupplier collectivesInFlight) {
        this.session = Objects.requireNonNull(session, "session");
        this.collectivesInFlight = Objects.requireNonNull(collectivesInFlight, "collectivesInFlight");
        this.server = new SharedStateServer(this::selfIdOrZero, SharedStateServer.DEFAULT_IDLE_TIMEOUT);
        session.roleHandler(ConnectionRole.ROLE_SHARED_STATE, server::onAccepted);
        this.verifier = Executors.newCachedThreadPool(r -> {
            final Thread t = new Thread(r, "pccl-state-verify");
            t.setDaemon(true);
            return t;
        });
    }

    private long selfIdOrZero() {
        try {
            return session.peerId();
        } catch (final PcclException e) {
            return 0L;
        }
    }

    /**
     * Sets the bound of a fetch and of the wait for the group's completion.
     *
     * @param timeout positive
     */
    public void completionTimeout(final Duration timeout) {
        final long ns = Objects.requireNonNull(timeout, "timeout").toNanos();
        if (ns <= 0) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "completionTimeout " + timeout
                    + " must be positive");
        }
        this.completionTimeoutNs = ns;
    }

    /**
     * Sets how long a fetch connection may go without receiving a byte.
     *
     * @param timeout positive
     */
    public void progressTimeout(final Duration timeout) {
        if (Objects.requireNonNull(timeout, "timeout").isNegative() || timeout.isZero()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "progressTimeout " + timeout
                    + " must be positive");
        }
        this.progressTimeout = timeout;
    }

    /**
     * Limits how many of the master's distributors one fetch tries (the assigned one first, then fallbacks). The
     * default tries them all; 1 disables fail-over within a call, so that a lost distributor fails the sync and
     * the caller retries after {@code updateTopology()} (fault-injection tests).
     *
     * @param max at least 1
     */
    public void maxDistributorsPerFetch(final int max) {
        if (max < 1) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "maxDistributorsPerFetch " + max
                    + " must be >= 1");
        }
        this.maxDistributors = max;
    }

    /**
     * Sets an observer of fetch progress (diagnostics, fault-injection tests).
     *
     * @param fetchObserver the observer, or null
     */
    public void fetchObserver(final FetchObserver fetchObserver) {
        this.observer = fetchObserver;
    }

    /**
     * Whether a sync is running now (diagnostics, tests).
     *
     * @return true while a {@link #sync} call holds the sync lock
     */
    public boolean syncInProgress() {
        return syncLock.isLocked();
    }

    /**
     * Runs one shared-state sync (see the class comment).
     *
     * @param state the local state; its revision is set to the group's revision on success
     * @param strategy how this peer takes part
     * @return bytes served and received, the revision after the sync and the keys received
     * @throws SharedStateSyncException {@code SHARED_STATE_FAILED} (retryable) when the master refused this peer
     *         (the message carries the master's code and reason), the fetch failed, or the group's sync failed
     * @throws PcclException {@code FAILED_PRECONDITION} when not connected, when collectives are in flight or
     *         another sync runs; {@code TIMEOUT} when the group does not vote or complete in time; {@code CLOSED};
     *         {@code KickedException} / {@code MasterLostException} from the master connection
     */
    public SyncInfo sync(final SharedState state, final SyncStrategy strategy) {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(strategy, "strategy");
        if (!syncLock.tryLock()) {
            throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "syncSharedState(): another "
                    + "syncSharedState call is in progress on this communicator; syncs must not overlap");
        }
        try {
            final MasterConnection m = requireReady();
            final SyncSharedStateRequest request = SharedStateProtos.syncRequest(state, strategy);
            server.takeTxBytes();
            server.serve(state);
            try {
                return vote(m, state, strategy, request);
            } finally {
                server.stopServing();
            }
        } finally {
            syncLock.unlock();
        }
    }

    private MasterConnection requireReady() {
        if (closed) {
            throw new PcclException(PcclException.Code.CLOSED, "syncSharedState(): communicator is closed");
        }
        final MasterConnection m;
        try {
            m = session.master();
        } catch (final PcclException e) {
            throw new PcclException(e.code(), "syncSharedState(): not connected (call connect() first; only "
                    + "accepted peers may sync)", e);
        }
        final int inFlight = collectivesInFlight.getAsInt();
        if (inFlight > 0) {
            throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "syncSharedState(): " + inFlight
                    + " collective operation(s) of peer " + session.peerId() + " are in flight; await them before "
                    + "syncing shared state");
        }
        return m;
    }

    private SyncInfo vote(final MasterConnection m, final SharedState state, final SyncStrategy strategy,
                          final SyncSharedStateRequest request) {
        final MasterDispatcher d = m.dispatcher();
        final long selfId = session.peerId();
        final String group = "group " + session.config().peerGroup();
        d.clear(Envelope.BodyCase.SYNC_SHARED_STATE_RESPONSE, Envelope.BodyCase.SYNC_SHARED_STATE_DONE);
        m.send(Envelope.newBuilder().setSyncSharedStateRequest(request).build());
        final SyncSharedStateResponse response = d.await(Envelope.BodyCase.SYNC_SHARED_STATE_RESPONSE,
                session.config().topologyTimeoutNs(), "shared-state sync answer from master " + m.addressText()
                        + " (every accepted peer of " + group + " must call syncSharedState())")
                .getSyncSharedStateResponse();
        if (response.getCode() != ErrorCode.ERROR_UNSPECIFIED) {
            throw new SharedStateSyncException(PcclException.Code.SHARED_STATE_FAILED, "syncSharedState(): master "
                    + m.addressText() + " refused the sync of peer " + selfId + " (" + strategy + ", revision "
                    + Long.toUnsignedString(request.getRevision()) + ") with " + response.getCode() + ": "
                    + response.getReason(), null);
        }
        final long revision = response.getRevision();
        PcclException failure = null;
        FetchResult fetched = null;
        if (response.getOutdated() && response.getKeysCount() > 0) {
            try {
                fetched = fetch(selfId, state, response);
            } catch (final SharedStateSyncException e) {
                failure = e;
            } catch (final PcclException e) {
                failure = new SharedStateSyncException("syncSharedState(): peer " + selfId + " could not fetch: "
                        + e.getMessage(), e);
            }
        }
        if (failure == null) {
            state.revision(revision);
        }
        m.send(Envelope.newBuilder().setSyncSharedStateComplete(SyncSharedStateComplete.newBuilder()
                .setSuccess(failure == null)).build());
        final SyncSharedStateDone done = d.await(Envelope.BodyCase.SYNC_SHARED_STATE_DONE, completionTimeoutNs,
                "completion of the shared-state sync of " + group + " at revision " + Long.toUnsignedString(revision)
                        + " from master " + m.addressText()).getSyncSharedStateDone();
        if (!server.awaitNoResponsesInFlight(DRAIN_NS)) {
            LOG.warn("peer {}: a shared-state response was still being written {} ms after the sync completed",
                    selfId, TimeUnit.NANOSECONDS.toMillis(DRAIN_NS));
        }
        final long tx = server.takeTxBytes();
        if (failure != null) {
            throw failure;
        }
        if (!done.getSuccess()) {
            throw new SharedStateSyncException("syncSharedState(): the shared-state sync of " + group
                    + " at revision " + Long.toUnsignedString(revision) + " failed for the group (peer " + selfId
                    + "'s own part succeeded): " + done.getReason());
        }
        final SyncInfo info = fetched == null ? new SyncInfo(tx, 0L, revision, List.of())
                : new SyncInfo(tx, fetched.rxBytes(), revision, fetched.keys());
        LOG.debug("peer {}: shared state synced at revision {} ({}): tx {} B, rx {} B{}", selfId,
                Long.toUnsignedString(revision), strategy, info.txBytes(), info.rxBytes(),
                fetched == null ? "" : ", " + fetched.keys().size() + " key(s) from " + fetched.distributor());
        return info;
    }

    /** Fetches the listed keys, bounded by the completion timeout; every failure is a SharedStateSyncException. */
    private FetchResult fetch(final long selfId, final SharedState state, final SyncSharedStateResponse response) {
        final List<FetchKey> keys = SharedStateProtos.fetchKeys(response, state);
        final List<InetSocketAddress> listed = SharedStateProtos.distributors(response);
        final List<InetSocketAddress> distributors = listed.size() > maxDistributors
                ? listed.subList(0, maxDistributors) : listed;
        final String what = "fetching " + keys.size() + " key(s) for revision "
                + Long.toUnsignedString(response.getRevision());
        if (distributors.isEmpty()) {
            return failFetch(selfId, what, "the master listed no distributor", null);
        }
        final SharedStateFetcher fetcher = new SharedStateFetcher(session.eventLoops(), selfId, verifier,
                Duration.ofNanos(session.config().p2pHandshakeTimeoutNs()), progressTimeout).observer(observer)
                .security(session.config().security());
        final CompletableFuture<FetchResult> future;
        try {
            future = fetcher.fetchFromAny(distributors, state, keys);
        } catch (final PcclException e) {
            return failFetch(selfId, what, e.getMessage(), e);
        }
        inFlight = future;
        if (closed) {
            future.completeExceptionally(new PcclException(PcclException.Code.CLOSED, "communicator closed"));
        }
        try {
            return future.get(completionTimeoutNs, TimeUnit.NANOSECONDS);
        } catch (final ExecutionException e) {
            return failFetch(selfId, what, e.getCause().getMessage(), e.getCause());
        } catch (final TimeoutException e) {
            future.cancel(false);
            return failFetch(selfId, what, "not done within the completion timeout "
                    + TimeUnit.NANOSECONDS.toMillis(completionTimeoutNs) + " ms", e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            return failFetch(selfId, what, "interrupted", e);
        } finally {
            inFlight = null;
        }
    }

    private static FetchResult failFetch(final long selfId, final String what, final String why,
                                         final Throwable cause) {
        throw new SharedStateSyncException("syncSharedState(): peer " + selfId + " failed " + what + ": " + why,
                cause);
    }

    /** Stops serving and releases the verification threads. Idempotent. */
    @Override
    public void close() {
        closed = true;
        final CompletableFuture<FetchResult> fetch = inFlight;
        if (fetch != null) {
            fetch.completeExceptionally(new PcclException(PcclException.Code.CLOSED, "communicator closed"));
        }
        server.stopServing();
        verifier.shutdownNow();
    }
}
