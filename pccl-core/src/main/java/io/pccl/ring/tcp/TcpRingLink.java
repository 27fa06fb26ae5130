package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.ring.RingLink;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.data.DataFrameFlyweight;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link RingLink} over one Netty channel to the ring successor. Engine threads queue frames (a header from
 * {@link PooledByteBufAllocator#DEFAULT}, which churns less than Netty 4.2's adaptive default, + the caller's payload
 * buffer) in a small queue; one preallocated task drains it on the channel's event
 * loop, writes everything with the void promise and flushes once (grpc {@code WriteQueue} style). The handler sits
 * first in the pipeline, so frames bypass any other outbound handler and go straight to the socket.
 *
 * <p>Thread-safe. Queue state is guarded by {@code lock}; Netty callbacks run on the event loop.
 */
final class TcpRingLink extends ChannelDuplexHandler implements RingLink {
    /** Pipeline name of the link handler (added first). */
    static final String LINK_HANDLER = "pcclRingLink";

    private static final Logger LOG = LoggerFactory.getLogger(TcpRingLink.class);

    private final Channel channel;
    private final String peer;
    private final long maxQueuedBytes;
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    private final Object lock = new Object();
    // @GuardedBy("lock") ByteBufs to write and FenceListeners to complete, in order.
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    // @GuardedBy("lock")
    private long queuedBytes;
    // @GuardedBy("lock")
    private PcclException failure;
    private volatile ChannelHandlerContext ctx;
    /** Shared by the links of one pool: the first connection to fail gets the WARN line, the others DEBUG. */
    private final AtomicBoolean poolFailureLogged;

    TcpRingLink(final Channel channel, final String peer, final long maxQueuedBytes,
                final AtomicBoolean poolFailureLogged) {
        this.channel = channel;
        this.peer = peer;
        this.maxQueuedBytes = maxQueuedBytes;
        this.poolFailureLogged = poolFailureLogged;
    }

    /** Installs the link handler first in the channel's pipeline (behind TLS, if any) and watches its close. */
    void install() {
        ConnectionSecurity.addFirstPlain(channel.pipeline(), LINK_HANDLER, this);
        channel.closeFuture().addListener((ChannelFutureListener) f -> fail(new PeerLostException(
                "data connection to successor " + peer + " (" + channel.remoteAddress() + ") closed")));
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public int trySend(final long seq, final long tag, final int stage, final int step, final int chunkIndex,
                       final long chunkOffsetBytes, final ByteBuf payload) {
        final int len = payload.readableBytes();
        final ByteBuf header;
        try {
            header = DataFrameFlyweight.newHeader(PooledByteBufAllocator.DEFAULT, seq, tag, stage, step, chunkIndex,
                    chunkOffsetBytes, len);
        } catch (final RuntimeException e) {
            payload.release();
            throw e;
        }
        synchronized (lock) {
            if (failure != null) {
                header.release();
                payload.release();
                return SEND_CLOSED;
            }
            queue.addLast(header);
            queue.addLast(payload);
            queuedBytes += DataFrameFlyweight.HEADER_LENGTH + len;
        }
        scheduleDrain();
        return SEND_OK;
    }

    @Override
    public boolean isWritable() {
        final long queued;
        synchronized (lock) {
            if (failure != null) {
                return true; // let the producer find out through trySend
            }
            queued = queuedBytes;
        }
        return queued < maxQueuedBytes && channel.isWritable();
    }

    @Override
    public void fence(final FenceListener listener) {
        synchronized (lock) {
            if (failure == null) {
                queue.addLast(listener);
                scheduleDrain();
                return;
            }
        }
        listener.onFenced(false);
    }

    @Override
    public void addListener(final Listener listener) {
        listeners.add(listener);
        final PcclException f;
        synchronized (lock) {
            f = failure;
        }
        if (f != null) {
            listener.onLinkFailed(f);
        }
    }

    @Override
    public void removeListener(final Listener listener) {
        listeners.remove(listener);
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(drainTask);
        }
    }

    /** Writes everything queued, then flushes once. Runs on the event loop. */
    private void drain() {
        drainScheduled.set(false);
        final ChannelHandlerContext c = ctx;
        boolean wrote = false;
        for (;;) {
            final Object next;
            synchronized (lock) {
                next = queue.pollFirst();
                if (next instanceof ByteBuf) {
                    queuedBytes -= ((ByteBuf) next).readableBytes();
                }
            }
            if (next == null) {
                break;
            }
            if (next instanceof ByteBuf) {
                c.write(next, c.voidPromise());
                wrote = true;
            } else {
                final FenceListener fl = (FenceListener) next;
                final ChannelPromise p = c.newPromise();
                p.addListener((ChannelFutureListener) f -> fl.onFenced(f.isSuccess()));
                c.write(Unpooled.EMPTY_BUFFER, p);
                wrote = true;
            }
        }
        if (wrote) {
            c.flush();
        }
    }

    private void fail(final PcclException cause) {
        final ArrayDeque<Object> dropped = new ArrayDeque<>();
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            failure = cause;
            dropped.addAll(queue);
            queue.clear();
            queuedBytes = 0;
        }
        for (final Object o : dropped) {
            if (o instanceof ByteBuf) {
                ((ByteBuf) o).release();
            } else {
                ((FenceListener) o).onFenced(false);
            }
        }
        for (final Listener l : listeners) {
            l.onLinkFailed(cause);
        }
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            for (final Listener l : listeners) {
                l.onLinkWritable();
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        // A neighbour's death fails every connection of the pool at once: one WARN line says it. An I/O error (a
        // reset, a broken pipe) is named, anything else is traced.
        if (poolFailureLogged.compareAndSet(false, true)) {
            if (cause instanceof IOException) {
                LOG.warn("{}: data connection to successor failed, closing the pool's connections: {} ({})", peer,
                        cause.toString(), ctx.channel());
            } else {
                LOG.warn("{}: data connection to successor failed, closing the pool's connections ({})", peer,
                        ctx.channel(), cause);
            }
        } else {
            LOG.debug("{}: data connection to successor failed, closing: {} ({})", peer, cause.toString(),
                    ctx.channel());
        }
        ctx.close();
    }

    /**
     * @return the channel
     */
    Channel channel() {
        return channel;
    }

    @Override
    public String toString() {
        return "TcpRingLink{" + peer + ", " + channel + '}';
    }

    /** Closes the channel; pending frames are released and operations fail. */
    ChannelFuture close() {
        return channel.close();
    }
}
