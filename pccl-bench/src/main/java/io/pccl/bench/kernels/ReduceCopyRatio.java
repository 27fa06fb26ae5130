package io.pccl.bench.kernels;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A noise-resistant companion to {@link ReduceKernelBenchmark} vs {@link MemoryCopyBenchmark} for shared machines:
 * interleaves one float32 SUM {@link ReduceKernels#accumulate} and one direct-buffer copy of the same size, round
 * after round in one JVM, and prints the minimum and median time of each and the ratio {@code copy / reduce}
 * (1.0 = the reduce runs at memory-copy speed). Sequential JMH runs on a loaded machine measure the load more than
 * the code; interleaving exposes both to the same conditions.
 *
 * <p>Run (after {@code mvn -q -pl pccl-bench -am package -DskipTests}):
 * {@code java -cp pccl-bench/target/pccl-bench.jar io.pccl.bench.kernels.ReduceCopyRatio [sizeBytes] [rounds] [-v]}
 * (defaults 64 MiB, 30 rounds; two passes, the first is warm-up; {@code -v} prints each measured round).
 *
 * <p>Confined to the main thread.
 */
public final class ReduceCopyRatio {
    private ReduceCopyRatio() {
    }

    /**
     * Runs the comparison.
     *
     * @param args optional size in bytes and number of rounds
     */
    public static void main(final String[] args) {
        final int sizeBytes = args.length > 0 ? Integer.parseInt(args[0]) : 64 << 20;
        final int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        final boolean verbose = args.length > 2 && "-v".equals(args[2]);
        final int count = sizeBytes / 4;
        final ByteBuffer src = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer dst = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer acc = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer in = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            src.putFloat(i * 4, i);
            acc.putFloat(i * 4, i & 0xF);
            in.putFloat(i * 4, 1.0f);
        }
        // Warm up the way the ring engine uses the kernel (many slices), so that the measured code is the normally
        // compiled method rather than an on-stack-replacement compilation of the first huge call.
        final int warmCount = Math.min(count, 4096);
        for (int k = 0; k < 20_000; k++) {
            ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, acc, 0, in, 0, warmCount);
            dst.put(0, src, 0, warmCount * 4);
        }
        final int reps = Math.max(1, (64 << 20) / sizeBytes);
        final long[] copyNs = new long[rounds];
        final long[] reduceNs = new long[rounds];
        for (int pass = 0; pass < 2; pass++) {
            for (int r = 0; r < rounds; r++) {
                final long t0 = System.nanoTime();
                for (int k = 0; k < reps; k++) {
                    dst.put(0, src, 0, sizeBytes);
                }
                final long t1 = System.nanoTime();
                for (int k = 0; k < reps; k++) {
                    ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, acc, 0, in, 0, count);
                }
                final long t2 = System.nanoTime();
                copyNs[r] = (t1 - t0) / reps;
                reduceNs[r] = (t2 - t1) / reps;
            }
        }
        // Each round's copy and reduce ran back to back, so their ratio is exposed to the same machine conditions;
        // on a shared VM the reduce alone slows down in stretches of seconds that leave the copy nearly untouched.
        final double[] paired = new double[rounds];
        final StringBuilder sequence = new StringBuilder();
        for (int r = 0; r < rounds; r++) {
            paired[r] = (double) copyNs[r] / reduceNs[r];
            sequence.append(String.format(" %.0f/%.0f", copyNs[r] / 1e3, reduceNs[r] / 1e3));
        }
        if (verbose) {
            System.out.println("per round, copy/reduce us:" + sequence);
        }
        Arrays.sort(paired);
        Arrays.sort(copyNs);
        Arrays.sort(reduceNs);
        final long copyMin = copyNs[0];
        final long copyMedian = copyNs[rounds / 2];
        final long reduceMin = reduceNs[0];
        final long reduceMedian = reduceNs[rounds / 2];
        System.out.printf("size %d B: copy min %.1f us median %.1f us; float32 SUM min %.1f us median %.1f us%n",
                sizeBytes, copyMin / 1e3, copyMedian / 1e3, reduceMin / 1e3, reduceMedian / 1e3);
        System.out.printf("copy/reduce ratio: min %.2f, median %.2f, median of per-round ratios %.2f%n",
                (double) copyMin / reduceMin, (double) copyMedian / reduceMedian, paired[rounds / 2]);
    }
}
