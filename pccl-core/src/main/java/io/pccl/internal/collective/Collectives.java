package io.pccl.internal.collective;

import io.pccl.PcclException;
import io.pccl.Quantization;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.TooFewPeersException;
import io.pccl.internal.client.PeerCounters;
import io.pccl.internal.client.PeerSession;
import io.pccl.internal.master.MasterConnection;
import io.pccl.internal.master.MasterDispatcher;
import io.pccl.proto.CollectiveAbort;
import io.pccl.proto.CollectiveCommence;
import io.pccl.proto.CollectiveDone;
import io.pccl.proto.CollectiveInitiate;
import io.pccl.proto.DataTypeProto;
import io.pccl.proto.Envelope;
import io.pccl.proto.QuantizationProto;
import io.pccl.proto.ReduceOpProto;
import io.pccl.quant.MinMaxQuantizer;
import io.pccl.quant.ZeroPointScaleQuantizer;
import io.pccl.ring.DropCounter;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingAllReduce;
import io.pccl.ring.internal.BufferCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The all-reduce operations of one communicator: launches them (validation, tag bookkeeping, in-place backup,
 * {@code CollectiveInitiate}), reacts to the master's {@code Commence}/{@code Abort}/{@code Done} and fails every
 * running operation when the master is lost or the communicator closes. Each operation is a {@link CollectiveOp}.
 *
 * <p>Thread-safe. Master messages arrive on an event loop. An operation whose engine start is only bookkeeping
 * (out of place, or in place from this operation's own backup) is started right there, saving a thread hand-off on
 * the latency path; one whose start would copy the operand is started on this object's own threads
 * ({@code pccl-collective-*}). Futures returned to the caller ({@link #launch}) complete on those threads, never on
 * an event loop; the private future of a blocking call ({@link #allReduce}) may complete on any thread, since the
 * blocked caller is its only waiter.
 */
public final class Collectives implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Collectives.class);

    private final PeerSession session;
    private final RingAllReduce engine;
    private final RingDataPlane dataPlane;
    private final ExecutorService executor;
    private final BufferCache backups = new BufferCache(1L << 30);
    private final PeerCounters counters;
    private final Object lock = new Object();
    // @GuardedBy("lock")
    private final Map<Long, CollectiveOp> running = new HashMap<>();
    // @GuardedBy("lock")
    private String membershipCall;
    // @GuardedBy("lock")
    private MasterConnection attached;
    // @GuardedBy("lock")
    private PcclException closedCause;

    /**
     * Creates the collectives of a session and installs the ring data plane into its p2p connections (call before
     * the session connects).
     *
     * @param session the session
     * @param counters where operation outcomes are counted
     * @param progressTimeout longest time an operation may make no progress before it fails
     * @param sliceBytes payload bytes per data frame
     */
    public Collectives(final PeerSession session, final PeerCounters counters, final Duration progressTimeout,
                       final int sliceBytes) {
        this.session = Objects.requireNonNull(session, "session");
        this.counters = Objects.requireNonNull(counters, "counters");
        // The engine futures' only dependent is CollectiveOp.engineDone, which just sends CollectiveComplete.
        this.engine = RingAllReduce.builder().progressTimeout(progressTimeout).sliceBytes(sliceBytes)
                .completeOnTransportThreads(true).build();
        this.dataPlane = new RingDataPlane(Math.max(sliceBytes, RingAllReduce.DEFAULT_SLICE_BYTES));
        session.dataPlaneInitializer(dataPlane);
        final AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    final Thread t = new Thread(r, "pccl-collective-" + n.getAndIncrement());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Subscribes to the collective messages of the session's current master connection. Call after every
     * successful connect.
     */
    public void attach() {
        final MasterConnection m = session.master();
        synchronized (lock) {
            if (attached == m) {
                return;
            }
            attached = m;
        }
        final MasterDispatcher d = m.dispatcher();
        d.listen(Envelope.BodyCase.COLLECTIVE_COMMENCE, this::onCommence);
        d.listen(Envelope.BodyCase.COLLECTIVE_ABORT, this::onAbort);
        d.listen(Envelope.BodyCase.COLLECTIVE_DONE, this::onDone);
        d.onFailure(this::failAll);
    }

    /**
     * Launches an all-reduce. Validation failures are thrown here; everything later completes the future.
     *
     * @param send input
     * @param recv output, may be {@code send}
     * @param d what to reduce
     * @param restoreInPlace whether an in-place input must be restored on failure (false when the caller keeps
     *                       its own copy, as the primitive-array overloads do)
     * @return the future, completed on a collective thread
     */
    public CompletableFuture<ReduceInfo> launch(final ByteBuffer send, final ByteBuffer recv,
                                                final ReduceDescriptor d, final boolean restoreInPlace) {
        return launch(send, recv, d, restoreInPlace, false);
    }

    /**
     * Runs an all-reduce and blocks until it finished (not interruptible: the operation owns the buffers until
     * then; the interrupt flag is restored). Unlike {@link #launch}, the future is private to this call, so the
     * thread that learns the outcome (usually the event loop that read the master's {@code Done}) completes it
     * directly instead of handing over to a collective thread: one thread wake-up less per operation. A failure
     * that must restore an in-place input still finishes on a collective thread.
     *
     * @param send input
     * @param recv output, may be {@code send}
     * @param d what to reduce
     * @param restoreInPlace as for {@link #launch}
     * @return world size and bytes moved
     * @throws PcclException validation failures and the operation's failure
     */
    public ReduceInfo allReduce(final ByteBuffer send, final ByteBuffer recv, final ReduceDescriptor d,
                                final boolean restoreInPlace) {
        return Futures.await(launch(send, recv, d, restoreInPlace, true));
    }

    private CompletableFuture<ReduceInfo> launch(final ByteBuffer send, final ByteBuffer recv,
                                                 final ReduceDescriptor d, final boolean restoreInPlace,
                                                 final boolean blockingCaller) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(recv, "recv");
        Objects.requireNonNull(d, "descriptor");
        final String what = "allReduce(tag " + d.tag() + ")";
        final MasterConnection m = requireConnected(what);
        validate(send, recv, d, what);
        final boolean inPlace = RingOpContext.sameMemory(send, recv);
        final CollectiveOp op;
        synchronized (lock) {
            if (closedCause != null) {
                throw new PcclException(PcclException.Code.CLOSED, what + ": communicator is closed");
            }
            if (membershipCall != null) {
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, what + ": " + membershipCall
                        + " is running; collectives may only be launched between membership calls");
            }
            if (running.containsKey(d.tag())) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, what + ": tag " + d.tag()
                        + " is already used by an all-reduce running on this peer; use a distinct tag per "
                        + "concurrent operation (a tag is free again once its operation completed)");
            }
            op = new CollectiveOp(this, d, send, recv, inPlace, blockingCaller);
            running.put(d.tag(), op);
        }
        try {
            if (inPlace && restoreInPlace) {
                op.takeBackup(backups);
            }
            m.send(Envelope.newBuilder().setCollectiveInitiate(initiate(d)).build());
            // A master loss between the check above and the registration would not have reached this op.
            final PcclException lost = m.dispatcher().failure();
            if (lost != null) {
                op.failHard(lost);
            }
        } catch (RuntimeException e) {
            synchronized (lock) {
                running.remove(d.tag(), op);
            }
            op.releaseBackup(backups);
            throw e;
        }
        return op.future();
    }

    private MasterConnection requireConnected(final String what) {
        synchronized (lock) {
            if (closedCause != null) {
                throw new PcclException(PcclException.Code.CLOSED, what + ": communicator is closed");
            }
        }
        final MasterConnection m;
        try {
            m = session.master();
        } catch (PcclException e) {
            throw new PcclException(e.code(), what + ": not connected (call connect() first)", e);
        }
        final PcclException lost = m.dispatcher().failure();
        if (lost != null) {
            throw lost;
        }
        final int world = session.membership().peerGroupWorldSize();
        if (world < 2) {
            throw new TooFewPeersException(what + ": peer group " + session.config().peerGroup()
                    + " has world size " + world + ", an all-reduce needs at least 2 accepted peers (wait for "
                    + "peers to join and call updateTopology())");
        }
        return m;
    }

    private static void validate(final ByteBuffer send, final ByteBuffer recv, final ReduceDescriptor d,
                                 final String what) {
        try {
            if (d.quantization() == Quantization.MIN_MAX) {
                MinMaxQuantizer.of(d.dataType(), d.quantizedType());
            } else if (d.quantization() == Quantization.ZERO_POINT_SCALE) {
                ZeroPointScaleQuantizer.of(d.dataType(), d.quantizedType());
                ZeroPointScaleQuantizer.checkOp(d.op());
            }
        } catch (final PcclException e) {
            throw new PcclException(e.code(), what + ": " + e.getMessage(), e);
        }
        final long bytes = d.sizeBytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, what + ": count " + d.count() + " x "
                    + d.dataType() + " = " + bytes + " bytes exceeds the ByteBuffer limit of " + Integer.MAX_VALUE);
        }
        checkRoom("send", send, d, what);
        checkRoom("recv", recv, d, what);
        if (recv.isReadOnly()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, what + ": recv buffer is read-only");
        }
    }

    private static void checkRoom(final String name, final ByteBuffer b, final ReduceDescriptor d,
                                  final String what) {
        if (b.remaining() < d.sizeBytes()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, what + ": " + name + " buffer too small: "
                    + "count " + d.count() + " x " + d.dataType() + " (" + d.dataType().sizeBytes()
                    + " bytes each) = " + d.sizeBytes() + " bytes, but " + name + " has " + b.remaining()
                    + " bytes remaining (position " + b.position() + ", limit " + b.limit() + ", capacity "
                    + b.capacity() + ")");
        }
    }

    private static CollectiveInitiate initiate(final ReduceDescriptor d) {
        return CollectiveInitiate.newBuilder().setTag(d.tag()).setCount(d.count())
                .setDataType(DataTypeProto.forNumber(d.dataType().ordinal() + 1))
                .setOp(ReduceOpProto.forNumber(d.op().ordinal() + 1))
                .setQuantization(QuantizationProto.forNumber(d.quantization().ordinal()))
                .setQuantizedType(DataTypeProto.forNumber(d.quantizedType().ordinal() + 1)).build();
    }

    /**
     * Marks a membership call as running; fails if operations are in flight.
     *
     * @param call the call's name, for messages
     * @throws PcclException {@code FAILED_PRECONDITION} naming the running tags
     */
    public void beginMembershipCall(final String call) {
        synchronized (lock) {
            if (!running.isEmpty()) {
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, call + ": " + running.size()
                        + " all-reduce operation(s) in flight (tags " + running.keySet()
                        + "); await them before changing or querying the membership");
            }
            if (membershipCall != null) {
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, call + ": " + membershipCall
                        + " is running on another thread");
            }
            membershipCall = call;
        }
    }

    /** Ends a membership call begun with {@link #beginMembershipCall}. */
    public void endMembershipCall() {
        synchronized (lock) {
            membershipCall = null;
        }
    }

    /**
     * Operations launched and not completed.
     *
     * @return the count
     */
    public int inFlight() {
        synchronized (lock) {
            return running.size();
        }
    }

    /**
     * Payload bytes received so far by the operations in flight (diagnostics and tests).
     *
     * @return the sum
     */
    public long inFlightRxBytes() {
        final List<CollectiveOp> ops;
        synchronized (lock) {
            ops = new ArrayList<>(running.values());
        }
        long sum = 0;
        for (CollectiveOp op : ops) {
            sum += op.rxBytes();
        }
        return sum;
    }

    private CollectiveOp lookup(final long tag, final String what) {
        synchronized (lock) {
            final CollectiveOp op = running.get(tag);
            if (op == null) {
                LOG.warn("{} for tag {} that has no running operation here; ignored", what, tag);
            }
            return op;
        }
    }

    private void onCommence(final Envelope e) {
        final CollectiveCommence c = e.getCollectiveCommence();
        final CollectiveOp op = lookup(c.getTag(), "CollectiveCommence");
        if (op != null) {
            final long[] ring = new long[c.getRingCount()];
            for (int i = 0; i < ring.length; i++) {
                ring[i] = c.getRing(i);
            }
            if (op.startsCheaply()) {
                // Registration and scheduling only: no hand-off to a collective thread before the data moves.
                op.commence(c.getSeq(), ring);
            } else {
                executor.execute(() -> op.commence(c.getSeq(), ring));
            }
        }
    }

    private void onAbort(final Envelope e) {
        final CollectiveAbort a = e.getCollectiveAbort();
        final CollectiveOp op = lookup(a.getTag(), "CollectiveAbort");
        if (op != null) {
            op.masterAbort(a.getSeq(), a.getReason());
        }
    }

    private void onDone(final Envelope e) {
        final CollectiveDone done = e.getCollectiveDone();
        final CollectiveOp op = lookup(done.getTag(), "CollectiveDone");
        if (op != null) {
            op.done(done);
        }
    }

    /** Fails every running operation (master lost or closing). Runs on any thread; does not block. */
    private void failAll(final PcclException cause) {
        final List<CollectiveOp> ops;
        synchronized (lock) {
            ops = new ArrayList<>(running.values());
        }
        for (CollectiveOp op : ops) {
            op.failHard(cause);
        }
    }

    // ---- called by CollectiveOp -------------------------------------------------------------------------------

    PeerSession session() {
        return session;
    }

    RingAllReduce engine() {
        return engine;
    }

    RingDataPlane dataPlane() {
        return dataPlane;
    }

    BufferCache backups() {
        return backups;
    }

    PeerCounters counters() {
        return counters;
    }

    /**
     * Data frames dropped on arrival, over the communicator's life.
     *
     * @return the total
     */
    public DropCounter drops() {
        return dataPlane.drops();
    }

    void execute(final Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // Closing: run inline (only completes a future and restores a buffer).
            task.run();
        }
    }

    /** Removes a finished operation so its tag is free again (before its future completes). */
    void finished(final CollectiveOp op) {
        synchronized (lock) {
            running.remove(op.tag(), op);
        }
    }

    void send(final Envelope e) {
        session.master().send(e);
    }

    /**
     * First step of closing: later launches fail with {@code CLOSED}, running operations fail and the engine
     * closes, waiting (bounded) until aborted operations have stopped using their buffers; the connections are
     * still open then, so queued writes drain. Idempotent.
     */
    public void failRunning() {
        final PcclException cause = new PcclException(PcclException.Code.CLOSED,
                "communicator closed while the all-reduce was running");
        synchronized (lock) {
            if (closedCause == null) {
                closedCause = cause;
            }
        }
        failAll(cause);
        engine.close();
    }

    /**
     * Last step of closing, after the session (connections, event loops) is closed: operations the engine did not
     * report within its bound are finished here (their buffers are no longer read by any write), then the threads
     * stop (bounded). Idempotent.
     */
    @Override
    public void close() {
        failRunning();
        final PcclException cause;
        final List<CollectiveOp> ops;
        synchronized (lock) {
            cause = closedCause;
            ops = new ArrayList<>(running.values());
        }
        for (CollectiveOp op : ops) {
            op.forceFinish(cause);
        }
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
