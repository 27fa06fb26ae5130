package io.pccl.transport.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.nio.ByteOrder;

/**
 * Bounded, zero-copy data-frame decoder. Emits each complete frame (header + payload, see
 * {@link DataFrameFlyweight}) as a retained slice of the cumulation buffer; the next handler owns it and must
 * release it.
 *
 * <p>Rejected, each with a message naming the value and the limit:
 * <ul>
 *   <li>a payload length above {@code maxPayloadBytes} ({@link TooLongFrameException}), checked as soon as the
 *       header has arrived, before any payload is buffered;</li>
 *   <li>a wrong magic byte or version, a stage outside 1..4, or nonzero flags ({@link CorruptedFrameException}).</li>
 * </ul>
 * A truncated frame is simply never emitted (the decoder waits for the rest; the connection's close or the
 * engine's progress timeout ends the wait).
 *
 * <p>Confined to the channel's event loop (one instance per channel).
 */
public final class DataFrameDecoder extends LengthFieldBasedFrameDecoder {
    private final int maxPayloadBytes;
    /** Size of the frame at the reader index once its header was read; 0 between frames. */
    private int pendingFrameBytes;

    /**
     * Creates a decoder.
     *
     * @param maxPayloadBytes largest payload accepted (the engine's slice size), {@code >= 0}
     */
    public DataFrameDecoder(final int maxPayloadBytes) {
        super(ByteOrder.LITTLE_ENDIAN, checkedMax(maxPayloadBytes), DataFrameFlyweight.PAYLOAD_LENGTH_OFFSET, 4,
                0, 0, true);
        this.maxPayloadBytes = maxPayloadBytes;
        setCumulator(this::cumulate);
    }

    /**
     * Like Netty's merge cumulator, but when the cumulation must grow it is sized for the whole frame being
     * received, so a large frame costs one allocation instead of a series of doubling copies (the cumulation is
     * usually shared with frames still held downstream, which forces a copy on every expansion).
     * Confined to the event loop.
     */
    private ByteBuf cumulate(final ByteBufAllocator alloc, final ByteBuf cumulation, final ByteBuf in) {
        if (!cumulation.isReadable() && in.isContiguous()) {
            cumulation.release();
            return in;
        }
        try {
            final int required = in.readableBytes();
            if (required > cumulation.maxWritableBytes() || cumulation.isReadOnly()
                    || required > cumulation.maxFastWritableBytes() && cumulation.refCnt() > 1
                    || required > cumulation.writableBytes()) {
                final int capacity = Math.max(cumulation.readableBytes() + required, pendingFrameBytes);
                final ByteBuf next = alloc.buffer(capacity);
                next.writeBytes(cumulation, cumulation.readerIndex(), cumulation.readableBytes());
                next.writeBytes(in, in.readerIndex(), required);
                cumulation.release();
                return next;
            }
            cumulation.writeBytes(in, in.readerIndex(), required);
            return cumulation;
        } finally {
            in.release();
        }
    }

    private static int checkedMax(final int maxPayloadBytes) {
        if (maxPayloadBytes < 0 || maxPayloadBytes > Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) {
            throw new IllegalArgumentException("maxPayloadBytes " + maxPayloadBytes + " out of range [0, "
                    + (Integer.MAX_VALUE - DataFrameFlyweight.HEADER_LENGTH) + "]");
        }
        return maxPayloadBytes + DataFrameFlyweight.HEADER_LENGTH;
    }

    /**
     * The largest payload this decoder accepts.
     *
     * @return bytes
     */
    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    @Override
    protected long getUnadjustedFrameLength(final ByteBuf buf, final int offset, final int length,
                                            final ByteOrder order) {
        // offset points at the payload-length field; the whole header is readable at this point.
        final int payloadLength;
        try {
            payloadLength = DataFrameFlyweight.checkHeader(buf, offset - DataFrameFlyweight.PAYLOAD_LENGTH_OFFSET,
                    maxPayloadBytes);
        } catch (final RuntimeException e) {
            throw discardAll(buf, e);
        }
        pendingFrameBytes = payloadLength + DataFrameFlyweight.HEADER_LENGTH;
        return payloadLength;
    }

    /** Drops everything buffered: after a corrupt header no later byte can be trusted, and the channel closes. */
    private static RuntimeException discardAll(final ByteBuf buf, final RuntimeException e) {
        buf.skipBytes(buf.readableBytes());
        return e;
    }

    @Override
    protected ByteBuf extractFrame(final ChannelHandlerContext ctx, final ByteBuf buffer, final int index,
                                   final int length) {
        pendingFrameBytes = 0;
        return buffer.retainedSlice(index, length);
    }
}
