package io.pccl.ring;

import io.netty.util.ResourceLeakDetector;
import io.pccl.DataType;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.local.LocalRingNetwork;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Manual probe: bytes allocated by all threads per slice of a steady-state ring all-reduce over the in-memory
 * transport (W = 3, 64 MiB float32, 64 KiB slices), leak detection off. Run with
 * {@code mvn -pl pccl-core -am test -Dtest=RingAllocationProbe -Dpccl.excludedGroups=
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("manual")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RingAllocationProbe {
    @Test
    void shouldPrintAllocatedBytesPerSlice() throws Exception {
        final ResourceLeakDetector.Level saved = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        final com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final int w = 3;
        final int count = 16 << 20;
        final int slice = 64 << 10;
        final ByteBuffer[] bufs = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            bufs[r] = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        }
        final jdk.jfr.Recording rec = Boolean.getBoolean("probe.jfr") ? new jdk.jfr.Recording() : null;
        if (rec != null) {
            rec.enable("jdk.ObjectAllocationSample").with("throttle", "10000/s").withStackTrace();
        }
        try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(slice).threads(2).build()) {
            final LocalRingNetwork net = new LocalRingNetwork(w, 1);
            for (int it = 0; it < 10; it++) {
                if (it == 5 && rec != null) {
                    rec.start();
                }
                final long before = totalAllocated(mx);
                final RingOperation[] ops = new RingOperation[w];
                for (int r = 0; r < w; r++) {
                    ops[r] = engine.start(new RingOpContext(new long[] {1, 2, 3}, r, it + 1,
                            ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM), bufs[r], bufs[r],
                            net.transport(r)));
                }
                long slices = 0;
                for (final RingOperation op : ops) {
                    op.future().get(60, TimeUnit.SECONDS);
                    slices += (op.txBytes() + slice - 1) / slice;
                }
                final long bytes = totalAllocated(mx) - before;
                System.out.printf("iteration %d: %d bytes allocated for %d slices sent = %.1f B/slice%n", it, bytes,
                        slices, (double) bytes / slices);
                assertTrue(bytes >= 0);
            }
            net.close();
            if (rec != null) {
                rec.stop();
                rec.dump(java.nio.file.Path.of("target/ring-alloc.jfr"));
                rec.close();
            }
        } finally {
            ResourceLeakDetector.setLevel(saved);
        }
    }

    private static long totalAllocated(final com.sun.management.ThreadMXBean mx) {
        long sum = 0;
        for (final long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) {
            sum += Math.max(0, b);
        }
        return sum;
    }
}
