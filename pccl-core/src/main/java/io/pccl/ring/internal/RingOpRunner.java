package io.pccl.ring.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;
import io.pccl.ring.FrameCredit;
import io.pccl.ring.FrameSink;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.RingLink;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.transport.data.DataFrameFlyweight;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * State machine of one ring all-reduce (see {@link RingSchedule} for the step arithmetic).
 *
 * <p>Flow: in place, a backup of the input is taken on the caller's thread. Then, on the engine executor,
 * {@link #run()} alternates between
 * <ul>
 *   <li>consuming received frames in order: reduce-scatter slices are folded into {@code recv} with
 *       {@link ReduceKernels#accumulate} (out-of-place, the same range of {@code send} is first copied into
 *       {@code recv}, slice by slice, so the fold reads it from cache and nothing is copied up front), all-gather
 *       slices overwrite {@code recv}. Every byte of {@code recv} is written by exactly one of the two;</li>
 *   <li>sending every slice whose bytes are final: all of step 0 at once, a slice of step {@code t > 0} as soon
 *       as the same byte range of step {@code t - 1} was received. Payloads are zero-copy slices of {@code send}
 *       (step 0) or {@code recv} (later steps), produced only while the link is writable.</li>
 * </ul>
 * A quantized operation ({@code MIN_MAX} or {@code ZERO_POINT_SCALE}) sends every slice as its own metadata and
 * quantized values ({@link QuantizedSlices}): reduce-scatter quantizes each slice of the partial sum afresh and the
 * receiver folds the decoded values into its full-precision copy; at the first all-gather step the owner of a final
 * chunk quantizes it once and overwrites its own copy with the decoded values in the same pass, and every later
 * step forwards the received payloads verbatim, so every peer decodes the same bytes and ends bit-identical.
 * Quantized payloads are decoded on engine threads, never placed.
 * When every step was sent and received, a {@link RingLink#fence} waits until the last payload left
 * {@code recv}; then {@code AVG} is divided locally and the future completes. Any failure (link or predecessor
 * lost, abort, no progress within the timeout, a frame off the schedule) restores an in-place input and completes
 * the future exceptionally.
 *
 * <p>Threading: events ({@link #onFrame}, link callbacks, {@link #abort}, the progress check) may come from any
 * thread; they only enter the mailbox (guarded by {@code lock}) and schedule the runner. Everything else is
 * confined to one thread at a time: {@code scheduled} guarantees a single active {@link #run()}. That thread is an
 * engine thread, with these exceptions: {@link #start} queues the first slices of step 0 on the caller's thread;
 * where the engine allows transport threads ({@code completeOnFence}), the fence callback of a successful non-AVG
 * operation completes it on the thread that ran the fence, and, for 4- and 8-byte types, the event loop that placed
 * a payload runs the next step itself ({@link #afterPlacedFrame}: the fold and the sends it unblocks); after
 * {@code close()} stopped the engine threads, whichever thread signals runs the failure. {@link #placement} and the
 * placement cursor run under the router's lock, on the receiving connection's event loop.
 */
public final class RingOpRunner implements RingOperation, Runnable, FrameSink, RingLink.Listener,
        RingLink.FenceListener {
    /** Notified once when an operation has completed (successfully or not). */
    public interface Owner {
        /**
         * @param op the finished operation
         */
        void onFinished(RingOpRunner op);
    }

    private static final int RUNNING = 0;
    private static final int FENCING = 1;
    private static final int FAILING = 2;
    private static final int DONE = 3;

    private final RingOpContext ctx;
    private final RingSchedule schedule;
    private final DataType type;
    private final ReduceOp accumulateOp;
    private final boolean average;
    private final int elementBytes;
    private final int sliceBytes;
    private final long progressTimeoutNs;
    private final long seq;
    private final long tag;
    private final ByteBuffer recv;
    private final ByteBuffer copyTarget;
    /**
     * Out-of-place: a little-endian view of {@code send}, read by the folds and copied from (the copies move
     * bytes, so its order does not matter to them).
     */
    private final ByteBuffer sendView;
    /** Whether payloads may be read straight into {@code recv} (direct memory). */
    private final boolean placeable;
    private final int sendBase;
    private final int base;
    private final int sizeBytes;
    private final boolean inPlace;
    private final RingLink link;
    private final InboundRouter router;
    private final Executor executor;
    private final BufferCache backups;
    private final Owner owner;
    private final boolean completeOnFence;
    /**
     * Whether a placed frame is handled on the event loop that read it ({@link #afterPlacedFrame}) rather than on
     * an engine thread: only where completing on a transport thread is allowed anyway ({@link #completeOnFence}),
     * and only for 4- and 8-byte element types, whose kernels fold several GB/s per core; the 1- and 2-byte kernels
     * (half types at ~1 GB/s) stay on engine threads so a fold never holds up a fast link's reads.
     */
    private final boolean foldOnReader;
    /** The wire form of a quantized operation, or null: values travel as they are. */
    private final QuantizedSlices quantized;
    private final CompletableFuture<ReduceInfo> future = new CompletableFuture<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    private final Object lock = new Object();
    // @GuardedBy("lock")
    private final ArrayDeque<ByteBuf> inbox = new ArrayDeque<>();
    // @GuardedBy("lock") the credit of each inbox frame, in the same order.
    private final ArrayDeque<FrameCredit> inboxCredits = new ArrayDeque<>();
    // @GuardedBy("lock")
    private boolean dirty;
    // @GuardedBy("lock")
    private boolean closed;
    // @GuardedBy("lock")
    private PcclException failureSignal;
    // @GuardedBy("lock")
    private int fenceSignal;
    // @GuardedBy("lock") a cancelled placement was acknowledged by its connection.
    private boolean placementSignal;

    // @GuardedBy("router") where the next frame routed to this operation must land: the receive position as the
    // transport sees it, ahead of (recvStep, recvOffset) by the frames queued in the inbox.
    private int placeStep;
    private int placeOffset;
    private boolean placeOff;
    // Written under the router's lock before the frame enters the inbox (under lock), so the run that takes that
    // frame from the inbox sees it; written at most once (placeOff is set with it).
    private ByteBuf offCursorFrame;
    private PcclException offCursorViolation;

    private volatile long lastProgressNs;
    private volatile long txBytes;
    private volatile long rxBytes;

    // Confined to the active run().
    private ByteBuf wrapper;
    /** Out-of-place: wraps the operand in {@code send}; step 0 sends from it. In place: same as wrapper. */
    private ByteBuf sendWrapper;
    /** An element split across two buffers of a composite frame is gathered here (little-endian). */
    private final ByteBuffer straddle = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    private ByteBuffer backup;
    private int state = RUNNING;
    private PcclException failure;
    private long failingSinceNs;
    private int sendStep;
    private int sendOffset;
    private int recvStep;
    private int recvOffset;
    /** Failing: a placement was cancelled and its connection has not acknowledged yet. */
    private boolean awaitingPlacement;

    /**
     * Creates the runner; call {@link #start} next.
     *
     * @param ctx operation inputs
     * @param sliceBytes largest payload per frame
     * @param progressTimeoutNs longest time without progress
     * @param executor the engine executor
     * @param backups where in-place backups come from
     * @param owner told when the operation is done
     * @param completeOnFence whether a successful non-AVG operation may complete on the thread of its fence
     */
    public RingOpRunner(final RingOpContext ctx, final int sliceBytes, final long progressTimeoutNs,
                        final Executor executor, final BufferCache backups, final Owner owner,
                        final boolean completeOnFence) {
        this.ctx = ctx;
        this.type = ctx.descriptor().dataType();
        this.quantized = quantizedSlices(ctx);
        this.elementBytes = type.sizeBytes();
        this.schedule = new RingSchedule(ctx.descriptor().count(), elementBytes, ctx.worldSize(), ctx.rank());
        this.average = ctx.descriptor().op() == ReduceOp.AVG;
        this.accumulateOp = average ? ReduceOp.SUM : ctx.descriptor().op();
        this.sliceBytes = Math.max(elementBytes, sliceBytes - sliceBytes % elementBytes);
        this.progressTimeoutNs = progressTimeoutNs;
        this.seq = ctx.seq();
        this.tag = ctx.tag();
        this.recv = ctx.recv().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.copyTarget = ctx.recv().duplicate();
        this.sendView = ctx.send().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.sendBase = ctx.send().position();
        this.base = ctx.recv().position();
        this.sizeBytes = (int) ctx.descriptor().sizeBytes();
        this.recv.clear();
        this.inPlace = RingOpContext.sameMemory(ctx.send(), ctx.recv());
        // A quantized payload is not the operand's bytes: it is decoded, never placed.
        this.placeable = ctx.recv().isDirect() && quantized == null;
        this.placeOff = quantized != null;
        this.link = ctx.transport().successor(seq);
        this.router = ctx.transport().inbound();
        this.executor = executor;
        this.backups = backups;
        this.owner = owner;
        this.completeOnFence = completeOnFence && !average;
        this.foldOnReader = this.completeOnFence && elementBytes >= 4 && quantized == null;
        // The engine's periodic progress check may see this operation before start().
        this.lastProgressNs = System.nanoTime();
    }

    /**
     * Prepares the operand on the calling thread (an in-place backup copies it), registers with the transport and
     * queues the first slices of step 0; an engine thread takes over from there.
     */
    public void start() {
        // Callbacks that fire while we register (a failed link or router) must not run the op before we are done.
        scheduled.set(true);
        if (schedule.worldSize() == 1 || sizeBytes == 0) {
            if (!inPlace) {
                region(copyTarget, base, sizeBytes).put(region(sendView, sendBase, sizeBytes));
            }
            state = DONE;
            owner.onFinished(this);
            future.complete(new ReduceInfo(schedule.worldSize(), 0, 0));
            return;
        }
        if (inPlace) {
            final ByteBuffer src = ctx.send().duplicate();
            backup = backups.acquire(sizeBytes);
            backup.put(region(src, src.position(), sizeBytes)).clear();
        }
        final ByteBuffer wrapped = ctx.recv().duplicate();
        wrapped.limit(base + sizeBytes).position(base);
        wrapper = Unpooled.wrappedBuffer(wrapped);
        if (inPlace) {
            sendWrapper = wrapper.retain();
        } else {
            final ByteBuffer sendWrapped = ctx.send().duplicate();
            sendWrapped.limit(sendBase + sizeBytes).position(sendBase);
            sendWrapper = Unpooled.wrappedBuffer(sendWrapped);
        }
        skipEmptyReceiveSteps();
        placeStep = recvStep;
        lastProgressNs = System.nanoTime();
        link.addListener(this);
        try {
            router.register(seq, tag, this);
        } catch (final RuntimeException e) {
            link.removeListener(this);
            state = DONE;
            releaseBuffers();
            owner.onFinished(this);
            throw e;
        }
        // Step 0 has no data dependency: queue its first slices from here (enqueueing only, no copy), which saves
        // the hand-off to an engine thread before the first byte leaves. Frames that were parked for us, and
        // everything later, are handled by the engine threads.
        try {
            pumpSends();
        } catch (final PcclException e) {
            post(e);
        }
        scheduled.set(false);
        final boolean pending;
        synchronized (lock) {
            pending = dirty;
        }
        if (pending) {
            schedule();
        }
    }

    @Override
    public long seq() {
        return seq;
    }

    @Override
    public long tag() {
        return tag;
    }

    @Override
    public CompletableFuture<ReduceInfo> future() {
        return future;
    }

    @Override
    public long txBytes() {
        return txBytes;
    }

    @Override
    public long rxBytes() {
        return rxBytes;
    }

    @Override
    public void abort(final PcclException cause) {
        post(cause);
    }

    @Override
    public ByteBuf placement(final ByteBuf header) {
        final int stage = DataFrameFlyweight.stage(header);
        if (!placeable || placeOff || stage == DataFrameFlyweight.STAGE_REDUCE_SCATTER && inPlace
                || !atPlaceCursor(header)) {
            return null;
        }
        final int chunk = DataFrameFlyweight.chunkIndex(header);
        final int len = DataFrameFlyweight.payloadLength(header);
        final ByteBuf target = wrapper.retainedSlice(schedule.chunkStartBytes(chunk) + placeOffset, len).clear();
        advancePlaceCursor(len);
        return target;
    }

    @Override
    public void onPlacementReleased() {
        synchronized (lock) {
            placementSignal = true;
            dirty = true;
        }
        schedule();
    }

    /** Whether the header is the next frame of the schedule, with a payload that fits. Holds the router's lock. */
    private boolean atPlaceCursor(final ByteBuf header) {
        return isNextFrame(placeStep, placeOffset, DataFrameFlyweight.step(header),
                DataFrameFlyweight.chunkIndex(header), DataFrameFlyweight.stage(header),
                DataFrameFlyweight.chunkOffset(header), DataFrameFlyweight.payloadLength(header));
    }

    /** Holds the router's lock. */
    private void advancePlaceCursor(final int len) {
        placeOffset += len;
        if (placeOffset == schedule.chunkBytes(schedule.recvChunk(placeStep))) {
            placeOffset = 0;
            placeStep = firstNonEmptyReceiveStep(placeStep + 1);
        }
    }

    /**
     * Whether a frame (step, chunk, stage, offset, len) is the one expected at receive position
     * (atStep, atOffset): the right step, chunk and stage, at the offset, with a nonempty element-aligned payload
     * that fits the chunk. The engine and the placement cursor both check frames with it.
     */
    private boolean isNextFrame(final int atStep, final int atOffset, final int step, final int chunk,
                                final int stage, final long offset, final int len) {
        return atStep < schedule.totalSteps() && step == atStep && chunk == schedule.recvChunk(atStep)
                && stage == schedule.stage(atStep) && offset == atOffset && len > 0
                && len <= schedule.chunkBytes(chunk) - atOffset && len % elementBytes == 0;
    }

    /** The first receive step at or after {@code step} whose chunk is not empty (or the step count). */
    private int firstNonEmptyReceiveStep(final int step) {
        final int total = schedule.totalSteps();
        int s = step;
        while (s < total && schedule.chunkBytes(schedule.recvChunk(s)) == 0) {
            s++;
        }
        return s;
    }

    @Override
    public void onFrame(final ByteBuf frame, final FrameCredit credit) {
        // Called under the router's lock: keep the placement cursor in step with every frame routed here.
        final boolean placed = (DataFrameFlyweight.flags(frame) & DataFrameFlyweight.FLAG_PLACED) != 0;
        if (!placed && !placeOff) {
            if (DataFrameFlyweight.stage(frame) == DataFrameFlyweight.STAGE_ABORT) {
                placeOff = true; // the operation fails on this frame; place nothing after it
            } else if (atPlaceCursor(frame)) {
                advancePlaceCursor(DataFrameFlyweight.payloadLength(frame));
            } else {
                // Off the schedule of the frames routed so far: the operation must fail on this frame. Over one
                // connection it also misses the receive position; but while another connection holds a placement
                // (a second connection claiming the predecessor), it can match the receive position and would be
                // folded into memory that connection is still writing.
                placeOff = true;
                offCursorFrame = frame;
                offCursorViolation = new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "ring all-reduce seq "
                        + seq + " tag " + tag + ": predecessor sent step " + DataFrameFlyweight.step(frame)
                        + " chunk " + DataFrameFlyweight.chunkIndex(frame) + " offset "
                        + DataFrameFlyweight.chunkOffset(frame) + " length " + DataFrameFlyweight.payloadLength(frame)
                        + " while the frames already routed to this operation end at step " + placeStep + " offset "
                        + placeOffset + " (frames of one operation over more than one connection?)");
            }
        }
        final boolean accepted;
        synchronized (lock) {
            accepted = !closed;
            if (accepted) {
                inbox.addLast(frame);
                inboxCredits.addLast(credit);
                dirty = true;
            }
        }
        if (!accepted) {
            final int bytes = frame.readableBytes();
            frame.release();
            credit.release(bytes);
            return;
        }
        // The frame belongs to the mailbox now (an engine thread may already have released it): read nothing of it.
        lastProgressNs = System.nanoTime();
        if (foldOnReader && placed) {
            return; // the router calls afterPlacedFrame() on this thread once its lock is released
        }
        schedule();
    }

    /**
     * Runs the operation on the event loop that just placed a payload: the fold reads bytes still in this core's
     * cache and no engine thread is woken. If an engine thread is running the operation, it sees the frame (the
     * mailbox is dirty) before it lets go.
     */
    @Override
    public void afterPlacedFrame() {
        if (!foldOnReader) {
            return;
        }
        if (scheduled.compareAndSet(false, true)) {
            run();
        }
    }

    @Override
    public void onInboundFailed(final PcclException cause) {
        post(cause);
    }

    @Override
    public void onLinkWritable() {
        signal();
    }

    @Override
    public void onLinkFailed(final PcclException cause) {
        post(cause);
    }

    @Override
    public void onFenced(final boolean written) {
        synchronized (lock) {
            fenceSignal = written ? 1 : -1;
            dirty = true;
        }
        // The usual last event of a successful operation: completing it is bookkeeping (no AVG division, no
        // restore), so, where allowed, do it here instead of waking an engine thread for it.
        if (completeOnFence && scheduled.compareAndSet(false, true)) {
            if (state == FENCING && written) {
                run();
                return;
            }
            scheduled.set(false);
        }
        schedule();
    }

    /**
     * Fails the operation when nothing moved for longer than the progress timeout. Called periodically by the
     * engine (any thread); only posts to the mailbox.
     */
    public void checkProgress() {
        final long idleNs = System.nanoTime() - lastProgressNs;
        if (idleNs > progressTimeoutNs && !future.isDone()) {
            // Step counters are read racily here, for the message only. While failing, this just wakes the runner.
            post(new PeerLostException("ring all-reduce seq " + seq + " tag " + tag + " made no progress for "
                    + TimeUnit.NANOSECONDS.toMillis(idleNs) + " ms (limit "
                    + TimeUnit.NANOSECONDS.toMillis(progressTimeoutNs) + " ms) at send step " + sendStep
                    + ", receive step " + recvStep + " of " + schedule.totalSteps() + "; predecessor "
                    + ctx.ring()[Math.floorMod(ctx.rank() - 1, ctx.worldSize())] + ", successor "
                    + ctx.ring()[(ctx.rank() + 1) % ctx.worldSize()]));
        }
    }

    private void post(final PcclException cause) {
        synchronized (lock) {
            if (failureSignal == null) {
                failureSignal = cause;
            }
            dirty = true;
        }
        schedule();
    }

    private void signal() {
        synchronized (lock) {
            dirty = true;
        }
        schedule();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this);
            } catch (final RejectedExecutionException e) {
                // The engine's threads are gone (close() waited its bounded time and stopped them): make sure the
                // operation is failing, then run it here. Holding the scheduled flag keeps this the only runner, and
                // the failure path still detaches, waits for its fence and restores an in-place input before the
                // future completes; completing the future directly would skip all of that.
                synchronized (lock) {
                    if (failureSignal == null) {
                        failureSignal = new PcclException(PcclException.Code.CLOSED, "ring engine closed while"
                                + " operation seq " + seq + " tag " + tag + " was running", e);
                    }
                    dirty = true;
                }
                run();
            }
        }
    }

    @Override
    public void run() {
        for (;;) {
            try {
                step();
            } catch (final PcclException e) {
                fail(e);
            } catch (final Throwable t) {
                fail(new PcclException(PcclException.Code.INTERNAL, "ring all-reduce seq " + seq + " tag " + tag
                        + " failed: " + t, t));
            }
            scheduled.set(false);
            synchronized (lock) {
                if (!dirty) {
                    return;
                }
            }
            if (!scheduled.compareAndSet(false, true)) {
                return;
            }
        }
    }

    private void step() {
        if (state == DONE) {
            // A signal after completion (e.g. a late abort) must not keep run() looping.
            synchronized (lock) {
                dirty = false;
            }
            releaseInbox();
            return;
        }
        if (state == FAILING) {
            final int fence;
            synchronized (lock) {
                dirty = false;
                fence = fenceSignal;
                if (placementSignal) {
                    awaitingPlacement = false;
                }
            }
            // A cancelled placement is always acknowledged in bounded time (its event loop runs the
            // acknowledgement, or the channel is gone); until then the transport may still write into recv.
            if (!awaitingPlacement && (fence != 0 || System.nanoTime() - failingSinceNs > progressTimeoutNs)) {
                completeFailure();
            }
            return;
        }
        for (;;) {
            final ByteBuf frame;
            final FrameCredit credit;
            final PcclException posted;
            final int fence;
            synchronized (lock) {
                dirty = false;
                posted = failureSignal;
                fence = fenceSignal;
                frame = posted == null ? inbox.pollFirst() : null;
                credit = frame == null ? null : inboxCredits.pollFirst();
            }
            if (posted != null) {
                fail(posted);
                return;
            }
            if (frame != null) {
                final int frameBytes = frame.readableBytes();
                try {
                    receive(frame);
                } finally {
                    frame.release();
                    credit.release(frameBytes);
                }
                pumpSends();
                continue;
            }
            pumpSends();
            if (state == RUNNING && sendStep == schedule.totalSteps() && recvStep == schedule.totalSteps()) {
                state = FENCING;
                link.fence(this);
                continue;
            }
            if (state == FENCING && fence != 0) {
                if (fence < 0) {
                    fail(new PeerLostException("successor link of ring all-reduce seq " + seq + " tag " + tag
                            + " failed before the last slices were written"));
                } else {
                    succeed();
                }
            }
            return;
        }
    }

    private void receive(final ByteBuf frame) {
        if (DataFrameFlyweight.stage(frame) == DataFrameFlyweight.STAGE_ABORT) {
            throw new PeerLostException("ring all-reduce seq " + seq + " tag " + tag
                    + " was aborted by a failure upstream (predecessor "
                    + ctx.ring()[Math.floorMod(ctx.rank() - 1, ctx.worldSize())] + ")");
        }
        final int step = DataFrameFlyweight.step(frame);
        final int chunk = DataFrameFlyweight.chunkIndex(frame);
        final long offset = DataFrameFlyweight.chunkOffset(frame);
        final int len = DataFrameFlyweight.payloadLength(frame);
        final int stage = DataFrameFlyweight.stage(frame);
        final boolean placed = (DataFrameFlyweight.flags(frame) & DataFrameFlyweight.FLAG_PLACED) != 0;
        if (quantized != null) {
            receiveQuantized(frame, step, chunk, stage, offset, len);
            return;
        }
        if (!isNextFrame(recvStep, recvOffset, step, chunk, stage, offset, len)
                || frame.readableBytes() != DataFrameFlyweight.HEADER_LENGTH + (placed ? 0 : len)) {
            throw violation(step, chunk, stage, offset, len);
        }
        if (frame == offCursorFrame) {
            offCursorFrame = null; // the frame is released after this: never compare a recycled buffer with it
            throw offCursorViolation;
        }
        final int payload = DataFrameFlyweight.payloadIndex(frame);
        final int dst = base + schedule.chunkStartBytes(chunk) + recvOffset;
        if (placed) {
            // The transport already wrote the payload into recv; out of place, fold our own input into it.
            if (stage == DataFrameFlyweight.STAGE_REDUCE_SCATTER) {
                ReduceKernels.accumulate(type, accumulateOp, recv, dst, sendView,
                        sendBase + schedule.chunkStartBytes(chunk) + recvOffset, len / elementBytes);
            }
        } else if (stage == DataFrameFlyweight.STAGE_REDUCE_SCATTER) {
            final int own = sendBase + schedule.chunkStartBytes(chunk) + recvOffset;
            if (frame.nioBufferCount() == 1) {
                // A view of the received bytes, no copy: the one small allocation per slice on the receive path.
                final ByteBuffer in = frame.nioBuffer(payload, len).order(ByteOrder.LITTLE_ENDIAN);
                if (inPlace) {
                    ReduceKernels.accumulate(type, accumulateOp, recv, dst, in, in.position(), len / elementBytes);
                } else {
                    // First touch of these bytes of recv: recv = send op in, in one pass.
                    ReduceKernels.combine(type, accumulateOp, recv, dst, sendView, own, in, in.position(),
                            len / elementBytes);
                }
            } else {
                if (!inPlace) {
                    // First touch of these bytes of recv: bring in our own input (cache-hot for the fold below).
                    copyTarget.clear().position(dst).limit(dst + len);
                    copyTarget.put(region(sendView, own, len));
                }
                PartsFold.accumulate(type, accumulateOp, recv, dst, frame.nioBuffers(payload, len), straddle);
            }
        } else {
            copyTarget.clear().position(dst).limit(dst + len);
            frame.getBytes(payload, copyTarget);
        }
        advanceReceive(chunk, len, len);
    }

    /**
     * A quantized frame: its payload is the slice's metadata and quantized values ({@link QuantizedSlices}), standing
     * for {@code elements x elementBytes} bytes of the chunk at {@code offset}. Reduce-scatter folds the decoded
     * values into {@code recv}; all-gather overwrites {@code recv} with them and keeps the payload to forward it
     * verbatim at the next step, so every peer decodes the same bytes.
     */
    private void receiveQuantized(final ByteBuf frame, final int step, final int chunk, final int stage,
                                  final long offset, final int len) {
        final int elements = quantized.elementsOf(len);
        final long sourceLen = (long) elements * elementBytes;
        if (elements < 0 || sourceLen > Integer.MAX_VALUE
                || !isNextFrame(recvStep, recvOffset, step, chunk, stage, offset, (int) sourceLen)
                || frame.readableBytes() != DataFrameFlyweight.HEADER_LENGTH + len) {
            throw new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "ring all-reduce seq " + seq + " tag "
                    + tag + ": predecessor sent a quantized payload of " + len + " bytes (" + Math.max(elements, 0)
                    + " values) for step " + step + " chunk " + chunk + " stage " + stage + " offset " + offset
                    + ", expected step " + recvStep + (recvStep >= schedule.totalSteps() ? " (all steps done)"
                    : " chunk " + schedule.recvChunk(recvStep) + " stage " + schedule.stage(recvStep) + " offset "
                    + recvOffset + " with at most " + (schedule.chunkBytes(schedule.recvChunk(recvStep)) - recvOffset)
                    / elementBytes + " values (a payload is " + quantized.encodedBytes(0) + " bytes of metadata, then "
                    + (quantized.encodedBytes(1) - quantized.encodedBytes(0)) + " bytes per value)"));
        }
        final int dst = base + schedule.chunkStartBytes(chunk) + recvOffset;
        final ByteBuf encoded = quantized.copyOf(frame, DataFrameFlyweight.payloadIndex(frame), len);
        boolean kept = false;
        try {
            if (stage == DataFrameFlyweight.STAGE_REDUCE_SCATTER) {
                if (!inPlace) {
                    // First touch of these bytes of recv: bring in our own input, then fold into it.
                    copyTarget.clear().position(dst).limit(dst + (int) sourceLen);
                    copyTarget.put(region(sendView, sendBase + schedule.chunkStartBytes(chunk) + recvOffset,
                            (int) sourceLen));
                }
                quantized.accumulate(accumulateOp, recv, dst, encoded);
            } else {
                quantized.decodeInto(encoded, recv, dst);
                if (step + 1 < schedule.totalSteps()) {
                    quantized.addForward(encoded);
                    kept = true;
                }
            }
        } catch (final PcclException e) {
            throw new PcclException(e.code(), "ring all-reduce seq " + seq + " tag " + tag + ", step " + step
                    + " chunk " + chunk + " offset " + offset + ": " + e.getMessage(), e);
        } finally {
            if (!kept) {
                encoded.release();
            }
        }
        advanceReceive(chunk, (int) sourceLen, len);
    }

    /** Moves the receive position past {@code sourceLen} bytes of {@code chunk} that arrived in {@code wireLen}. */
    private void advanceReceive(final int chunk, final int sourceLen, final int wireLen) {
        recvOffset += sourceLen;
        rxBytes += wireLen;
        if (recvOffset == schedule.chunkBytes(chunk)) {
            recvStep++;
            recvOffset = 0;
            skipEmptyReceiveSteps();
        }
    }

    private void skipEmptyReceiveSteps() {
        recvStep = firstNonEmptyReceiveStep(recvStep);
    }

    private void pumpSends() {
        final int total = schedule.totalSteps();
        final RingLink l = link;
        while (state == RUNNING && sendStep < total) {
            final int chunk = schedule.sendChunk(sendStep);
            final int chunkBytes = schedule.chunkBytes(chunk);
            if (sendOffset >= chunkBytes) {
                sendStep++;
                sendOffset = 0;
                continue;
            }
            // A quantized all-gather step after the first forwards the payloads received at the step before.
            final boolean forward = quantized != null && sendStep >= schedule.worldSize();
            final ByteBuf waiting = forward ? quantized.peekForward() : null;
            if (forward && waiting == null) {
                return;
            }
            final int len = forward ? quantized.sourceBytesOf(waiting) : Math.min(sliceBytes, chunkBytes - sendOffset);
            // Step t > 0 forwards what step t - 1 received: wait until that byte range is final.
            if (sendStep > 0 && recvStep <= sendStep - 1
                    && !(recvStep == sendStep - 1 && recvOffset >= sendOffset + len)) {
                return;
            }
            if (!l.isWritable()) {
                return;
            }
            final ByteBuf payload;
            if (quantized == null) {
                // Step 0 sends our own input; later steps forward what was received into recv.
                payload = (sendStep == 0 ? sendWrapper : wrapper)
                        .retainedSlice(schedule.chunkStartBytes(chunk) + sendOffset, len);
            } else if (forward) {
                payload = quantized.pollForward();
            } else {
                payload = encodeSlice(chunk, len);
            }
            final int wireLen = payload.readableBytes();
            if (l.trySend(seq, tag, schedule.stage(sendStep), sendStep, chunk, sendOffset, payload)
                    != RingLink.SEND_OK) {
                throw new PeerLostException("successor link of ring all-reduce seq " + seq + " tag " + tag
                        + " is closed (successor " + ctx.ring()[(ctx.rank() + 1) % ctx.worldSize()] + ")");
            }
            sendOffset += len;
            txBytes += wireLen;
            lastProgressNs = System.nanoTime();
        }
    }

    /**
     * Quantizes the slice this peer sends at {@code sendStep}: its own input at step 0, later a partial sum, or, at
     * the first all-gather step, its final chunk, whose copy in {@code recv} it overwrites with the decoded values
     * in the same pass, so that it holds exactly what every other peer will decode.
     */
    private ByteBuf encodeSlice(final int chunk, final int len) {
        final int at = schedule.chunkStartBytes(chunk) + sendOffset;
        // The copies narrow sendView with region(); the quantizer checks absolute indexes against the limit.
        return sendStep == 0 ? quantized.encode(sendView.clear(), sendBase + at, len / elementBytes, false)
                : quantized.encode(recv, base + at, len / elementBytes, sendStep == schedule.worldSize() - 1);
    }

    private static QuantizedSlices quantizedSlices(final RingOpContext ctx) {
        final SliceCodec codec = SliceCodec.of(ctx.descriptor());
        return codec == null ? null : new QuantizedSlices(codec, ctx.descriptor().dataType().sizeBytes());
    }

    private void succeed() {
        if (average) {
            ReduceKernels.finishAverage(type, recv, base, (int) ctx.descriptor().count(), schedule.worldSize());
        }
        finish();
        future.complete(new ReduceInfo(schedule.worldSize(), txBytes, rxBytes));
    }

    /**
     * Starts failing: detaches from the transport, tells the successor, and waits (bounded by the progress
     * timeout) until every payload already queued has left {@code recv} before restoring an in-place input, so
     * the restore never races with a write still reading that memory.
     */
    private void fail(final PcclException cause) {
        if (state == DONE || state == FAILING) {
            return;
        }
        state = FAILING;
        failure = cause;
        failingSinceNs = System.nanoTime();
        lastProgressNs = failingSinceNs;
        synchronized (lock) {
            fenceSignal = 0;
        }
        detach();
        // Tell the successor at once instead of letting it time out; it forwards the abort the same way.
        link.trySend(seq, tag, DataFrameFlyweight.STAGE_ABORT, 0, 0, 0, Unpooled.EMPTY_BUFFER);
        link.fence(this);
    }

    /** Second half of {@link #fail}: runs once the fence completed or the progress timeout passed. */
    private void completeFailure() {
        if (inPlace && backup != null) {
            region(copyTarget, base, sizeBytes).put(backup.clear().limit(sizeBytes));
        }
        finish();
        future.completeExceptionally(failure);
    }

    private void detach() {
        if (router.unregister(seq, tag)) {
            awaitingPlacement = true;
        }
        link.removeListener(this);
        releaseInbox();
    }

    private void finish() {
        if (state != FAILING) {
            detach();
        }
        state = DONE;
        releaseBuffers();
        owner.onFinished(this);
    }

    private void releaseInbox() {
        synchronized (lock) {
            closed = true;
            for (ByteBuf b = inbox.pollFirst(); b != null; b = inbox.pollFirst()) {
                final int bytes = b.readableBytes();
                b.release();
                inboxCredits.pollFirst().release(bytes);
            }
        }
    }

    private void releaseBuffers() {
        if (wrapper != null) {
            wrapper.release();
            wrapper = null;
            sendWrapper.release();
            sendWrapper = null;
        }
        if (backup != null) {
            backups.release(backup);
            backup = null;
        }
        if (quantized != null) {
            quantized.releaseForwards();
        }
    }

    private PcclException violation(final int step, final int chunk, final int stage, final long offset,
                                    final int len) {
        final boolean over = recvStep >= schedule.totalSteps();
        return new PcclException(PcclException.Code.PROTOCOL_VIOLATION, "ring all-reduce seq " + seq + " tag " + tag
                + ": predecessor sent step " + step + " chunk " + chunk + " stage " + stage + " offset " + offset
                + " length " + len + ", expected step " + recvStep
                + (over ? " (all steps done)" : " chunk " + schedule.recvChunk(recvStep) + " stage "
                + schedule.stage(recvStep) + " offset " + recvOffset + " length <= "
                + (schedule.chunkBytes(schedule.recvChunk(recvStep)) - recvOffset) + " (multiple of "
                + elementBytes + ")"));
    }

    private static ByteBuffer region(final ByteBuffer b, final int from, final int len) {
        b.clear();
        b.position(from).limit(from + len);
        return b;
    }

}
