package io.pccl.ring.tcp;

import io.pccl.DataType;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.RingAllReduce;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Manual probe: W peers in one JVM over loopback TCP; prints process CPU time per byte moved (CPU time over the
 * timed ops divided by the bytes every peer sent) and the median wall time, for the engine-thread and event-loop
 * counts given by system properties {@code probe.w} (2), {@code probe.mib} (64), {@code probe.iters} (5),
 * {@code probe.threads} (engine threads, 2), {@code probe.loops} (event loops, 2), {@code probe.pool} (1),
 * {@code probe.inplace} (false), {@code probe.slice} (bytes, the engine default),
 * {@code probe.buffered} (inbound flow-control limit in bytes, the default). CPU per byte is robust to other
 * load on the machine; wall time is not. Per-thread CPU comes from /proc (JIT and GC threads included).
 * Run through surefire with {@code -Dpccl.excludedGroups=} or directly with {@link #main}.
 */
@Tag("manual")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class TcpRingCpuProbe {
    @Test
    void shouldPrintCpuPerByte() throws Exception {
        assertTrue(run() > 0);
    }

    /**
     * Runs the probe outside JUnit.
     *
     * @param args ignored; see the class comment for the properties
     * @throws Exception on failure
     */
    public static void main(final String[] args) throws Exception {
        run();
    }

    /** Per-thread CPU from /proc (covers JVM-internal threads too: GC, JIT), in ns, keyed by thread name. */
    private static void threadCpu(final java.util.Map<String, Long> into) {
        final java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return;
        }
        for (final java.io.File t : tasks) {
            try {
                final String stat = new String(java.nio.file.Files.readAllBytes(new java.io.File(t, "stat").toPath()));
                final String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                final long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                final String name = comm.replaceAll("[0-9]+", "#");
                into.merge(name, ticks * 10_000_000L, Long::sum);
            } catch (final java.io.IOException | RuntimeException e) {
                // thread ended meanwhile
            }
        }
    }

    private static double run() throws Exception {
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        final int w = Integer.getInteger("probe.w", 2);
        final int mib = Integer.getInteger("probe.mib", 64);
        final int iters = Integer.getInteger("probe.iters", 5);
        final int threads = Integer.getInteger("probe.threads", 2);
        final int loops = Integer.getInteger("probe.loops", 2);
        final int pool = Integer.getInteger("probe.pool", 1);
        final boolean inPlace = Boolean.getBoolean("probe.inplace");
        final int count = mib << 18;
        final ByteBuffer[] send = new ByteBuffer[w];
        final ByteBuffer[] recv = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            send[r] = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
            recv[r] = inPlace ? send[r] : ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                send[r].putFloat(i * 4, 1.0f);
            }
        }
        final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        final int slice = Integer.getInteger("probe.slice", RingAllReduce.DEFAULT_SLICE_BYTES);
        try (RingAllReduce engine = RingAllReduce.builder().threads(threads).sliceBytes(slice).build();
             TcpRing net = new TcpRing(w, pool, RingAllReduce.DEFAULT_SLICE_BYTES,
                     TcpRingTransport.DEFAULT_HIGH_WATER_BYTES, loops, Long.getLong("probe.buffered", -1))) {
            long seq = 1;
            final long[] wall = new long[iters];
            long cpu = 0;
            final java.util.Map<String, Long> threadCpuStart = new java.util.TreeMap<>();
            for (int it = -2; it < iters; it++) {
                final long c0 = os.getProcessCpuTime();
                final long t0 = System.nanoTime();
                net.allReduce(engine, seq, ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM), send, recv, 120);
                seq++;
                if (it == -1) {
                    threadCpu(threadCpuStart);
                }
                if (it >= 0) {
                    wall[it] = System.nanoTime() - t0;
                    cpu += os.getProcessCpuTime() - c0;
                }
            }
            final java.util.Map<String, Long> threadCpuEnd = new java.util.TreeMap<>();
            threadCpu(threadCpuEnd);
            final StringBuilder perThread = new StringBuilder();
            for (final java.util.Map.Entry<String, Long> e : threadCpuEnd.entrySet()) {
                final long d = e.getValue() - threadCpuStart.getOrDefault(e.getKey(), 0L);
                if (d == 0) {
                    continue;
                }
                perThread.append(' ').append(e.getKey()).append('=').append(d / 1_000_000 / iters).append("ms");
            }
            System.out.println("per-op thread CPU:" + perThread);
            Arrays.sort(wall);
            final double bytesPerOp = 2.0 * (w - 1) / w * count * 4 * w; // sent by all peers together
            final double cpuPerByte = cpu / (bytesPerOp * iters);
            final double sec = wall[iters / 2] / 1e9;
            System.out.printf("W=%d %d MiB inplace=%b threads=%d loops=%d pool=%d: CPU %.3f ns/B (%.0f ms/op), "
                            + "wall median %.1f ms, busbw %.2f GB/s, load %.1f%n", w, mib, inPlace, threads, loops,
                    pool, cpuPerByte, cpu / 1e6 / iters, sec * 1e3, 2.0 * (w - 1) / w * count * 4 / sec / 1e9,
                    os.getSystemLoadAverage());
            return cpuPerByte;
        }
    }
}
