package io.pccl.state.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pccl.DataType;
import io.pccl.SharedState;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Round trip of typed entries through {@link EntryIo} with reads split at odd, element-straddling sizes. */
class EntryIoTest {
    private static final long SEED = 11;

    @Test
    void typedArraysRoundTripAcrossStraddlingReads() {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        final int n = 10_001;
        final double[] d = new double[n];
        final short[] s = new short[n];
        final float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = rnd.nextGaussian();
            s[i] = (short) rnd.nextInt();
            f[i] = rnd.nextFloat();
        }
        final SharedState src = SharedState.builder().entry("d", d).entry("s", s, DataType.BFLOAT16, n, false)
                .entry("f", f).build();
        final double[] d2 = new double[n];
        final short[] s2 = new short[n];
        final float[] f2 = new float[n];
        final SharedState dst = SharedState.builder().entry("d", d2).entry("s", s2, DataType.BFLOAT16, n, false)
                .entry("f", f2).build();
        for (final String key : new String[] {"d", "s", "f"}) {
            final EntryIo out = new EntryIo(src.entry(key));
            final ByteBuf all = Unpooled.buffer();
            while (out.remaining() > 0) {
                final ByteBuf chunk = out.slice(ByteBufAllocator.DEFAULT, (int) Math.min(4096, out.remaining()));
                all.writeBytes(chunk);
                chunk.release();
            }
            final EntryIo in = new EntryIo(dst.entry(key));
            int split = 1;
            while (all.isReadable()) {
                final int k = Math.min(all.readableBytes(), split);
                in.write(all, k);
                split = split * 3 % 1021 + 1;
            }
            assertEquals(0, in.remaining(), key);
            all.release();
        }
        assertArrayEquals(d, d2);
        assertArrayEquals(s, s2);
        assertArrayEquals(f, f2);
    }
}
