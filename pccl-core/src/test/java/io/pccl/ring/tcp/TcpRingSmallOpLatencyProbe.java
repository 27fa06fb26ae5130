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
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Manual probe: the ring engine alone (no master, all peers in one JVM over loopback TCP) timing small float32 SUM
 * operations, out of place, for several slice sizes in alternating batches of 300 (the first round is warm-up); prints
 * the median and the 10th and 90th percentiles per slice size. Properties: {@code probe.w} (2), {@code probe.bytes}
 * (1 MiB), {@code probe.slices} (65536,131072,262144,1048576). Run with
 * {@code mvn -pl pccl-core -am test -Dtest=TcpRingSmallOpLatencyProbe -Dpccl.excludedGroups=
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <p>Runs on the test thread.
 */
@Tag("manual")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class TcpRingSmallOpLatencyProbe {
    @Test
    void shouldPrintLatencyPerSliceSize() throws Exception {
        // Paranoid leak tracking (the test default) would dominate the measurement.
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        final int w = Integer.getInteger("probe.w", 2);
        final int bytes = Integer.getInteger("probe.bytes", 1 << 20);
        final int count = bytes / 4;
        final int[] slices = Arrays.stream(System.getProperty("probe.slices", "65536,131072,262144,1048576")
                .split(",")).mapToInt(Integer::parseInt).toArray();
        final ByteBuffer[] send = new ByteBuffer[w];
        final ByteBuffer[] recv = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            send[r] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
            recv[r] = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        final RingAllReduce[] engines = new RingAllReduce[slices.length];
        for (int k = 0; k < slices.length; k++) {
            engines[k] = RingAllReduce.builder().sliceBytes(slices[k]).completeOnTransportThreads(true).build();
        }
        final int rounds = 6;
        final int opsPerRound = 300;
        final long[][] samples = new long[slices.length][(rounds - 1) * opsPerRound];
        long seq = 1;
        try (TcpRing net = new TcpRing(w, 1, 1 << 20)) {
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < slices.length; k++) {
                    for (int it = 0; it < opsPerRound; it++) {
                        final long t0 = System.nanoTime();
                        net.allReduce(engines[k], seq, ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM),
                                send, recv, 60);
                        seq++;
                        if (round > 0) {
                            samples[k][(round - 1) * opsPerRound + it] = System.nanoTime() - t0;
                        }
                    }
                }
            }
        } finally {
            for (final RingAllReduce e : engines) {
                e.close();
            }
        }
        for (int k = 0; k < slices.length; k++) {
            final long[] s = samples[k].clone();
            Arrays.sort(s);
            System.out.printf("W=%d %d B slice %7d: median %.1f us, p10 %.1f, p90 %.1f%n", w, bytes, slices[k],
                    s[s.length / 2] / 1e3, s[s.length / 10] / 1e3, s[s.length * 9 / 10] / 1e3);
            assertTrue(s[0] > 0);
        }
    }
}
