package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link DataFrameAssembler} on {@code EmbeddedChannel}: frames cut at random read boundaries (including inside
 * headers and elements) come out whole and byte-exact, several frames per read come out in order, bad headers
 * fail before any payload is held. Confined to the test thread.
 */
class DataFrameAssemblerTest {
    private static final long SEED = 20261128L;

    private static ByteBuf stream(final Random rnd, final int frames, final int maxPayload) {
        final ByteBuf all = Unpooled.buffer();
        for (int f = 0; f < frames; f++) {
            final int len = f % 5 == 4 ? 0 : rnd.nextInt(maxPayload + 1);
            DataFrameFlyweight.writeHeader(all, 9, 3, DataFrameFlyweight.STAGE_REDUCE_SCATTER, f, 0, 0, len);
            for (int i = 0; i < len; i++) {
                all.writeByte(f * 31 + i);
            }
        }
        return all;
    }

    @Test
    void shouldReassembleFramesCutAtRandomReadBoundaries() {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        for (int round = 0; round < 20; round++) {
            final int maxPayload = 1 + rnd.nextInt(3000);
            final ByteBuf all = stream(rnd, 12, maxPayload);
            final EmbeddedChannel ch = new EmbeddedChannel(new DataFrameAssembler(maxPayload));
            final int maxRead = round % 2 == 0 ? 7 : 4096;
            while (all.isReadable()) {
                final int n = Math.min(all.readableBytes(), 1 + rnd.nextInt(maxRead));
                final ByteBuf piece = Unpooled.directBuffer(n);
                all.readBytes(piece, n);
                ch.writeInbound(piece);
            }
            all.release();
            for (int f = 0; f < 12; f++) {
                final ByteBuf frame = ch.readInbound();
                try {
                    assertEquals(f, DataFrameFlyweight.step(frame), "round " + round);
                    assertEquals(9, DataFrameFlyweight.seq(frame));
                    final int len = DataFrameFlyweight.payloadLength(frame);
                    assertEquals(DataFrameFlyweight.HEADER_LENGTH + len, frame.readableBytes());
                    final int p = DataFrameFlyweight.payloadIndex(frame);
                    for (int i = 0; i < len; i++) {
                        assertEquals((byte) (f * 31 + i), frame.getByte(p + i), "round " + round + " byte " + i);
                    }
                } finally {
                    frame.release();
                }
            }
            assertNull(ch.readInbound());
            assertTrue(!ch.finish());
        }
    }

    @Test
    void shouldEmitSlicesOfOneReadWithoutCopying() {
        final ByteBuf all = stream(new Random(SEED), 3, 64);
        final ByteBuf read = Unpooled.directBuffer(all.readableBytes()).writeBytes(all);
        all.release();
        assumeTrue(read.hasMemoryAddress(), "needs direct-buffer addresses");
        final int total = read.readableBytes();
        final EmbeddedChannel ch = new EmbeddedChannel(new DataFrameAssembler(64));
        ch.writeInbound(read.retain());
        long offset = 0;
        for (int f = 0; f < 3; f++) {
            final ByteBuf frame = ch.readInbound();
            // The frame is the read buffer's own memory: same address, nothing copied.
            assertEquals(read.memoryAddress() + offset, frame.memoryAddress() + frame.readerIndex());
            offset += frame.readableBytes();
            frame.release();
        }
        assertEquals(total, offset);
        assertEquals(1, read.refCnt());
        read.release();
        assertTrue(!ch.finish());
    }

    @Test
    void shouldRejectOversizedAndCorruptHeadersBeforeBufferingPayload() {
        final ByteBuf big = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(big, 1, 1, DataFrameFlyweight.STAGE_ALL_GATHER, 0, 0, 0, 65);
        final EmbeddedChannel ch = new EmbeddedChannel(new DataFrameAssembler(64));
        final Throwable t = assertThrows(TooLongFrameException.class, () -> ch.writeInbound(big));
        assertTrue(t.getMessage().contains("65") && t.getMessage().contains("64"), t.getMessage());
        final ByteBuf bad = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(bad, 1, 1, DataFrameFlyweight.STAGE_ALL_GATHER, 0, 0, 0, 4);
        bad.setByte(DataFrameFlyweight.MAGIC_OFFSET, 0x11);
        final EmbeddedChannel ch2 = new EmbeddedChannel(new DataFrameAssembler(64));
        assertThrows(CorruptedFrameException.class, () -> ch2.writeInbound(bad));
        assertNull(ch2.readInbound());
    }
}
