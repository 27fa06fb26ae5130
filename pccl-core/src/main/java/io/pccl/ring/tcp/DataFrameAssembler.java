package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.pccl.transport.data.DataFrameFlyweight;

/**
 * Zero-copy data-frame framing for the inbound data plane. Each complete frame (header + payload, see
 * {@link DataFrameFlyweight}) is fired as one {@link ByteBuf}: a retained slice of the socket read buffer when the
 * frame lies inside one read, otherwise a {@link CompositeByteBuf} of retained slices of the reads it spans. No
 * payload byte is copied (a cumulating decoder copies every byte of a frame larger than one read once more).
 * Header checks are {@link DataFrameFlyweight#checkHeader}'s, made as soon as the header is complete, before any
 * payload is held. After a bad header the stream cannot be trusted: everything later is discarded and the error
 * goes to {@code exceptionCaught}.
 *
 * <p>This handler never calls {@code read()} itself, so turning {@code autoRead} off stops the inflow after the
 * current read (which {@link DataFrameInboundHandler} uses for flow control).
 *
 * <p>Confined to the channel's event loop (one instance per channel).
 */
final class DataFrameAssembler extends ChannelInboundHandlerAdapter {
    /** Components of a frame before Netty consolidates (copies) them; reached only with reads below ~256 B. */
    private static final int MAX_COMPONENTS = 4096;

    private final int maxPayloadBytes;
    /** A header split across reads, being gathered; null otherwise. */
    private ByteBuf partialHeader;
    /** The frame whose payload is arriving; null between frames. */
    private CompositeByteBuf frame;
    private int remaining;
    private boolean failed;

    DataFrameAssembler(final int maxPayloadBytes) {
        if (maxPayloadBytes < 0 || maxPayloadBytes > Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxPayloadBytes " + maxPayloadBytes + " out of range [0, "
                    + (Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) + "]");
        }
        this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        final ByteBuf in = (ByteBuf) msg;
        try {
            while (!failed && in.isReadable()) {
                if (frame != null) {
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
        final int total = DataFrameFlyweight.HEADER_LENGTH
                + DataFrameFlyweight.checkHeader(in, start, maxPayloadBytes);
        final int readable = in.readableBytes();
        if (readable >= total) {
            final ByteBuf whole = in.retainedSlice(start, total);
            in.skipBytes(total);
            ctx.fireChannelRead(whole);
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
        frame = ctx.alloc().compositeBuffer(MAX_COMPONENTS);
        frame.addComponent(true, header);
        remaining = payload;
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
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        releasePartial();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        releasePartial();
    }
}
