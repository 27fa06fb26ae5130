package io.pccl.transport.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Fixed little-endian header of a data frame (ring chunk slice), read and written in place on a {@link ByteBuf}
 * with absolute accessors; nothing is decoded into objects.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |  magic 0xDA   |  version (1)  |     stage     |  flags (0)    |  0
 *  +---------------+---------------+---------------+---------------+
 *  |                          step (u32)                           |  4
 *  +---------------------------------------------------------------+
 *  |                    operation sequence (u64)                   |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                           tag (u64)                           | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                byte offset within the chunk (u64)             | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                       chunk index (u32)                       | 32
 *  +---------------------------------------------------------------+
 *  |                     payload length (u32)                      | 36
 *  +---------------------------------------------------------------+
 *  |                 payload (payload length bytes) ...            | 40
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * All multi-byte fields are little-endian. The payload length is the last header field, so a frame decoder can
 * read it once the whole header has arrived: frame length = {@link #HEADER_LENGTH} + payload length. Stages:
 * {@link #STAGE_REDUCE_SCATTER}, {@link #STAGE_ALL_GATHER}, {@link #STAGE_META} (quantization metadata),
 * {@link #STAGE_ABORT} (the sender's operation failed; empty payload).
 *
 * <p>Thread-safe (stateless); the buffers passed in are the caller's to synchronize.
 */
public final class DataFrameFlyweight {
    /** First byte of every data frame. */
    public static final byte MAGIC = (byte) 0xDA;
    /** Data-plane format version. */
    public static final byte VERSION = 1;

    /** Offset of the magic byte. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the version byte. */
    public static final int VERSION_OFFSET = 1;
    /** Offset of the stage byte. */
    public static final int STAGE_OFFSET = 2;
    /** Offset of the flags byte (reserved, 0). */
    public static final int FLAGS_OFFSET = 3;
    /** Offset of the step (u32): 0 .. 2(W-1)-1 across both stages. */
    public static final int STEP_OFFSET = 4;
    /** Offset of the operation sequence number (u64, assigned by the master). */
    public static final int SEQ_OFFSET = 8;
    /** Offset of the user's tag (u64). */
    public static final int TAG_OFFSET = 16;
    /** Offset of the byte offset of the payload within its chunk (u64). */
    public static final int CHUNK_OFFSET_OFFSET = 24;
    /** Offset of the chunk index (u32). */
    public static final int CHUNK_INDEX_OFFSET = 32;
    /** Offset of the payload length (u32). */
    public static final int PAYLOAD_LENGTH_OFFSET = 36;
    /** Size of the header in bytes; the payload starts here. */
    public static final int HEADER_LENGTH = 40;

    /** Stage: reduce-scatter (payload is folded into the receiver's accumulator). */
    public static final int STAGE_REDUCE_SCATTER = 1;
    /** Stage: all-gather (payload overwrites the receiver's copy and is forwarded verbatim). */
    public static final int STAGE_ALL_GATHER = 2;
    /** Stage: quantization metadata of a stage. */
    public static final int STAGE_META = 3;
    /** Stage: the sender's operation failed; the receiver fails it too (no payload). */
    public static final int STAGE_ABORT = 4;

    /**
     * Flag bit set only inside a receiving peer, never on the wire ({@link #checkHeader} rejects any flag): the
     * frame is a bare header whose payload the transport already read straight into the operation's memory.
     */
    public static final int FLAG_PLACED = 0x80;

    private DataFrameFlyweight() {
    }

    /**
     * Allocates a header buffer from {@code alloc} and writes a complete header into it.
     *
     * @param alloc allocator (pooled in production)
     * @param seq operation sequence number
     * @param tag the operation's tag
     * @param stage one of the {@code STAGE_*} constants
     * @param step ring step, {@code >= 0}
     * @param chunkIndex chunk index, {@code >= 0}
     * @param chunkOffsetBytes byte offset of the payload within the chunk, {@code >= 0}
     * @param payloadLength payload bytes that follow the header, {@code >= 0}
     * @return a buffer holding exactly {@link #HEADER_LENGTH} readable bytes; the caller owns it
     */
    public static ByteBuf newHeader(final ByteBufAllocator alloc, final long seq, final long tag, final int stage,
                                    final int step, final int chunkIndex, final long chunkOffsetBytes,
                                    final int payloadLength) {
        final ByteBuf header = alloc.directBuffer(HEADER_LENGTH, HEADER_LENGTH);
        writeHeader(header, seq, tag, stage, step, chunkIndex, chunkOffsetBytes, payloadLength);
        return header;
    }

    /**
     * Appends a header at the writer index of {@code buf} (which must have {@link #HEADER_LENGTH} writable bytes).
     *
     * @param buf destination; ownership unchanged
     * @param seq operation sequence number
     * @param tag the operation's tag
     * @param stage one of the {@code STAGE_*} constants
     * @param step ring step
     * @param chunkIndex chunk index
     * @param chunkOffsetBytes byte offset of the payload within the chunk
     * @param payloadLength payload bytes that follow the header
     */
    public static void writeHeader(final ByteBuf buf, final long seq, final long tag, final int stage,
                                   final int step, final int chunkIndex, final long chunkOffsetBytes,
                                   final int payloadLength) {
        final int base = buf.writerIndex();
        buf.ensureWritable(HEADER_LENGTH);
        buf.setByte(base + MAGIC_OFFSET, MAGIC);
        buf.setByte(base + VERSION_OFFSET, VERSION);
        buf.setByte(base + STAGE_OFFSET, stage);
        buf.setByte(base + FLAGS_OFFSET, 0);
        buf.setIntLE(base + STEP_OFFSET, step);
        buf.setLongLE(base + SEQ_OFFSET, seq);
        buf.setLongLE(base + TAG_OFFSET, tag);
        buf.setLongLE(base + CHUNK_OFFSET_OFFSET, chunkOffsetBytes);
        buf.setIntLE(base + CHUNK_INDEX_OFFSET, chunkIndex);
        buf.setIntLE(base + PAYLOAD_LENGTH_OFFSET, payloadLength);
        buf.writerIndex(base + HEADER_LENGTH);
    }

    /**
     * Validates a complete header and returns its payload length. Rejected, each with a message naming the value
     * and the limit: a wrong magic byte or version, a stage outside 1..4 or nonzero flags
     * ({@link CorruptedFrameException}); a payload length above {@code maxPayloadBytes}
     * ({@link TooLongFrameException}).
     *
     * @param buf buffer holding the header
     * @param index absolute index of the header's first byte; {@link #HEADER_LENGTH} bytes must be readable there
     * @param maxPayloadBytes largest accepted payload
     * @return the payload length
     */
    public static int checkHeader(final ByteBuf buf, final int index, final int maxPayloadBytes) {
        final byte magic = buf.getByte(index + MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw new CorruptedFrameException(String.format("data frame magic 0x%02x, expected 0x%02x",
                    magic & 0xff, MAGIC & 0xff));
        }
        final byte version = buf.getByte(index + VERSION_OFFSET);
        if (version != VERSION) {
            throw new CorruptedFrameException("data frame version " + version + ", expected " + VERSION);
        }
        final int stage = buf.getUnsignedByte(index + STAGE_OFFSET);
        if (stage < STAGE_REDUCE_SCATTER || stage > STAGE_ABORT) {
            throw new CorruptedFrameException("data frame stage " + stage + " outside [1, 4]");
        }
        final int flags = buf.getUnsignedByte(index + FLAGS_OFFSET);
        if (flags != 0) {
            throw new CorruptedFrameException("data frame flags " + flags + ", expected 0");
        }
        final long payloadLength = buf.getUnsignedIntLE(index + PAYLOAD_LENGTH_OFFSET);
        if (payloadLength > maxPayloadBytes) {
            throw new TooLongFrameException("data frame payload length " + payloadLength
                    + " exceeds the limit of " + maxPayloadBytes + " bytes");
        }
        return (int) payloadLength;
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the magic byte
     */
    public static byte magic(final ByteBuf frame) {
        return frame.getByte(frame.readerIndex() + MAGIC_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the version byte
     */
    public static byte version(final ByteBuf frame) {
        return frame.getByte(frame.readerIndex() + VERSION_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the stage, 0..255
     */
    public static int stage(final ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() + STAGE_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the flags byte, 0..255 (0 on the wire; see {@link #FLAG_PLACED})
     */
    public static int flags(final ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() + FLAGS_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the ring step (u32 as int; values above {@code Integer.MAX_VALUE} read negative)
     */
    public static int step(final ByteBuf frame) {
        return frame.getIntLE(frame.readerIndex() + STEP_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the operation sequence number
     */
    public static long seq(final ByteBuf frame) {
        return frame.getLongLE(frame.readerIndex() + SEQ_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the tag
     */
    public static long tag(final ByteBuf frame) {
        return frame.getLongLE(frame.readerIndex() + TAG_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the payload's byte offset within its chunk
     */
    public static long chunkOffset(final ByteBuf frame) {
        return frame.getLongLE(frame.readerIndex() + CHUNK_OFFSET_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the chunk index (u32 as int)
     */
    public static int chunkIndex(final ByteBuf frame) {
        return frame.getIntLE(frame.readerIndex() + CHUNK_INDEX_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return the payload length (u32 as int)
     */
    public static int payloadLength(final ByteBuf frame) {
        return frame.getIntLE(frame.readerIndex() + PAYLOAD_LENGTH_OFFSET);
    }

    /**
     * @param frame a frame whose header starts at its reader index
     * @return absolute index of the first payload byte in {@code frame}
     */
    public static int payloadIndex(final ByteBuf frame) {
        return frame.readerIndex() + HEADER_LENGTH;
    }
}
