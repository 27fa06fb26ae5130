package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.Placement;
import io.pccl.transport.data.DataFrameFlyweight;

/**
 * Data-frame framing for the inbound data plane, zero-copy in both of its modes:
 * <ul>
 *   <li><b>Placed.</b> When a header is complete, the {@link InboundRouter} is asked for a {@link Placement}: the
 *       running operation may take the payload straight into its own memory. The socket then reads the payload
 *       into that memory (the channel reads through a {@link PlacingRecvByteBufAllocator} whose
 *       {@link PlacingRecvByteBufAllocator.ReadTarget} this handler is), and the bare header, flagged
 *       {@link DataFrameFlyweight#FLAG_PLACED}, is fired on once the payload is complete. Payload bytes that had
 *       already arrived with the header are copied into place.</li>
 *   <li><b>Buffered.</b> Otherwise each complete frame (header + payload) is fired as one {@link ByteBuf}: a
 *       retained slice of the socket read when the frame lies inside one read, else a {@link CompositeByteBuf} of
 *       retained slices of the reads it spans.</li>
 * </ul>
 * Through the placing allocator, reads never run past the current frame (header reads are header-sized, payload
 * reads at most the rest of the payload), so every read holds bytes of one frame only; reads of any other size
 * (another allocator, bytes left over from the handshake) are handled as well, payload bytes of a placed frame
 * among them copied into place. Header checks are {@link DataFrameFlyweight#checkHeader}'s,
 * made as soon as the header is complete, before any payload is held. After a bad header the stream cannot be
 * trusted: everything later is discarded and the error goes to {@code exceptionCaught}. A placement the operation
 * cancelled is acknowledged at the next read and the rest of its payload discarded.
 *
 * <p>This handler never calls {@code read()} itself, so turning {@code autoRead} off stops the inflow after the
 * current read (which {@link DataFrameInboundHandler} uses for flow control).
 *
 * <p>Confined to the channel's event loop (one instance per channel).
 */
final class DataFrameAssembler extends ChannelInboundHandlerAdapter implements PlacingRecvByteBufAllocator.ReadTarget {
    /** Components of a frame before Netty consolidates (copies) them; reached only with reads below ~256 B. */
    private static final int MAX_COMPONENTS = 4096;
    /** Largest socket read into a pooled buffer (frames that are not placed, discarded payloads). */
    private static final int MAX_BUFFERED_READ = 256 << 10;

    private final int maxPayloadBytes;
    private final InboundRouter router;
    /** A header split across reads, being gathered; null otherwise. */
    private ByteBuf partialHeader;
    /** The buffered frame whose payload is arriving; null between frames. */
    private CompositeByteBuf frame;
    private int remaining;
    /** The placement being filled, its header (flag set) and the payload bytes written so far; null otherwise. */
    private Placement placement;
    private ByteBuf placedHeader;
    private int placedBytes;
    private int placedLength;
    /** The last buffer handed to the socket for a placed payload: its bytes are already in place. */
    private ByteBuf directRead;
    /** Payload bytes of a cancelled placement still to be read and thrown away. */
    private int discarding;
    private boolean failed;
    /** Whether the socket reads through our {@link PlacingRecvByteBufAllocator} (set when added). */
    private boolean directReads;

    /**
     * An assembler that never places (every frame is buffered).
     *
     * @param maxPayloadBytes largest accepted payload
     */
    DataFrameAssembler(final int maxPayloadBytes) {
        this(maxPayloadBytes, null);
    }

    /**
     * @param maxPayloadBytes largest accepted payload
     * @param router asked for placements, or null to buffer every frame
     */
    DataFrameAssembler(final int maxPayloadBytes, final InboundRouter router) {
        if (maxPayloadBytes < 0 || maxPayloadBytes > Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxPayloadBytes " + maxPayloadBytes + " out of range [0, "
                    + (Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) + "]");
        }
        this.maxPayloadBytes = maxPayloadBytes;
        this.router = router;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        directReads = PlacingRecvByteBufAllocator.target(ctx.channel(), this);
    }

    @Override
    public ByteBuf nextReadBuffer(final ByteBufAllocator alloc) {
        if (failed) {
            return null;
        }
        if (placement != null) {
            if (!placement.isCancelled()) {
                directRead = placement.target().retainedSlice(placedBytes, placedLength - placedBytes).clear();
                return directRead;
            }
            abandonPlacement();
        }
        if (discarding > 0) {
            return alloc.directBuffer(Math.min(discarding, MAX_BUFFERED_READ));
        }
        if (frame != null) {
            return alloc.directBuffer(Math.min(remaining, MAX_BUFFERED_READ));
        }
        final int need = DataFrameFlyweight.HEADER_LENGTH - (partialHeader == null ? 0 : partialHeader.readableBytes());
        return alloc.directBuffer(need, need);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        final ByteBuf in = (ByteBuf) msg;
        try {
            if (in == directRead) {
                directRead = null;
                final int n = in.readableBytes();
                in.skipBytes(n);
                placed(ctx, n);
            }
            while (!failed && in.isReadable()) {
                if (placement != null) {
                    copyIntoPlace(ctx, in);
                } else if (discarding > 0) {
                    final int n = Math.min(discarding, in.readableBytes());
                    in.skipBytes(n);
                    discarding -= n;
                } else if (frame != null) {
                    appendPayload(ctx, in);
                } else if (partialHeader != null) {
                    gatherHeader(ctx, in);
                } else if (in.readableBytes() >= DataFrameFlyweight.HEADER_LENGTH) {
                    startFrame(ctx, in);
                } else {
                    partialHeader = ctx.alloc().buffer(DataFrameFlyweight.HEADER_LENGTH);
                    partialHeader.writeBytes(in);
                }
            }
        } catch (final DecoderException e) {
            failed = true;
            releasePartial();
            ctx.fireExceptionCaught(e);
        } finally {
            in.release();
        }
    }

