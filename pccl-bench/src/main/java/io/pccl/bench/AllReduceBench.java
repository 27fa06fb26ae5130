package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.DataType;
import io.pccl.Quantization;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.bench.internal.ChildJvm;
import io.pccl.bench.internal.MemoryProbe;
import io.pccl.bench.internal.TempSecurity;
import io.pccl.master.Master;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end ring all-reduce benchmark: an embedded master plus one JVM per peer on loopback. Prints a table in
 * the manner of nccl-tests: size, time, algbw = bytes / time and busbw = algbw · 2(W−1)/W (GB/s = 1e9 B/s),
 * plus the peak extra memory per peer during the op. Each sample is the max over peers of one timed call, with a
 * barrier (a 1-element all-reduce) before each call, after {@code --warmup} untimed calls — the method of the
 * Gloo and Open MPI baseline scripts in {@code shared/baselines}.
 *
 * <pre>
 * java -jar pccl-bench/target/pccl-bench.jar allreduce --peers 2 --sizes-mib 1,16,64,256 --iters 5 --warmup 2
 * </pre>
 *
 * <p>Not thread-safe; runs once on the main thread.
 */
@Command(name = "allreduce", mixinStandardHelpOptions = true,
        description = "Ring all-reduce throughput: master + one JVM per peer on loopback")
public final class AllReduceBench implements Callable<Integer> {
    static final long BARRIER_TAG = 1L << 40;

    @Option(names = "--peers", description = "number of peers (default ${DEFAULT-VALUE})")
    int peers = 2;
    @Option(names = "--sizes-mib", split = ",", description = "buffer sizes in MiB (default ${DEFAULT-VALUE})")
    double[] sizesMib = {1, 16, 64, 256};
    @Option(names = "--connections", description = "connections per peer (default ${DEFAULT-VALUE})")
    int connections = 4;
    @Option(names = "--io-threads", description = "event-loop threads per peer (default: the communicator's)")
    int ioThreads;
    @Option(names = "--concurrent", description = "ops in flight, each size/concurrent (default ${DEFAULT-VALUE})")
    int concurrent = 1;
    @Option(names = "--type", description = "element type (default ${DEFAULT-VALUE})")
    DataType type = DataType.FLOAT32;
    @Option(names = "--op", description = "reduction (default ${DEFAULT-VALUE})")
    ReduceOp op = ReduceOp.SUM;
    @Option(names = "--quantize", description = "MinMax-quantize transfers to this type (UINT8, UINT16, UINT32,"
            + " UINT64; default: values travel as they are)")
    DataType quantize;
    @Option(names = "--iters", description = "timed iterations per size (default ${DEFAULT-VALUE})")
    int iters = 5;
    @Option(names = "--warmup", description = "untimed iterations per size (default ${DEFAULT-VALUE})")
    int warmup = 10;
    @Option(names = "--print-samples", description = "also print every timed sample (max over peers), in order, and"
            + " a line in the baselines' format (PCCL world=.. size_mib=.. samples=seconds,...) for"
            + " pccl-bench/summarize.py")
    boolean printSamples;

    @Option(names = "--peer-heap", description = "-Xmx of each peer JVM (default ${DEFAULT-VALUE})")
    String peerHeap = "1g";
    @Option(names = "--prewarm-ops", description = "untimed 1 MiB ops before the first size, so that the JIT has "
            + "compiled the control and data path: C2 compiles a method after thousands of calls, and a method runs "
            + "about once per operation (default ${DEFAULT-VALUE}; 0 measures a cold JVM)")
    int prewarmOps = 2000;
    @Option(names = "--prewarm-large-ops", description = "untimed ops at the largest size after the first (memory)"
            + " pass and before the timed pass: code that runs a few times per slice (writability, flushes, the"
            + " event loops' own loops) reaches C2 only after ~100 large ops at default JIT thresholds, and the"
            + " samples should measure that steady state (default ${DEFAULT-VALUE})")
    int prewarmLargeOps = 100;
    @Option(names = "--settle-max", description = "after a size's warm-up, up to this many more untimed operations"
            + " until the JIT is quiet: no peer's JVM compiled for more than 1 ms during each of "
            + "3 operations in a row, so that the samples measure compiled code, not the compiler (default "
            + "${DEFAULT-VALUE}; 0 turns it off)")
    int settleMax = 40;
    @Mixin
    TempSecurityOptions secure = new TempSecurityOptions();

