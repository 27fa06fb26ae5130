package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.ReduceOperation;
import io.pccl.SharedState;
import io.pccl.SyncInfo;
import io.pccl.SyncStrategy;
import io.pccl.TooFewPeersException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * DiLoCo and async DiLoCo on pccl-java: one outer step per {@link #step} call, in the order that keeps every
 * membership call clear of running all-reduces (the master refuses a pending-peers query, a topology update or a
 * sync while this peer has collectives in flight, {@code docs/diloco.md}).
 *
 * <p>Synchronous DiLoCo: sync the shared state (θ and the outer momentum), run the inner steps from θ, all-reduce
 * the pseudo-gradients, apply the outer step, advance the revision. The all-reduce waits for the slowest peer's
 * inner steps and then takes its full time.
 *
 * <p>Async DiLoCo, one-step delayed: sync; launch the all-reduce of the pseudo-gradient of the <em>previous</em>
 * inner steps on a background thread; run this step's inner steps from θ while it is in flight; wait for it,
 * apply the outer step, advance the revision. The communication hides behind the inner steps, and the update
 * applied at revision r comes from inner steps that started from θ of revision r − 1. The wait sits inside the
 * step, so no all-reduce crosses a topology update: a newcomer accepted between two steps syncs the θ that
 * already holds every applied update (the "eavesdrop" of the reference's pattern needs no second sync here), and
 * it has no previous inner steps, so it contributes zeros with weight 0. The all-reduce sums pseudo-gradients and
 * weights, and the outer step divides by the weight: the average of the peers that contributed, whatever the
 * world size. Failures: the retry helper re-runs the all-reduce with the survivors (the weights then count only
 * them); a failed step leaves θ and the revision where they were, and the next attempt contributes the inner
 * steps this peer finished last (in async mode those of the failed attempt, which started from the same θ).
 *
 * <p>Not thread-safe: one loop thread calls {@link #step}. In async mode one daemon thread of this object runs
 * each step's all-reduce, and {@link #step} waits for it before it returns, also when it throws.
 */
final class DiLoCoTraining implements AutoCloseable {
    /**
     * What one step did, for the peer's {@code STEP} line: {@code reduceMBps} counts the all-reduce call alone (in
     * async mode it also waits for slower peers' launches), {@code waitMs} is how long the step waited for the
     * all-reduce after its own inner steps.
     */
    record Step(long revision, int world, int contributors, long syncRxBytes, double reduceMBps, double innerMs,
                double waitMs, double loss, String hash) {
    }

    private final DiLoCoModel model;
    private final boolean async;
    private final int innerSteps;
    private final int maxInFlight;
    private final SharedState state;
    private final List<ReduceOperation> operations;
    private final ExecutorService reducer;
    /** Whether θ came through a successful sync (from the start, unless this peer joins a run that has state). */
    private boolean holdsState;

    /**
     * @param model the numbers
     * @param async one-step delayed (async DiLoCo) instead of synchronous
     * @param innerSteps inner steps per outer step, {@code >= 1}
     * @param ops all-reduce operations the pseudo-gradient is split into (distinct tags), {@code >= 1}
     * @param maxInFlight operations in flight in the retry helper, {@code >= 1}
     * @param quantize MinMax-quantize the pseudo-gradient to this type, or null (the weights are never quantized)
     * @param joiner this peer joins a run that already has state: it syncs {@code RECEIVE_ONLY} until its first
     *        successful sync, so its initial θ never seeds the group
     */
    DiLoCoTraining(final DiLoCoModel model, final boolean async, final int innerSteps, final int ops,
                   final int maxInFlight, final DataType quantize, final boolean joiner) {
        if (innerSteps < 1 || ops < 1 || ops > model.elements() || maxInFlight < 1) {
            throw new IllegalArgumentException("need innerSteps >= 1, 1 <= ops <= elements and maxInFlight >= 1, got "
                    + innerSteps + ", " + ops + ", " + maxInFlight);
        }
        this.model = model;
        this.async = async;
        this.innerSteps = innerSteps;
        this.maxInFlight = maxInFlight;
        this.state = model.newSharedState();
        this.operations = operations(model, ops, quantize);
        this.holdsState = !joiner;
        this.reducer = async ? Executors.newSingleThreadExecutor(r -> {
            final Thread t = new Thread(r, "diloco-reduce");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /** The shared state (θ and momentum) whose revision the steps advance. */
    SharedState state() {
        return state;
    }

    /**
     * One outer step; see the class comment for the order.
     *
     * @param comm a connected communicator of a group of two or more
     * @param afterSync called with the synced revision right after a successful sync, before any all-reduce
     *        starts: the place for other joint calls (say {@code optimizeTopology()}), since every peer of the group
     *        gets the same revision from the sync
     * @return what the step did; {@code world = 1} when the group fell below two peers during the all-reduce (the
     *         outer step is skipped and the revision still advances)
     * @throws PcclException whatever the sync or the all-reduce threw; the revision is not advanced then
     */
    Step step(final Communicator comm, final LongConsumer afterSync) {
        final SyncInfo sync = comm.syncSharedState(state,
                holdsState ? SyncStrategy.ENFORCE_POPULAR : SyncStrategy.RECEIVE_ONLY);
        holdsState = true;
        afterSync.accept(state.revision());
        if (sync.rxBytes() > 0) {
            model.discardInnerSteps(); // computed from a θ this group never had
        }
        final Reduced reduced;
        final long innerStart = System.nanoTime();
        final long innerEnd;
        if (async) {
            model.writeContribution();
            final Future<Reduced> reduce = reducer.submit(() -> reduce(comm));
            try {
                model.innerSteps(innerSteps, state.revision());
            } finally {
                innerEnd = System.nanoTime();
                reduced = await(reduce);
            }
        } else {
            model.innerSteps(innerSteps, state.revision());
            innerEnd = System.nanoTime();
            model.writeContribution();
            reduced = reduce(comm);
        }
        final long waitEnd = System.nanoTime();
        final ReduceInfo info = reduced.info();
        final int contributors = info == null ? 0 : model.applyOuterStep();
        state.incrementRevision();
        final double mbps = info == null ? 0 : (info.txBytes() + info.rxBytes()) / (reduced.ns() / 1e3);
        return new Step(state.revision(), info == null ? 1 : info.worldSize(), contributors, sync.rxBytes(), mbps,
                (innerEnd - innerStart) / 1e6, (waitEnd - innerEnd) / 1e6, model.loss(), model.stateHash());
    }

    /** An all-reduce's result (null when fewer than two peers were left) and how long the call took. */
    private record Reduced(ReduceInfo info, long ns) {
    }

    /** The all-reduce of the contributions with the retry helper. */
    private Reduced reduce(final Communicator comm) {
        final long start = System.nanoTime();
        ReduceInfo info;
        try {
            info = comm.allReduceMultipleWithRetry(operations, maxInFlight);
        } catch (TooFewPeersException e) {
            info = null;
        }
        return new Reduced(info, System.nanoTime() - start);
    }

    private static Reduced await(final Future<Reduced> reduce) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return reduce.get();
                } catch (InterruptedException e) {
                    // The all-reduce must be over before the caller's next membership call: keep waiting.
                    interrupted = true;
                } catch (ExecutionException e) {
                    final Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The pseudo-gradient in {@code ops} contiguous SUM operations (tags 0 ..), then the weight (tag {@code ops}). */
    private static List<ReduceOperation> operations(final DiLoCoModel model, final int ops, final DataType quantize) {
        final List<ReduceOperation> list = new ArrayList<>(TrainingPeer.contiguousOperations(model.delta(),
                model.elements(), ops, ReduceOp.SUM, quantize));
        final ByteBuffer w = model.weight();
        list.add(new ReduceOperation(w, w, ReduceDescriptor.of(1, DataType.FLOAT32, ReduceOp.SUM).tag(ops)));
        return list;
    }

    @Override
    public void close() {
        if (reducer != null) {
            reducer.shutdownNow();
        }
    }
}
