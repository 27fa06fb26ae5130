package io.pccl.ring.tcp;

import io.pccl.DataType;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.RingAllReduce;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Manual probe: W = 3 over loopback TCP, 64 MiB float32 per op, for several slice sizes; prints the median time
 * and the bus bandwidth (2 (W-1)/W * size / time). Run with
 * {@code mvn -pl pccl-core -am test -Dtest=TcpRingSliceSizeProbe -Dpccl.excludedGroups=
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("manual")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TcpRingSliceSizeProbe {
    @Test
    void shouldPrintBandwidthPerSliceSize() throws Exception {
        // Paranoid leak tracking (the test default) would dominate the measurement.
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        final int w = 3;
        final int count = 16 << 20;
        final ByteBuffer[] bufs = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            bufs[r] = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        }
        long seq = 1;
        for (final int slice : new int[] {64 << 10, 256 << 10, 1 << 20, 4 << 20}) {
            try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(slice).build();
                 TcpRing net = new TcpRing(w, 1, slice)) {
                final long[] times = new long[5];
                for (int it = 0; it < times.length + 1; it++) {
                    final long t0 = System.nanoTime();
                    net.allReduce(engine, seq, ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM), bufs, bufs,
                            60);
                    seq++;
                    if (it > 0) {
                        times[it - 1] = System.nanoTime() - t0;
                    }
                }
                java.util.Arrays.sort(times);
                final double sec = times[times.length / 2] / 1e9;
                final double busGBs = 2.0 * (w - 1) / w * count * 4 / sec / 1e9;
                System.out.printf("slice %7d B: median %.1f ms, busbw %.2f GB/s%n", slice, sec * 1e3, busGBs);
                assertTrue(sec > 0);
            }
        }
    }
}