    /** A header starts in {@code in} and is complete there. */
    private void startFrame(final ChannelHandlerContext ctx, final ByteBuf in) {
        final int start = in.readerIndex();
        final int payload = DataFrameFlyweight.checkHeader(in, start, maxPayloadBytes);
        final int total = DataFrameFlyweight.HEADER_LENGTH + payload;
        final int readable = in.readableBytes();
        if (readable >= total) {
            final ByteBuf whole = in.retainedSlice(start, total);
            in.skipBytes(total);
            ctx.fireChannelRead(whole);
            return;
        }
        if (tryPlace(ctx, in.slice(start, DataFrameFlyweight.HEADER_LENGTH), payload)) {
            in.skipBytes(DataFrameFlyweight.HEADER_LENGTH);
            return;
        }
        frame = ctx.alloc().compositeBuffer(MAX_COMPONENTS);
        frame.addComponent(true, in.retainedSlice(start, readable));
        remaining = total - readable;
        in.skipBytes(readable);
    }

    /** Completes a header that began in an earlier read. */
    private void gatherHeader(final ChannelHandlerContext ctx, final ByteBuf in) {
        final int need = DataFrameFlyweight.HEADER_LENGTH - partialHeader.readableBytes();
        partialHeader.writeBytes(in, Math.min(need, in.readableBytes()));
        if (partialHeader.readableBytes() < DataFrameFlyweight.HEADER_LENGTH) {
            return;
        }
        final int payload = DataFrameFlyweight.checkHeader(partialHeader, partialHeader.readerIndex(),
                maxPayloadBytes);
        final ByteBuf header = partialHeader;
        partialHeader = null;
        if (payload == 0) {
            ctx.fireChannelRead(header);
            return;
        }
        if (tryPlace(ctx, header, payload)) {
            header.release();
            return;
        }
        frame = ctx.alloc().compositeBuffer(MAX_COMPONENTS);
        frame.addComponent(true, header);
        remaining = payload;
    }

    /**
     * Asks the router to place the payload that follows {@code header}.
     *
     * @return whether the payload is placed (the state now waits for it)
     */
    private boolean tryPlace(final ChannelHandlerContext ctx, final ByteBuf header, final int payload) {
        // Without direct reads, placing would only move the engine's copy onto the event loop.
        if (payload == 0 || router == null || !directReads) {
            return false;
        }
        final Placement p = router.place(header, ctx.executor());
        if (p == null) {
            return false;
        }
        placement = p;
        placedBytes = 0;
        placedLength = payload;
        placedHeader = ctx.alloc().directBuffer(DataFrameFlyweight.HEADER_LENGTH, DataFrameFlyweight.HEADER_LENGTH);
        placedHeader.writeBytes(header, header.readerIndex(), DataFrameFlyweight.HEADER_LENGTH);
        placedHeader.setByte(DataFrameFlyweight.FLAGS_OFFSET, DataFrameFlyweight.FLAG_PLACED);
        return true;
    }

    /** Payload bytes of a placed frame that arrived in an ordinary read. */
    private void copyIntoPlace(final ChannelHandlerContext ctx, final ByteBuf in) {
        if (placement.isCancelled()) {
            abandonPlacement();
            return;
        }
        final int n = Math.min(placedLength - placedBytes, in.readableBytes());
        placement.target().setBytes(placedBytes, in, in.readerIndex(), n);
        in.skipBytes(n);
        placed(ctx, n);
    }

    /** {@code n} more payload bytes of the placed frame are in place; the last of them completes it. */
    private void placed(final ChannelHandlerContext ctx, final int n) {
        placedBytes += n;
        if (placedBytes == placedLength) {
            completePlacement(ctx);
        }
    }

    private void completePlacement(final ChannelHandlerContext ctx) {
        final ByteBuf header = placedHeader;
        placedHeader = null;
        placement.target().release();
        placement = null;
        // The router hands the header to the operation, or drops it if the placement was cancelled meanwhile.
        ctx.fireChannelRead(header);
    }

    /** The operation cancelled the placement: acknowledge, then read the rest of the payload into nowhere. */
    private void abandonPlacement() {
        discarding = placedLength - placedBytes;
        releasePlacement();
    }

    private void releasePlacement() {
        if (placement != null) {
            placement.target().release();
            router.release(placement);
            placement = null;
        }
        ReferenceCountUtil.safeRelease(placedHeader);
        placedHeader = null;
    }

    private void appendPayload(final ChannelHandlerContext ctx, final ByteBuf in) {
        final int n = Math.min(remaining, in.readableBytes());
        frame.addComponent(true, in.retainedSlice(in.readerIndex(), n));
        in.skipBytes(n);
        remaining -= n;
        if (remaining == 0) {
            final ByteBuf whole = frame;
            frame = null;
            ctx.fireChannelRead(whole);
        }
    }

    private void releasePartial() {
        ReferenceCountUtil.safeRelease(partialHeader);
        partialHeader = null;
        ReferenceCountUtil.safeRelease(frame);
        frame = null;
        releasePlacement();
        discarding = 0;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        releasePartial();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        PlacingRecvByteBufAllocator.target(ctx.channel(), null);
        releasePartial();
    }
}
