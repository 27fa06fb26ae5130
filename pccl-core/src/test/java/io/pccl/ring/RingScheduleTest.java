package io.pccl.ring;

import io.pccl.ring.internal.RingSchedule;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Chunking and step arithmetic of {@link RingSchedule}. Confined to the test thread.
 */
class RingScheduleTest {
    @Test
    void shouldGiveTheFirstCountModWChunksOneExtraElementAndAllowEmptyChunks() {
        final RingSchedule s = new RingSchedule(10, 4, 4, 0);
        assertEquals(12, s.chunkBytes(0));
        assertEquals(12, s.chunkBytes(1));
        assertEquals(8, s.chunkBytes(2));
        assertEquals(8, s.chunkBytes(3));
        assertEquals(0, s.chunkStartBytes(0));
        assertEquals(12, s.chunkStartBytes(1));
        assertEquals(24, s.chunkStartBytes(2));
        assertEquals(32, s.chunkStartBytes(3));
        final RingSchedule empty = new RingSchedule(2, 8, 4, 1);
        assertEquals(8, empty.chunkBytes(0));
        assertEquals(8, empty.chunkBytes(1));
        assertEquals(0, empty.chunkBytes(2));
        assertEquals(0, empty.chunkBytes(3));
        assertEquals(16, empty.chunkStartBytes(3));
    }

    @Test
    void shouldSendAtStepTWhatWasReceivedAtStepTMinusOne() {
        for (int w = 2; w <= 6; w++) {
            for (int r = 0; r < w; r++) {
                final RingSchedule s = new RingSchedule(1000, 4, w, r);
                assertEquals(2 * (w - 1), s.totalSteps());
                assertEquals(r, s.sendChunk(0));
                for (int t = 1; t < s.totalSteps(); t++) {
                    assertEquals(s.recvChunk(t - 1), s.sendChunk(t));
                }
                // After reduce-scatter rank r owns the final chunk r + 1 and sends it first in all-gather.
                assertEquals((r + 1) % w, s.sendChunk(w - 1));
                assertEquals(DataFrameFlyweight.STAGE_REDUCE_SCATTER, s.stage(w - 2));
                assertEquals(DataFrameFlyweight.STAGE_ALL_GATHER, s.stage(w - 1));
            }
        }
    }
}
