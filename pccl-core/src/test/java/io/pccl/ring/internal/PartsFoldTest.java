package io.pccl.ring.internal;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link PartsFold}: a payload cut into parts at random byte boundaries (down to one byte, so elements straddle
 * several parts) folds to exactly what one contiguous fold gives, for 1-, 2-, 4- and 8-byte types.
 */
class PartsFoldTest {
    private static final long SEED = 20261128L;

    @Test
    void shouldMatchAContiguousFoldForAnyCut() {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        final DataType[] types = {DataType.UINT8, DataType.INT16, DataType.FLOAT32, DataType.FLOAT64,
            DataType.INT64};
        final ByteBuffer straddle = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (final DataType type : types) {
            for (int round = 0; round < 50; round++) {
                final int count = 1 + rnd.nextInt(200);
                final int bytes = count * type.sizeBytes();
                final ByteBuffer in = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
                final ByteBuffer accA = ByteBuffer.allocate(bytes + 16).order(ByteOrder.LITTLE_ENDIAN);
                final ByteBuffer accB = ByteBuffer.allocate(bytes + 16).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < bytes; i++) {
                    in.put(i, (byte) rnd.nextInt(64));
                }
                for (int i = 0; i < bytes + 16; i++) {
                    final byte b = (byte) rnd.nextInt(64);
                    accA.put(i, b);
                    accB.put(i, b);
                }
                ReduceKernels.accumulate(type, ReduceOp.SUM, accA, 8, in, 0, count);
                final List<ByteBuffer> parts = new ArrayList<>();
                final int maxPart = round % 2 == 0 ? 3 : 40;
                for (int at = 0; at < bytes;) {
                    final int n = Math.min(bytes - at, 1 + rnd.nextInt(maxPart));
                    final ByteBuffer part = in.duplicate();
                    part.position(at).limit(at + n);
                    parts.add(part.slice().order(ByteOrder.BIG_ENDIAN));
                    at += n;
                }
                PartsFold.accumulate(type, ReduceOp.SUM, accB, 8, parts.toArray(new ByteBuffer[0]), straddle);
                assertEquals(accA, accB, type + " round " + round + " parts " + parts.size());
            }
        }
    }
}
