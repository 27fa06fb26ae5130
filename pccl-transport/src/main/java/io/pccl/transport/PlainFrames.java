package io.pccl.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pccl.proto.Envelope;
import io.pccl.proto.Error;
import io.pccl.proto.ErrorCode;

/**
 * Control frames read and written beside the pipeline's codec, by the handshakes that come before it
 * (authentication, TLS): a refusal sent in plain text to a side that did not open as required, and the reading of
 * such a refusal where a handshake's answer was expected.
 *
 * <p>Thread-safe (stateless).
 */
public final class PlainFrames {
    /** Largest control frame read as a refusal in place of a handshake's answer. */
    private static final int MAX_REFUSAL_BYTES = 64 * 1024;

    private PlainFrames() {
    }

    /**
     * A control frame (length prefix and {@code Error} envelope), to write straight to the socket.
     *
     * @param alloc the channel's allocator
     * @param code the error code
     * @param reason the reason
     * @return the frame
     */
    public static ByteBuf errorFrame(final ByteBufAllocator alloc, final ErrorCode code, final String reason) {
        final byte[] body = Envelopes.error(code, reason).toByteArray();
        final ByteBuf frame = alloc.buffer(4 + body.length);
        frame.writeInt(body.length).writeBytes(body);
        return frame;
    }

    /**
     * Whether {@code in} (at least 4 readable bytes) holds enough to decide what it is: either its length prefix
     * cannot start a refusal, or the whole frame it announces has arrived.
     *
     * @param in the bytes received so far
     * @return false while a plausible frame is still incomplete
     */
    public static boolean decidable(final ByteBuf in) {
        final int length = in.getInt(in.readerIndex());
        return length <= 0 || length > MAX_REFUSAL_BYTES || in.readableBytes() >= 4 + length;
    }

    /**
     * The {@code Error} in {@code in}, when it holds a whole control frame carrying one.
     *
     * @param in the bytes received so far (not consumed)
     * @return the error, or null when {@code in} holds anything else
     */
    public static Error error(final ByteBuf in) {
        if (in.readableBytes() < 4) {
            return null;
        }
        final int length = in.getInt(in.readerIndex());
        if (length <= 0 || length > MAX_REFUSAL_BYTES || in.readableBytes() < 4 + length) {
            return null;
        }
        final byte[] body = new byte[length];
        in.getBytes(in.readerIndex() + 4, body);
        try {
            final Envelope envelope = Envelope.parseFrom(body);
            return envelope.hasError() ? envelope.getError() : null;
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    /**
     * The first bytes of {@code buf} in hex, for messages about what arrived instead of a handshake.
     *
     * @param buf the bytes (not consumed)
     * @return e.g. {@code 0x16030100f4010000}
     */
    public static String head(final ByteBuf buf) {
        final StringBuilder sb = new StringBuilder("0x");
        for (int i = buf.readerIndex(); i < Math.min(buf.writerIndex(), buf.readerIndex() + 8); i++) {
            sb.append(String.format("%02x", buf.getByte(i)));
        }
        return sb.toString();
    }
}
