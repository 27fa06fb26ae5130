package io.pccl.internal.collective;

import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.TooFewPeersException;
import io.pccl.proto.CollectiveComplete;
import io.pccl.proto.CollectiveDone;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.ring.RingTransport;
import io.pccl.ring.internal.BufferCache;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * One all-reduce as this peer runs it against the master:
 * <pre>
 *  launched (Initiate sent) --Commence--&gt; engine running --engine done--&gt; Complete sent --Done--&gt; finished
 *        \--Done{MISMATCH}--&gt; finished       Abort: abort the engine       master lost / close: finished
 * </pre>
 * The operation succeeds only when the engine succeeded and the master's {@code Done} says success. On any failure
 * an in-place input is restored from this operation's own backup (taken before {@code Initiate}), also when the
 * engine succeeded here but the operation failed elsewhere. In place, the engine runs out-of-place from the backup
 * into the caller's buffer.
 *
 * <p>Thread-safe: state is guarded by {@code this}; master messages arrive on an event loop, engine completions on
 * engine threads; the finishing work (restore, future completion) runs on a collective thread, except for a
 * blocking caller's private future when nothing needs restoring: the thread that learnt the outcome completes it,
 * which wakes the blocked caller directly (no user code can run there: the caller is the future's only waiter).
 */
final class CollectiveOp {
    private final Collectives owner;
    private final ReduceDescriptor descriptor;
    private final ByteBuffer send;
    private final ByteBuffer recv;
    private final boolean inPlace;
    private final int bytes;
    /** The future is private to a blocked caller (it has no dependents that could run user code). */
    private final boolean blockingCaller;
    private final CompletableFuture<ReduceInfo> future = new CompletableFuture<>();
    private ByteBuffer backup;

    // @GuardedBy("this")
    private boolean commenced;
    private long seq = -1;
    private long[] ring;
    private RingOperation engineOp;
    private boolean localDone;
    private ReduceInfo engineResult;
    private PcclException engineFailure;
    private PcclException abortCause;
    private PcclException hardFailure;
    private CollectiveDone done;
    private boolean finishing;

    CollectiveOp(final Collectives owner, final ReduceDescriptor descriptor, final ByteBuffer send,
                 final ByteBuffer recv, final boolean inPlace, final boolean blockingCaller) {
        this.owner = owner;
        this.blockingCaller = blockingCaller;
        this.descriptor = descriptor;
        this.send = send;
        this.recv = recv;
        this.inPlace = inPlace;
        this.bytes = (int) descriptor.sizeBytes();
    }

    long tag() {
        return descriptor.tag();
    }

    CompletableFuture<ReduceInfo> future() {
        return future;
    }

    /** Copies the in-place input aside; called on the launching thread before {@code Initiate}. */
    void takeBackup(final BufferCache cache) {
        backup = cache.acquire(Math.max(bytes, 1));
        final ByteBuffer src = send.duplicate();
        src.limit(src.position() + bytes);
        backup.clear();
        backup.put(src).flip();
    }

    void releaseBackup(final BufferCache cache) {
        if (backup != null) {
            cache.release(backup);
            backup = null;
        }
    }

    long rxBytes() {
        final RingOperation e;
        synchronized (this) {
            e = engineOp;
        }
        return e == null ? 0 : e.rxBytes();
    }

    /**
     * Whether starting the engine is only bookkeeping (no copy of the operand on the starting thread), so that it
     * may run on the event loop that delivered the commence: out of place, or in place from this operation's own
     * backup (the engine then runs out of place). In place without a backup the engine copies the operand first.
     *
     * @return true when {@link #commence} may run on an event loop
     */
    boolean startsCheaply() {
        return !inPlace || backup != null;
    }

    /** Starts the engine for the master's ring; runs on a collective thread, or on an event loop when cheap. */
    void commence(final long commenceSeq, final long[] commenceRing) {
        synchronized (this) {
            if (finishing || hardFailure != null || commenced) {
                return;
            }
            commenced = true;
            seq = commenceSeq;
            ring = commenceRing;
        }
        final RingOperation op;
        try {
            op = owner.engine().start(context(commenceSeq, commenceRing));
        } catch (PcclException e) {
            engineDone(null, e);
            return;
        } catch (RuntimeException e) {
            engineDone(null, new PcclException(PcclException.Code.INTERNAL, "all-reduce tag " + tag()
                    + " could not start: " + e, e));
            return;
        }
        final PcclException cause;
        synchronized (this) {
            engineOp = op;
            cause = hardFailure != null ? hardFailure : abortCause;
        }
        if (cause != null) {
            op.abort(cause);
        }
        op.future().whenComplete(this::engineDone);
    }

    private RingOpContext context(final long opSeq, final long[] opRing) {
        final long self = owner.session().peerId();
        int rank = -1;
        for (int i = 0; i < opRing.length; i++) {
            if (opRing[i] == self) {
                rank = i;
            }
        }
        if (rank < 0) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "all-reduce tag " + tag() + " seq "
                    + opSeq + ": master's ring " + Arrays.toString(opRing) + " lacks this peer " + self);
        }
        final int w = opRing.length;
        if (w < 2) {
            throw new TooFewPeersException("all-reduce tag " + tag() + " seq " + opSeq + ": only " + w
                    + " peer left in the operation's ring " + Arrays.toString(opRing));
        }
        final RingTransport transport = owner.dataPlane().transport(owner.session().p2p(), opRing[(rank + 1) % w],
                opRing[(rank - 1 + w) % w]);
        final ByteBuffer input = inPlace && backup != null ? backup.duplicate() : send;
        return new RingOpContext(opRing, rank, opSeq, descriptor, input, recv, transport);
    }

    /** The engine finished (or could not start): report to the master unless the op already failed hard. */
    private void engineDone(final ReduceInfo result, final Throwable failure) {
        final PcclException hard;
        final long opSeq;
        synchronized (this) {
            if (localDone) {
                return;
            }
            localDone = true;
            engineResult = failure == null ? result : null;
            engineFailure = failure == null ? null : Futures.unwrap(failure);
            hard = hardFailure;
            opSeq = seq;
        }
        if (hard == null) {
            try {
                owner.send(Envelope.newBuilder().setCollectiveComplete(CollectiveComplete.newBuilder()
                        .setTag(tag()).setSeq(opSeq).setAborted(failure != null)).build());
            } catch (PcclException e) {
                failHard(e);
            }
        }
        maybeFinish();
    }

    /** The master's {@code CollectiveAbort}: another member failed; abort the engine. Any thread. */
    void masterAbort(final long abortSeq, final String reason) {
        final RingOperation op;
        final PeerLostException cause;
        synchronized (this) {
            if (commenced && abortSeq != seq || abortCause != null) {
                return;
            }
            cause = new PeerLostException("all-reduce tag " + tag() + " seq " + abortSeq + " aborted by the master: "
                    + reason);
            abortCause = cause;
            op = localDone ? null : engineOp;
        }
        if (op != null) {
            op.abort(cause);
        }
    }

    /** The master's {@code CollectiveDone}. Any thread. */
    void done(final CollectiveDone d) {
        synchronized (this) {
            if (done != null || commenced && d.getSeq() != seq) {
                return;
            }
            done = d;
        }
        maybeFinish();
    }

    /** Fails the operation without the master (master lost, communicator closing). Any thread. */
    void failHard(final PcclException cause) {
        final RingOperation op;
        synchronized (this) {
            if (hardFailure != null) {
                return;
            }
            hardFailure = cause;
            op = localDone ? null : engineOp;
        }
        if (op != null) {
            op.abort(cause);
        }
        maybeFinish();
    }

    /**
     * Finishes the operation without waiting for the engine any longer (closing, after the engine and the
     * connections are closed). Any thread.
     */
    void forceFinish(final PcclException cause) {
        synchronized (this) {
            if (hardFailure == null) {
                hardFailure = cause;
            }
            localDone = true;
        }
        maybeFinish();
    }

    private void maybeFinish() {
        final boolean inline;
        synchronized (this) {
            if (finishing || commenced && !localDone || done == null && hardFailure == null) {
                return;
            }
            finishing = true;
            final boolean succeeded = hardFailure == null && done.getSuccess() && engineResult != null;
            // A restore copies the operand: never on an event loop.
            inline = blockingCaller && (succeeded || !inPlace || backup == null);
        }
        if (inline) {
            finish();
        } else {
            owner.execute(this::finish);
        }
    }

    /**
     * Restores, frees the tag and completes the future; runs on a collective thread, or on the calling thread for
     * a blocking caller when there is nothing to restore.
     */
    private void finish() {
        final PcclException failure;
        final ReduceInfo result;
        synchronized (this) {
            result = engineResult;
            failure = outcome();
        }
        if (failure != null && inPlace && backup != null) {
            final ByteBuffer dst = recv.duplicate();
            dst.limit(dst.position() + bytes);
            dst.put(backup.duplicate());
        }
        releaseBackup(owner.backups());
        owner.finished(this);
        if (failure == null) {
            owner.counters().onAllReduce(result);
            future.complete(result);
        } else {
            owner.counters().onAllReduceFailed();
            future.completeExceptionally(failure);
        }
    }

    /** The failure the caller sees, or null on success. Holds {@code this}. */
    private PcclException outcome() {
        final String what = "all-reduce tag " + tag() + (commenced ? " seq " + seq : "");
        if (hardFailure != null) {
            return hardFailure;
        }
        if (done.getSuccess() && engineResult != null) {
            return null;
        }
        if (done.getCode() == ErrorCode.ERROR_COLLECTIVE_MISMATCH) {
            return new PcclException(PcclException.Code.INVALID_ARGUMENT, what + ": the peers launched tag "
                    + tag() + " with different parameters: " + done.getReason());
        }
        if (done.getCode() == ErrorCode.ERROR_FAILED_PRECONDITION && !commenced) {
            // refused before it started: the group is in another kind of vote (updateTopology, sync, pending query)
            return new PcclException(PcclException.Code.FAILED_PRECONDITION, what + " refused by the master: "
                    + done.getReason());
        }
        if (engineFailure instanceof TooFewPeersException
                || engineFailure != null && !engineFailure.isRetryable()
                && engineFailure.code() != PcclException.Code.PROTOCOL_VIOLATION) {
            return engineFailure;
        }
        final String why = engineFailure != null ? engineFailure.getMessage()
                : "failed on another peer: " + done.getReason();
        final String advice = "; call updateTopology() and retry";
        return new PeerLostException(what + " failed (" + (ring == null ? "?" : ring.length) + " peers): " + why
                + (why != null && why.endsWith(advice) ? "" : advice), engineFailure);
    }
}
