package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.pccl.PcclException;
import io.pccl.transport.data.DataFrameFlyweight;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * Demultiplexes the data frames arriving from the ring predecessor by (operation sequence, tag).
 *
 * <ul>
 *   <li>A frame for a registered operation goes to its {@link FrameSink}.</li>
 *   <li>A frame for an operation that finished here (one of the last {@value #FINISHED_HISTORY}) is dropped and
 *       counted.</li>
 *   <li>Any other frame is parked: the predecessor may start an operation before this peer has registered it.
 *       Parked frames are handed over in arrival order on {@link #register}; they are dropped and counted when
 *       older than the park timeout or when they would exceed the {@link ParkingBudget}, which may be shared with
 *       the routers of other predecessors (the operation then fails on the frame-order check or its progress
 *       timeout, instead of this peer running out of memory).</li>
 * </ul>
 * Every frame routed with a {@link FrameCredit} gives its bytes back to it exactly once: when the sink consumed it,
 * or when the router drops it (receive-side flow control, see {@code DataFrameInboundHandler}).
 * After {@link #onPredecessorLost} the router is failed for good: registered and later sinks are told, frames are
 * dropped.
 *
 * <p>Thread-safe: frames arrive on transport threads, registrations come from engine threads. All state is guarded
 * by {@code this}; sinks are called while holding it, so they must only enqueue.
 */
public final class InboundRouter {
    /** How many finished (seq, tag) pairs are remembered for dropping late frames. */
    public static final int FINISHED_HISTORY = 256;

    private final ParkingBudget parking;
    private final long parkTimeoutNs;
    private final LongSupplier clock;

    // @GuardedBy("this") registered operations; linear scan (few concurrent ops), no per-frame allocation.
    private long[] seqs = new long[16];
    private long[] tags = new long[16];
    private FrameSink[] sinks = new FrameSink[16];
    private int registered;
    // @GuardedBy("this") ring of finished operations.
    private final long[] finishedSeqs = new long[FINISHED_HISTORY];
    private final long[] finishedTags = new long[FINISHED_HISTORY];
    private int finishedCount;
    private int finishedNext;
    // @GuardedBy("this") frames of operations not registered yet, oldest first.
    private final ArrayDeque<Parked> parked = new ArrayDeque<>();
    // @GuardedBy("this") placements granted and not yet routed or released (at most one per connection).
    private final ArrayList<Placement> active = new ArrayList<>(4);
    private PcclException failure;
    private long droppedFrames;
    private long droppedBytes;
    private final DropCounter drops;

    /**
     * Creates a router with a parking budget of its own.
     *
     * @param maxParkedBytes most bytes held for operations not registered yet
     * @param parkTimeoutNs how long a parked frame waits for its operation
     */
    public InboundRouter(final long maxParkedBytes, final long parkTimeoutNs) {
        this(new ParkingBudget(maxParkedBytes), new DropCounter(), parkTimeoutNs, System::nanoTime);
    }

    /**
     * Creates a router that parks frames within a budget shared with other routers and counts its drops into a
     * shared total as well.
     *
     * @param parking the shared budget for frames of operations not registered yet
     * @param drops the shared total of dropped frames
     * @param parkTimeoutNs how long a parked frame waits for its operation
     */
    public InboundRouter(final ParkingBudget parking, final DropCounter drops, final long parkTimeoutNs) {
        this(parking, drops, parkTimeoutNs, System::nanoTime);
    }

    /**
     * Creates a router that reads time from {@code clock} (tests).
     *
     * @param parking the budget for frames of operations not registered yet
     * @param drops the total of dropped frames this router adds to
     * @param parkTimeoutNs how long a parked frame waits for its operation
     * @param clock monotonic nanoseconds
     */
    InboundRouter(final ParkingBudget parking, final DropCounter drops, final long parkTimeoutNs,
                  final LongSupplier clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.parking = Objects.requireNonNull(parking, "parking");
        this.drops = Objects.requireNonNull(drops, "drops");
        if (parkTimeoutNs <= 0) {
            throw new IllegalArgumentException("parkTimeoutNs " + parkTimeoutNs + " must be > 0");
        }
        this.parkTimeoutNs = parkTimeoutNs;
    }

    /**
     * Routes one frame without flow control.
     *
     * @param frame a whole frame at its reader index; ownership passes to the router
     */
    public void onFrame(final ByteBuf frame) {
        onFrame(frame, FrameCredit.NONE);
    }

    /**
     * Routes one frame. Its bytes are returned to {@code credit} when the sink consumed it, or when the router
     * drops it.
     *
     * @param frame a whole frame at its reader index; ownership passes to the router
     * @param credit the reading connection's flow-control credit
     */
    public void onFrame(final ByteBuf frame, final FrameCredit credit) {
        if ((DataFrameFlyweight.flags(frame) & DataFrameFlyweight.FLAG_PLACED) != 0) {
            final FrameSink taker = onPlacedFrame(frame, credit);
            if (taker != null) {
                taker.afterPlacedFrame();
            }
            return;
        }
        route(frame, credit);
    }

    private synchronized void route(final ByteBuf frame, final FrameCredit credit) {
        final long seq = DataFrameFlyweight.seq(frame);
        final long tag = DataFrameFlyweight.tag(frame);
        final int i = indexOf(seq, tag);
        if (i >= 0) {
            sinks[i].onFrame(frame, credit);
            return;
        }
        onUnknownFrameSlowPath(frame, credit, seq, tag);
    }

    /** The slot of a registered (seq, tag), or -1. Holds this lock. */
    private int indexOf(final long seq, final long tag) {
        final int n = registered;
        final long[] s = seqs;
        final long[] t = tags;
        for (int i = 0; i < n; i++) {
            if (s[i] == seq && t[i] == tag) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The bare header of a frame whose payload was placed: hand it to the operation unless the grant was cancelled.
     *
     * @return the sink that took the frame (to be told {@link FrameSink#afterPlacedFrame} once this lock is
     *         released), or null
     */
    private synchronized FrameSink onPlacedFrame(final ByteBuf frame, final FrameCredit credit) {
        final Placement p = activePlacement(DataFrameFlyweight.seq(frame), DataFrameFlyweight.tag(frame));
        if (p == null) {
            drop(frame, credit);
            return null;
        }
        release(p);
        if (p.isCancelled()) {
            drop(frame, credit);
            return null;
        }
        p.sink.onFrame(frame, credit);
        return p.sink;
    }

    /**
     * Grants a connection the right to read the payload of the frame whose header is given straight into its
     * registered operation's memory (see {@link Placement}).
     *
     * @param header a complete, validated header at its reader index (not retained)
     * @param writer the connection's event loop; acknowledges a cancellation there
     * @return the grant, or null when the operation is not registered here, already has a grant open, or receives
     *         this frame normally
     */
    public synchronized Placement place(final ByteBuf header, final Executor writer) {
        if (failure != null) {
            return null;
        }
        final long seq = DataFrameFlyweight.seq(header);
        final long tag = DataFrameFlyweight.tag(header);
        final int i = indexOf(seq, tag);
        // One open grant per operation: a placed header names only (seq, tag), so a second grant would be
        // indistinguishable from the first when its header comes back. Legitimately an operation's frames use one
        // connection, which holds at most one grant; a second connection claiming the predecessor gets its frames
        // buffered, and the operation's schedule check rejects them.
        final ByteBuf target = i < 0 || activePlacement(seq, tag) != null ? null : sinks[i].placement(header);
        if (target == null) {
            return null;
        }
        final Placement p = new Placement(sinks[i], seq, tag, target, writer);
        active.add(p);
        return p;
    }

    /**
     * The connection gives a grant up without routing its frame (it closed, or it saw the cancellation); it will
     * not write into the target again. Idempotent.
     *
     * @param p the grant
     */
    public synchronized void release(final Placement p) {
        if (p.released) {
            return;
        }
        p.released = true;
        active.remove(p);
        if (p.isCancelled()) {
            p.sink.onPlacementReleased();
        }
    }

    private Placement activePlacement(final long seq, final long tag) {
        for (int i = 0; i < active.size(); i++) {
            final Placement p = active.get(i);
            if (p.seq == seq && p.tag == tag) {
                return p;
            }
        }
        return null;
    }

    private void onUnknownFrameSlowPath(final ByteBuf frame, final FrameCredit credit, final long seq,
                                        final long tag) {
        if (failure != null || isFinished(seq, tag)) {
            drop(frame, credit);
            return;
        }
        final long now = clock.getAsLong();
        expireParked(now);
        final int bytes = frame.readableBytes();
        if (!parking.tryReserve(bytes)) {
            drop(frame, credit);
            return;
        }
        parked.addLast(new Parked(frame, credit, now));
    }

    /**
     * Registers an operation. Frames parked for it are delivered first, in arrival order. If the router has failed,
     * the sink is told at once.
     *
     * @param seq operation sequence
     * @param tag operation tag
     * @param sink receiver of the operation's frames
     * @throws PcclException {@code FAILED_PRECONDITION} if (seq, tag) is already registered
     */
    public synchronized void register(final long seq, final long tag, final FrameSink sink) {
        Objects.requireNonNull(sink, "sink");
        if (indexOf(seq, tag) >= 0) {
            throw new PcclException(PcclException.Code.FAILED_PRECONDITION,
                    "operation seq " + seq + " tag " + tag + " is already running on this ring");
        }
        if (failure != null) {
            sink.onInboundFailed(failure);
            return;
        }
        if (registered == seqs.length) {
            seqs = Arrays.copyOf(seqs, registered * 2);
            tags = Arrays.copyOf(tags, registered * 2);
            sinks = Arrays.copyOf(sinks, registered * 2);
        }
        seqs[registered] = seq;
        tags[registered] = tag;
        sinks[registered] = sink;
        registered++;
        expireParked(clock.getAsLong());
        final Iterator<Parked> it = parked.iterator();
        while (it.hasNext()) {
            final Parked p = it.next();
            if (DataFrameFlyweight.seq(p.frame) == seq && DataFrameFlyweight.tag(p.frame) == tag) {
                it.remove();
                unpark(p.frame.readableBytes());
                sink.onFrame(p.frame, p.credit);
            }
        }
    }

    /**
     * Removes an operation; its later frames are dropped and counted. A placement still granted for it is
     * cancelled: its connection may be writing into the operation's memory right now, so the sink is told through
     * {@link FrameSink#onPlacementReleased} once that connection acknowledged (on its event loop, between reads).
     *
     * @param seq operation sequence
     * @param tag operation tag
     * @return whether the caller must wait for {@link FrameSink#onPlacementReleased} before it lets go of its memory
     */
    public synchronized boolean unregister(final long seq, final long tag) {
        final Placement pending = activePlacement(seq, tag);
        if (pending != null) {
            pending.cancel();
            try {
                pending.writer.execute(() -> release(pending));
            } catch (final RejectedExecutionException e) {
                // The event loop is gone with its channel: nothing reads into the target any more.
                release(pending);
            }
        }
        final int i = indexOf(seq, tag);
        if (i >= 0) {
            final int last = registered - 1;
            seqs[i] = seqs[last];
            tags[i] = tags[last];
            sinks[i] = sinks[last];
            sinks[last] = null;
            registered = last;
        }
        finishedSeqs[finishedNext] = seq;
        finishedTags[finishedNext] = tag;
        finishedNext = (finishedNext + 1) % FINISHED_HISTORY;
        finishedCount = Math.min(finishedCount + 1, FINISHED_HISTORY);
        final Iterator<Parked> it = parked.iterator();
        while (it.hasNext()) {
            final Parked p = it.next();
            if (DataFrameFlyweight.seq(p.frame) == seq && DataFrameFlyweight.tag(p.frame) == tag) {
                it.remove();
                unpark(p.frame.readableBytes());
                drop(p.frame, p.credit);
            }
        }
        return pending != null && !pending.released;
    }

    /**
     * The predecessor is gone: fails every registered operation and every later registration.
     *
     * @param cause why, usually a {@link io.pccl.PeerLostException}
     */
    public synchronized void onPredecessorLost(final PcclException cause) {
        if (failure != null) {
            return;
        }
        failure = Objects.requireNonNull(cause, "cause");
        for (int i = 0; i < registered; i++) {
            sinks[i].onInboundFailed(cause);
        }
        while (!parked.isEmpty()) {
            final Parked p = parked.pollFirst();
            unpark(p.frame.readableBytes());
            drop(p.frame, p.credit);
        }
    }

    /**
     * @return the failure passed to {@link #onPredecessorLost}, or null
     */
    public synchronized PcclException failure() {
        return failure;
    }

    /**
     * @return frames dropped because their operation was finished, unknown too long, over the park limit, or the
     *         router had failed
     */
    public synchronized long droppedFrames() {
        return droppedFrames;
    }

    /**
     * @return bytes of the frames counted by {@link #droppedFrames()}
     */
    public synchronized long droppedBytes() {
        return droppedBytes;
    }

    /**
     * @return frames currently parked for unregistered operations
     */
    public synchronized int parkedFrames() {
        return parked.size();
    }

    /**
     * Drops parked frames older than the park timeout now (frames are otherwise only expired when another frame
     * arrives or an operation registers, which a paused connection would never trigger).
     */
    public synchronized void expireParkedFrames() {
        expireParked(clock.getAsLong());
    }

    /**
     * @return how long a parked frame waits for its operation, in nanoseconds
     */
    public long parkTimeoutNs() {
        return parkTimeoutNs;
    }

    /**
     * @return operations currently registered
     */
    public synchronized int registeredOperations() {
        return registered;
    }

    private boolean isFinished(final long seq, final long tag) {
        for (int i = 0; i < finishedCount; i++) {
            if (finishedSeqs[i] == seq && finishedTags[i] == tag) {
                return true;
            }
        }
        return false;
    }

    private void expireParked(final long nowNs) {
        while (!parked.isEmpty() && nowNs - parked.peekFirst().arrivalNs > parkTimeoutNs) {
            final Parked p = parked.pollFirst();
            unpark(p.frame.readableBytes());
            drop(p.frame, p.credit);
        }
    }

    /** A parked frame of {@code bytes} left the queue: give its bytes back to the budget. */
    private void unpark(final int bytes) {
        parking.release(bytes);
    }

    private void drop(final ByteBuf frame, final FrameCredit credit) {
        final int bytes = frame.readableBytes();
        droppedFrames++;
        droppedBytes += bytes;
        drops.add(bytes);
        frame.release();
        credit.release(bytes);
    }

    /** A frame waiting for its operation. */
    private static final class Parked {
        final ByteBuf frame;
        final FrameCredit credit;
        final long arrivalNs;

        Parked(final ByteBuf frame, final FrameCredit credit, final long arrivalNs) {
            this.frame = frame;
            this.credit = credit;
            this.arrivalNs = arrivalNs;
        }
    }
}
