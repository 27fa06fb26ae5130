package io.pccl.state.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.pccl.proto.Envelope;
import io.pccl.transport.ProtocolConstants;
import java.io.IOException;

/**
 * Hand-encoding and decoding of control frames ({@code [u32 BE length][Envelope]}) for connections that mix
 * control frames with raw entry bytes, where the pipeline's frame codec cannot stay installed.
 *
 * <p>Thread-safe (stateless).
 */
final class Frames {
    private Frames() {
    }

    /**
     * Encodes one envelope as a length-prefixed frame.
     *
     * @param alloc allocator
     * @param envelope the message
     * @return a new buffer owned by the caller (normally handed to a write)
     */
    static ByteBuf encode(final ByteBufAllocator alloc, final Envelope envelope) {
        final byte[] body = envelope.toByteArray();
        final ByteBuf buf = alloc.buffer(ProtocolConstants.LENGTH_PREFIX_BYTES + body.length);
        buf.writeInt(body.length);
        buf.writeBytes(body);
        return buf;
    }

    /**
     * Decodes one frame from {@code in} if it is complete; leaves {@code in} untouched otherwise.
     *
     * @param in cumulated bytes (not released here)
     * @return the envelope, or null if the frame is not complete yet
     * @throws IOException if the length exceeds the control-frame limit or the body does not parse
     */
    static Envelope tryDecode(final ByteBuf in) throws IOException {
        if (in.readableBytes() < ProtocolConstants.LENGTH_PREFIX_BYTES) {
            return null;
        }
        final long length = in.getUnsignedInt(in.readerIndex());
        if (length > ProtocolConstants.MAX_CONTROL_FRAME_BYTES) {
            throw new IOException("control frame length " + length + " exceeds maxFrameLength "
                    + ProtocolConstants.MAX_CONTROL_FRAME_BYTES);
        }
        if (in.readableBytes() < ProtocolConstants.LENGTH_PREFIX_BYTES + length) {
            return null;
        }
        in.skipBytes(ProtocolConstants.LENGTH_PREFIX_BYTES);
        final ByteBuf body = in.readSlice((int) length);
        try (ByteBufInputStream stream = new ByteBufInputStream(body)) {
            return Envelope.parseFrom(stream);
        } catch (final InvalidProtocolBufferException e) {
            throw new IOException("malformed control frame of " + length + " bytes: " + e.getMessage(), e);
        }
    }
}
