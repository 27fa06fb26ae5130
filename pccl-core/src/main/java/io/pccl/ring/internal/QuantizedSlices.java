package io.pccl.ring.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * The wire form of one quantized ring all-reduce: every slice travels as its own metadata (for {@code MIN_MAX} its
 * range) followed by its quantized values ({@code [meta][q0, q1, ...]}, little-endian; {@link SliceCodec}), so a
 * slice can be sent as soon as its values are final and decoded as soon as it arrives, without a metadata frame per
 * stage.
 *
 * <p>Encoded slices live in pooled direct buffers: {@link #encode} fills a fresh one for each slice this peer
 * quantizes, {@link #copyOf} copies a received payload into one (contiguous, and detached from the connection's
 * read buffers, so an all-gather slice can wait in {@link #forwards} until the successor takes it).
 *
 * <p>Not thread-safe: confined to the operation's active runner, like the rest of its step state.
 */
final class QuantizedSlices {
    private final SliceCodec codec;
    private final int metaBytes;
    private final int quantBytes;
    private final int elementBytes;
    /** Received all-gather slices (encoded, each a whole payload) waiting to be forwarded verbatim, in order. */
    private final ArrayDeque<ByteBuf> forwards = new ArrayDeque<>();

    /**
     * @param codec the operation's algorithm
     * @param elementBytes bytes per source value
     */
    QuantizedSlices(final SliceCodec codec, final int elementBytes) {
        this.codec = codec;
        this.metaBytes = codec.metaBytes();
        this.quantBytes = codec.quantBytes();
        this.elementBytes = elementBytes;
    }

    /**
     * @param count elements in a slice
     * @return bytes of its encoded payload
     */
    int encodedBytes(final int count) {
        return metaBytes + count * quantBytes;
    }

    /**
     * The number of elements an encoded payload carries.
     *
     * @param payloadBytes payload length from the frame header
     * @return the element count, or -1 if no whole, nonempty slice has that length
     */
    int elementsOf(final int payloadBytes) {
        final int body = payloadBytes - metaBytes;
        if (body <= 0 || body % quantBytes != 0) {
            return -1;
        }
        return body / quantBytes;
    }

    /**
     * Bytes of the source type an encoded payload stands for.
     *
     * @param payload an encoded payload
     * @return elements times the source type's size
     */
    int sourceBytesOf(final ByteBuf payload) {
        return elementsOf(payload.readableBytes()) * elementBytes;
    }

    /**
     * Quantizes {@code count} values into a fresh encoded payload.
     *
     * @param src little-endian source values
     * @param srcOffset absolute byte index of the first value
     * @param count elements, {@code > 0}
     * @param keepDecoded whether to overwrite the source values with what the payload decodes to, in the same
     *                    pass (the owner of a final chunk: it must hold exactly what every receiver decodes)
     * @return the payload (the caller owns it)
     */
    ByteBuf encode(final ByteBuffer src, final int srcOffset, final int count, final boolean keepDecoded) {
        final int bytes = encodedBytes(count);
        final ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
        try {
            final ByteBuffer view = out.writerIndex(bytes).internalNioBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
            codec.encode(src, srcOffset, count, view, view.position(), keepDecoded);
            return out;
        } catch (final RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /**
     * Copies a received payload into a fresh pooled buffer.
     *
     * @param frame the frame
     * @param index index of its payload
     * @param len payload length
     * @return the copy (the caller owns it)
     */
    ByteBuf copyOf(final ByteBuf frame, final int index, final int len) {
        final ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(len, len);
        frame.getBytes(index, out, len);
        return out;
    }

    /**
     * Overwrites values with the decoded payload (all-gather).
     *
     * @param encoded an encoded payload, not consumed
     * @param dst little-endian destination
     * @param dstOffset absolute byte index of the first value
     * @throws io.pccl.PcclException {@code PROTOCOL_VIOLATION} for metadata no peer could have sent
     */
    void decodeInto(final ByteBuf encoded, final ByteBuffer dst, final int dstOffset) {
        final int bytes = encoded.readableBytes();
        final ByteBuffer view = encoded.internalNioBuffer(encoded.readerIndex(), bytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        codec.decodeInto(view, view.position(), elementsOf(bytes), dst, dstOffset);
    }

    /**
     * Folds the decoded payload into an accumulator (reduce-scatter).
     *
     * @param op the fold ({@code SUM} for an average)
     * @param acc little-endian accumulator
     * @param accOffset absolute byte index of the first value
     * @param encoded an encoded payload, not consumed
     * @throws io.pccl.PcclException {@code PROTOCOL_VIOLATION} for metadata no peer could have sent
     */
    void accumulate(final ReduceOp op, final ByteBuffer acc, final int accOffset, final ByteBuf encoded) {
        final int bytes = encoded.readableBytes();
        final ByteBuffer view = encoded.internalNioBuffer(encoded.readerIndex(), bytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        codec.accumulate(op, acc, accOffset, view, view.position(), elementsOf(bytes));
    }

    /**
     * Keeps a received all-gather payload for the next step.
     *
     * @param encoded the payload (ownership passes here)
     */
    void addForward(final ByteBuf encoded) {
        forwards.addLast(encoded);
    }

    /** @return the oldest payload waiting to be forwarded, or null */
    ByteBuf peekForward() {
        return forwards.peekFirst();
    }

    /** @return the oldest payload waiting to be forwarded (ownership passes to the caller), or null */
    ByteBuf pollForward() {
        return forwards.pollFirst();
    }

    /** Releases every payload still waiting (the operation ended). */
    void releaseForwards() {
        for (ByteBuf b = forwards.pollFirst(); b != null; b = forwards.pollFirst()) {
            b.release();
        }
    }
}