    @Override
    public Integer call() throws Exception {
        final long maxBytes = bytesOf(Arrays.stream(sizesMib).max().orElse(1));
        // Each peer keeps send and recv of every size for the whole run.
        final long sumBytes = bytesOf(Arrays.stream(sizesMib).sum());
        final TempSecurity security = secure.create();
        try (Master master = security.applyTo(Master.builder().host("127.0.0.1").port(0)).build().start()) {
            final List<ChildJvm> children = new ArrayList<>();
            try {
                for (int i = 0; i < peers; i++) {
                    final List<String> args = new ArrayList<>(List.of("allreduce-peer",
                            "--master", "127.0.0.1:" + master.port(), "--peers", String.valueOf(peers),
                            "--connections", String.valueOf(connections), "--concurrent", String.valueOf(concurrent),
                            "--io-threads", String.valueOf(ioThreads),
                            "--type", type.name(), "--op", op.name(), "--iters", String.valueOf(iters),
                            "--warmup", String.valueOf(warmup), "--prewarm-ops", String.valueOf(prewarmOps),
                            "--prewarm-large-ops", String.valueOf(prewarmLargeOps),
                            "--settle-max", String.valueOf(settleMax),
                            "--sizes-mib", joinSizes()));
                    if (quantize != null) {
                        args.addAll(List.of("--quantize", quantize.name()));
                    }
                    args.addAll(security.peerArgs(i));
                    children.add(ChildJvm.start("peer" + i, List.of("-Xmx" + peerHeap,
                            "-XX:MaxDirectMemorySize=" + (2 * sumBytes + 2 * maxBytes + (512L << 20)),
                            "-Dio.netty.leakDetection.level=disabled"), BenchMain.class.getName(), args));
                }
                return collect(children);
            } finally {
                for (ChildJvm c : children) {
                    c.close();
                }
            }
        }
    }

    /** A size in MiB as bytes, the one conversion every pass and the operand map use. */
    static long bytesOf(final double mib) {
        return (long) (mib * 1024 * 1024);
    }

    private static String mibLabel(final double mib) {
        return mib == Math.rint(mib) ? Long.toString((long) mib) : Double.toString(mib);
    }

    private String joinSizes() {
        final StringBuilder sb = new StringBuilder();
        for (double s : sizesMib) {
            sb.append(sb.length() == 0 ? "" : ",").append(s);
        }
        return sb.toString();
    }

