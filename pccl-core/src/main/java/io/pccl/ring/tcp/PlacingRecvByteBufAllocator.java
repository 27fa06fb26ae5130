package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.AttributeKey;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Socket-read buffer allocator of one accepted peer connection that lets the data plane choose where the next read
 * lands: a {@link ReadTarget} (the frame assembler, once the connection carries ring data) may return a buffer over
 * an operation's own memory, so the kernel copies a payload straight into place; otherwise reads go into buffers
 * sized like {@link AdaptiveRecvByteBufAllocator}'s.
 *
 * <p>Install it with {@link #install} when the channel is initialised, before its first read: Netty creates a
 * channel's read handle once, at the first read, so an allocator set later would never be used.
 *
 * <p>Thread-safe for its use: one instance per channel; the target is set and used on the channel's event loop.
 */
public final class PlacingRecvByteBufAllocator implements RecvByteBufAllocator {
    private static final AttributeKey<PlacingRecvByteBufAllocator> KEY =
            AttributeKey.valueOf(PlacingRecvByteBufAllocator.class, "placingRecvAllocator");

    /** Chooses the buffer of the next socket read. Called on the channel's event loop. */
    public interface ReadTarget {
        /**
         * @param alloc the channel's allocator
         * @return the buffer the next read goes into (at least one writable byte; the pipeline's first inbound
         *         handler receives it as usual), or null for the default
         */
        ByteBuf nextReadBuffer(ByteBufAllocator alloc);
    }

    private final AdaptiveRecvByteBufAllocator fallback = new AdaptiveRecvByteBufAllocator();
    private ReadTarget target;

    private PlacingRecvByteBufAllocator() {
    }

    /**
     * Makes {@code channel} read through a new instance of this allocator; call before its first read.
     *
     * @param channel an accepted channel, being initialised
     */
    public static void install(final Channel channel) {
        final PlacingRecvByteBufAllocator allocator = new PlacingRecvByteBufAllocator();
        channel.config().setRecvByteBufAllocator(allocator);
        channel.attr(KEY).set(allocator);
    }

    /**
     * Sets or clears the read target of {@code channel}; a channel without this allocator keeps reading as before.
     *
     * @param channel the channel
     * @param target the target, or null for default reads
     * @return whether the channel reads through this allocator
     */
    static boolean target(final Channel channel, final ReadTarget target) {
        final PlacingRecvByteBufAllocator allocator = channel.attr(KEY).get();
        if (allocator == null) {
            return false;
        }
        allocator.target = target;
        return true;
    }

    @Override
    public Handle newHandle() {
        return new PlacingHandle((ExtendedHandle) fallback.newHandle());
    }

    /**
     * Netty's delegating handle, except for the choice of buffer; extended because the epoll transport requires an
     * {@link ExtendedHandle}. Confined to the event loop.
     */
    private final class PlacingHandle extends DelegatingHandle implements ExtendedHandle {
        private final ExtendedHandle extended;

        PlacingHandle(final ExtendedHandle delegate) {
            super(delegate);
            this.extended = delegate;
        }

        @Override
        public ByteBuf allocate(final ByteBufAllocator alloc) {
            final ReadTarget t = target;
            final ByteBuf b = t == null ? null : t.nextReadBuffer(alloc);
            return b != null ? b : super.allocate(alloc);
        }

        @Override
        public boolean continueReading(final UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return extended.continueReading(maybeMoreDataSupplier);
        }
    }
}
