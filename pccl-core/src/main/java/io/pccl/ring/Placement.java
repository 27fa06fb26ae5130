package io.pccl.ring;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.Executor;

/**
 * A grant, made by the {@link InboundRouter} to one receiving connection, to read the payload of one frame straight
 * into an operation's memory instead of into a socket buffer that the engine would copy from afterwards.
 *
 * <p>Lifecycle: {@link InboundRouter#place} creates it (the operation's {@link FrameSink#placement} supplied the
 * {@link #target()}); the connection writes the payload into the target, checking {@link #isCancelled()} before
 * every write; then it routes the bare header, flagged
 * {@link io.pccl.transport.data.DataFrameFlyweight#FLAG_PLACED}, through {@link InboundRouter#onFrame}, or gives the
 * grant up with {@link InboundRouter#release}. An operation that stops (failure, abort) cancels the grant when it
 * unregisters; the connection's event loop then acknowledges that it will not write again, and only after that is
 * the operation told ({@link FrameSink#onPlacementReleased}), so its memory is never written after it completed.
 *
 * <p>Thread-safe: {@link #isCancelled()} is read on the connection's event loop while the router sets it from any
 * thread; the other state is guarded by the router.
 */
public final class Placement {
    final FrameSink sink;
    final long seq;
    final long tag;
    final Executor writer;
    private final ByteBuf target;
    private volatile boolean cancelled;
    /** Guarded by the router: no write can happen any more, and the router forgot the grant. */
    boolean released;

    Placement(final FrameSink sink, final long seq, final long tag, final ByteBuf target, final Executor writer) {
        this.sink = sink;
        this.seq = seq;
        this.tag = tag;
        this.target = target;
        this.writer = writer;
    }

    /**
     * @return where the payload goes: exactly the payload length writable from index 0; the connection owns this
     *         reference and releases it when done
     */
    public ByteBuf target() {
        return target;
    }

    /**
     * @return whether the operation stopped; the connection must not write into {@link #target()} any more
     */
    public boolean isCancelled() {
        return cancelled;
    }

    void cancel() {
        cancelled = true;
    }
}