    private int collect(final List<ChildJvm> children) throws InterruptedException {
        System.out.printf(Locale.ROOT, "# pccl-java ring all-reduce: W=%d type=%s op=%s%s connections=%d concurrent=%d"
                        + " iters=%d warmup=%d prewarm-ops=%d prewarm-large-ops=%d settle-max=%d%n", peers, type, op,
                quantize == null ? "" : " quantized=MIN_MAX/" + quantize, connections, concurrent, iters, warmup,
                prewarmOps, prewarmLargeOps, settleMax);
        System.out.printf(Locale.ROOT, "%14s %12s %12s %12s %12s %10s %12s %7s%n", "size(B)", "count", "time(us)",
                "algbw(GB/s)", "busbw(GB/s)", "min(us)", "peakMem(MiB)", "settle");
        final long[] peakMem = new long[sizesMib.length];
        final int[] settleOps = new int[sizesMib.length];
        final long[][][] samples = new long[sizesMib.length][children.size()][iters];
        for (int p = 0; p < children.size(); p++) {
            final ChildJvm c = children.get(p);
            for (int s = 0; s < sizesMib.length; s++) {
                final String mem = c.awaitLine(l -> l.startsWith("MEM "), 600_000, System.err);
                peakMem[s] = Math.max(peakMem[s], Long.parseLong(mem.split(" ")[2]));
            }
            for (int s = 0; s < sizesMib.length; s++) {
                final String settle = c.awaitLine(l -> l.startsWith("SETTLE "), 600_000, System.err);
                settleOps[s] = Integer.parseInt(settle.split(" ")[2]);
                for (int i = 0; i < iters; i++) {
                    final String line = c.awaitLine(l -> l.startsWith("SAMPLE "), 600_000, System.err);
                    samples[s][p][i] = Long.parseLong(line.split(" ")[3]);
                }
            }
        }
        for (int s = 0; s < sizesMib.length; s++) {
            final long bytes = bytesOf(sizesMib[s]);
            final long[] perIter = new long[iters];
            for (int i = 0; i < iters; i++) {
                for (long[] perPeer : samples[s]) {
                    perIter[i] = Math.max(perIter[i], perPeer[i]);
                }
            }
            if (printSamples) {
                final StringBuilder line = new StringBuilder("# samples(us) " + bytes + ":");
                for (long ns : perIter) {
                    line.append(' ').append(ns / 1000);
                }
                System.out.println(line);
                // The baselines' line format (seconds), so that one summarizer pools every library's samples.
                final StringBuilder pooled = new StringBuilder(String.format(Locale.ROOT,
                        "PCCL world=%d size_mib=%s iters=%d samples=", peers, mibLabel(sizesMib[s]), iters));
                for (int i = 0; i < iters; i++) {
                    pooled.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f", perIter[i] / 1e9));
                }
                System.out.println(pooled);
            }
            Arrays.sort(perIter);
            final double medianNs = iters % 2 == 1 ? perIter[iters / 2]
                    : (perIter[iters / 2 - 1] + perIter[iters / 2]) / 2.0;
            final double algbw = bytes / medianNs;
            final double busbw = algbw * 2.0 * (peers - 1) / peers;
            System.out.printf(Locale.ROOT, "%14d %12d %12.1f %12.3f %12.3f %10.1f %12.1f %7d%n", bytes,
                    bytes / type.sizeBytes(), medianNs / 1e3, algbw, busbw, perIter[0] / 1e3, peakMem[s] / 1048576.0,
                    settleOps[s]);
        }
        int failures = 0;
        for (ChildJvm c : children) {
            final int rc = c.waitFor(60_000);
            if (rc != 0) {
                System.err.println(c.name() + " exited with " + rc);
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /**
     * One benchmark peer (runs in its own JVM): joins, waits for the full world, then runs the timed loop and
     * prints {@code MEM <size> <peakExtraBytes>} (first pass), then per size {@code SETTLE <size> <ops>} and
     * {@code SAMPLE <size> <iter> <nanos>} lines.
     *
     * <p>Not thread-safe; runs once on the main thread.
     */
    @Command(name = "allreduce-peer", hidden = true, description = "internal: one peer of the allreduce benchmark")
    public static final class Peer implements Callable<Integer> {
        @Option(names = "--master", required = true)
        String master;
        @Option(names = "--peers")
        int peers = 2;
        @Option(names = "--sizes-mib", split = ",")
        double[] sizesMib = {1};
        @Option(names = "--connections")
        int connections = 4;
        @Option(names = "--io-threads")
        int ioThreads;
        @Option(names = "--concurrent")
        int concurrent = 1;
        @Option(names = "--type")
        DataType type = DataType.FLOAT32;
        @Option(names = "--op")
        ReduceOp op = ReduceOp.SUM;
        @Option(names = "--quantize")
        DataType quantize;
        @Option(names = "--iters")
        int iters = 5;
        @Option(names = "--warmup")
        int warmup = 2;
        @Option(names = "--prewarm-ops")
        int prewarmOps;
        @Option(names = "--prewarm-large-ops")
        int prewarmLargeOps;
        @Option(names = "--settle-max")
        int settleMax;
        @Mixin
        SecurityOptions security = new SecurityOptions();
        /** Operands per size in bytes, allocated once. */
        private final Map<Long, ByteBuffer[][]> operandsBySize = new HashMap<>();

        @Override
        public Integer call() throws Exception {
            final Communicator.Builder builder = Communicator.builder().masterAddress(master).peerBasePort(0)
                    .connectionsPerPeer(connections).connectTimeout(Duration.ofSeconds(60))
                    .topologyTimeout(Duration.ofSeconds(60));
            if (ioThreads > 0) {
                builder.ioThreads(ioThreads);
            }
            security.applyTo(builder);
            try (Communicator comm = builder.build()) {
                comm.connect();
                while (comm.peerGroupWorldSize() < peers) {
                    comm.updateTopology();
                }
                final ByteBuffer barrier = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
                final ReduceDescriptor barrierOp = ReduceDescriptor.of(1, DataType.INT32, ReduceOp.SUM)
                        .tag(BARRIER_TAG);
                prewarm(comm);
                // Pass 1 (untimed): each size's first operations, with the memory probe running, so that memory
                // the library pools for a size counts; it also warms the JIT for every size's code paths.
                for (double sizeMib : sizesMib) {
                    runSize(comm, bytesOf(sizeMib), barrier, barrierOp, false);
                }
                prewarmLarge(comm, barrier, barrierOp);
                // Pass 2: the timed samples.
                for (double sizeMib : sizesMib) {
                    runSize(comm, bytesOf(sizeMib), barrier, barrierOp, true);
                }
            }
            return 0;
        }

        private void prewarm(final Communicator comm) {
            final int count = (1 << 20) / 4;
            final ByteBuffer send = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
            final ByteBuffer recv = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
            final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM).tag(BARRIER_TAG + 1);
            for (int i = 0; i < prewarmOps; i++) {
                comm.allReduce(send, recv, d);
            }
        }

        /**
         * Untimed operations at the largest size, after the memory pass (so that they do not grow the pools before
         * the probe runs) and before the timed one.
         */
        private void prewarmLarge(final Communicator comm, final ByteBuffer barrier, final ReduceDescriptor barrierOp)
                throws Exception {
            final long bytes = bytesOf(Arrays.stream(sizesMib).max().orElse(1));
            final ByteBuffer[][] operands = operands(bytes);
            final ReduceDescriptor[] ops = descriptors((int) (bytes / concurrent));
            final CompletableFuture<?>[] futures = new CompletableFuture<?>[concurrent];
            for (int i = 0; i < prewarmLargeOps; i++) {
                runOnce(comm, operands[0], operands[1], ops, futures, barrier, barrierOp);
            }
        }

        private ReduceDescriptor[] descriptors(final int perOpBytes) {
            final ReduceDescriptor[] ops = new ReduceDescriptor[concurrent];
            for (int k = 0; k < concurrent; k++) {
                final ReduceDescriptor d = ReduceDescriptor.of(perOpBytes / type.sizeBytes(), type, op).tag(k);
                ops[k] = quantize == null ? d : d.quantization(Quantization.MIN_MAX, quantize);
            }
            return ops;
        }

        /** One barrier, then one round of operations; returns the round's nanoseconds. */
        private long runOnce(final Communicator comm, final ByteBuffer[] send, final ByteBuffer[] recv,
                             final ReduceDescriptor[] ops, final CompletableFuture<?>[] futures,
                             final ByteBuffer barrier, final ReduceDescriptor barrierOp) throws Exception {
            comm.allReduce(barrier, barrier, barrierOp);
            final long t0 = System.nanoTime();
            for (int k = 0; k < concurrent; k++) {
                futures[k] = comm.allReduceAsync(send[k], recv[k], ops[k]);
            }
            CompletableFuture.allOf(futures).get(10, TimeUnit.MINUTES);
            return System.nanoTime() - t0;
        }

        /**
         * Untimed rounds until the JIT is quiet on every peer: no JVM compiled for more than 1 ms during each of 3
         * rounds in a row (the largest delta is agreed on with a MAX all-reduce, so all peers stop together), or
         * {@code settleMax} rounds.
         *
         * @return the rounds it took
         */
        private int settle(final Communicator comm, final ByteBuffer[] send, final ByteBuffer[] recv,
                           final ReduceDescriptor[] ops, final CompletableFuture<?>[] futures,
                           final ByteBuffer barrier, final ReduceDescriptor barrierOp) throws Exception {
            final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
                return 0;
            }
            final ByteBuffer delta = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
            final ReduceDescriptor maxOp = ReduceDescriptor.of(1, DataType.INT32, ReduceOp.MAX).tag(BARRIER_TAG + 2);
            int quiet = 0;
            int rounds = 0;
            while (quiet < 3 && rounds < settleMax) {
                final long before = jit.getTotalCompilationTime();
                runOnce(comm, send, recv, ops, futures, barrier, barrierOp);
                delta.putInt(0, (int) Math.min(Integer.MAX_VALUE, jit.getTotalCompilationTime() - before));
                comm.allReduce(delta, delta, maxOp);
                quiet = delta.getInt(0) <= 1 ? quiet + 1 : 0;
                rounds++;
            }
            return rounds;
        }

        /** The operands of a size: {@code [send, recv][concurrent]}, allocated on first use and kept. */
        private ByteBuffer[][] operands(final long bytes) {
            return operandsBySize.computeIfAbsent(bytes, b -> allocateOperands((int) (b / concurrent)));
        }

        private ByteBuffer[][] allocateOperands(final int perOpBytes) {
            final ByteBuffer[][] operands = new ByteBuffer[2][concurrent];
            for (int k = 0; k < concurrent; k++) {
                operands[0][k] = ByteBuffer.allocateDirect(perOpBytes).order(ByteOrder.LITTLE_ENDIAN);
                operands[1][k] = ByteBuffer.allocateDirect(perOpBytes).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 4 <= perOpBytes; i += 4) {
                    operands[0][k].putInt(i, type.isFloatingPoint() ? Float.floatToRawIntBits(1.0f) : 1);
                }
            }
            return operands;
        }

        private void runSize(final Communicator comm, final long bytes, final ByteBuffer barrier,
                             final ReduceDescriptor barrierOp, final boolean timed) throws Exception {
            final int perOpBytes = (int) (bytes / concurrent);
            // The same operands serve both passes, so the timed pass leaves no garbage operands behind for a
            // collection (and its freeing of direct memory) to fall into the samples.
            final ByteBuffer[][] operands = operands(bytes);
            final ByteBuffer[] send = operands[0];
            final ByteBuffer[] recv = operands[1];
            final ReduceDescriptor[] ops = descriptors(perOpBytes);
            if (timed) {
                // Untimed: collect the previous size's garbage now rather than during this size's samples.
                System.gc();
            }
            final MemoryProbe probe = new MemoryProbe();
            final CompletableFuture<?>[] futures = new CompletableFuture<?>[concurrent];
            comm.allReduce(barrier, barrier, barrierOp);
            if (!timed) {
                probe.start();
            }
            for (int it = 0; it < warmup; it++) {
                runOnce(comm, send, recv, ops, futures, barrier, barrierOp);
            }
            if (timed) {
                System.out.println("SETTLE " + bytes + " " + settle(comm, send, recv, ops, futures, barrier,
                        barrierOp));
                for (int it = 0; it < iters; it++) {
                    System.out.println("SAMPLE " + bytes + " " + it + " "
                            + runOnce(comm, send, recv, ops, futures, barrier, barrierOp));
                }
            }
            if (!timed) {
                System.out.println("MEM " + bytes + " " + probe.stop());
            }
        }
    }
}
