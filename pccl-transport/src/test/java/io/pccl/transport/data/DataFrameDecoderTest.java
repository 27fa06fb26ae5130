package io.pccl.transport.data;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DataFrameDecoder} on {@code EmbeddedChannel}: round trip, reassembly, oversized, truncated and garbage
 * frames. Confined to the test thread.
 */
class DataFrameDecoderTest {
    private static final long SEED = 20261128L;

    @Test
    void shouldRoundTripHeaderAndZeroCopyPayload() {
        final ByteBuffer user = ByteBuffer.allocateDirect(1024).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 256; i++) {
            user.putInt(i * 4, i * 31);
        }
        final EmbeddedChannel out = new EmbeddedChannel();
        final ByteBuf header = DataFrameFlyweight.newHeader(ByteBufAllocator.DEFAULT, 0x1122334455667788L, 7L,
                DataFrameFlyweight.STAGE_ALL_GATHER, 5, 3, 4096L, 512);
        final ByteBuf payload = Unpooled.wrappedBuffer(user).slice(256, 512);
        out.writeOutbound(header, payload.retain());
        payload.release();
        final EmbeddedChannel in = new EmbeddedChannel(new DataFrameDecoder(512));
        // Feed byte by byte in odd pieces to exercise reassembly.
        for (ByteBuf b = out.readOutbound(); b != null; b = out.readOutbound()) {
            while (b.isReadable()) {
                in.writeInbound(b.readRetainedSlice(Math.min(7, b.readableBytes())));
            }
            b.release();
        }
        final ByteBuf frame = in.readInbound();
        try {
            assertEquals(DataFrameFlyweight.MAGIC, DataFrameFlyweight.magic(frame));
            assertEquals(DataFrameFlyweight.VERSION, DataFrameFlyweight.version(frame));
            assertEquals(0x1122334455667788L, DataFrameFlyweight.seq(frame));
            assertEquals(7L, DataFrameFlyweight.tag(frame));
            assertEquals(DataFrameFlyweight.STAGE_ALL_GATHER, DataFrameFlyweight.stage(frame));
            assertEquals(5, DataFrameFlyweight.step(frame));
            assertEquals(3, DataFrameFlyweight.chunkIndex(frame));
            assertEquals(4096L, DataFrameFlyweight.chunkOffset(frame));
            assertEquals(512, DataFrameFlyweight.payloadLength(frame));
            assertEquals(DataFrameFlyweight.HEADER_LENGTH + 512, frame.readableBytes());
            final int p = DataFrameFlyweight.payloadIndex(frame);
            for (int i = 0; i < 128; i++) {
                assertEquals((64 + i) * 31, frame.getIntLE(p + i * 4));
            }
        } finally {
            frame.release();
        }
        assertNull(in.readInbound());
        assertFalse(in.finishAndReleaseAll());
        out.finishAndReleaseAll();
    }

    @Test
    void shouldDecodeSeveralFramesFromOneBuffer() {
        final ByteBuf buf = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            DataFrameFlyweight.writeHeader(buf, i, 9, DataFrameFlyweight.STAGE_REDUCE_SCATTER, i, 0, i * 8L, 8);
            buf.writeLongLE(i);
        }
        final EmbeddedChannel in = new EmbeddedChannel(new DataFrameDecoder(8));
        in.writeInbound(buf);
        for (int i = 0; i < 3; i++) {
            final ByteBuf frame = in.readInbound();
            assertEquals(i, DataFrameFlyweight.seq(frame));
            assertEquals(i, frame.getLongLE(DataFrameFlyweight.payloadIndex(frame)));
            frame.release();
        }
        assertFalse(in.finishAndReleaseAll());
    }

    @Test
    void shouldRejectOversizedPayloadNamingLengthAndLimit() {
        final ByteBuf buf = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(buf, 1, 2, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 0, 0, 9_000_123);
        final EmbeddedChannel in = new EmbeddedChannel(new DataFrameDecoder(1 << 20));
        final TooLongFrameException e = assertThrows(TooLongFrameException.class, () -> in.writeInbound(buf));
        assertTrue(e.getMessage().contains("9000123"), e.getMessage());
        assertTrue(e.getMessage().contains(Integer.toString(1 << 20)), e.getMessage());
        in.finishAndReleaseAll();
    }

    @Test
    void shouldNotEmitTruncatedFrame() {
        final ByteBuf buf = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(buf, 1, 2, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 0, 0, 64);
        buf.writeZero(63);
        final EmbeddedChannel in = new EmbeddedChannel(new DataFrameDecoder(64));
        assertFalse(in.writeInbound(buf));
        assertNull(in.readInbound());
        // The header alone, cut short, is not a frame either.
        final EmbeddedChannel in2 = new EmbeddedChannel(new DataFrameDecoder(64));
        final ByteBuf shortHeader = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(shortHeader, 1, 2, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 0, 0, 0);
        assertFalse(in2.writeInbound(shortHeader.retainedSlice(0, DataFrameFlyweight.HEADER_LENGTH - 1)));
        shortHeader.release();
        assertNull(in2.readInbound());
        in.finishAndReleaseAll();
        in2.finishAndReleaseAll();
    }

    @Test
    void shouldRejectGarbage() {
        System.out.println("seed " + SEED);
        final Random random = new Random(SEED);
        final byte[] garbage = new byte[200];
        random.nextBytes(garbage);
        garbage[0] = 0x13; // anything but the magic
        final EmbeddedChannel in = new EmbeddedChannel(new DataFrameDecoder(1024));
        final CorruptedFrameException e = assertThrows(CorruptedFrameException.class,
                () -> in.writeInbound(Unpooled.wrappedBuffer(garbage)));
        assertTrue(e.getMessage().contains("0x13"), e.getMessage());
        in.finishAndReleaseAll();

        final ByteBuf badVersion = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(badVersion, 1, 2, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 0, 0, 0);
        badVersion.setByte(DataFrameFlyweight.VERSION_OFFSET, 9);
        final EmbeddedChannel in2 = new EmbeddedChannel(new DataFrameDecoder(1024));
        final CorruptedFrameException e2 = assertThrows(CorruptedFrameException.class,
                () -> in2.writeInbound(badVersion));
        assertTrue(e2.getMessage().contains("version 9"), e2.getMessage());
        in2.finishAndReleaseAll();

        final ByteBuf badStage = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(badStage, 1, 2, 77, 0, 0, 0, 0);
        final EmbeddedChannel in3 = new EmbeddedChannel(new DataFrameDecoder(1024));
        final CorruptedFrameException e3 = assertThrows(CorruptedFrameException.class,
                () -> in3.writeInbound(badStage));
        assertTrue(e3.getMessage().contains("stage 77"), e3.getMessage());
        in3.finishAndReleaseAll();
    }
}
