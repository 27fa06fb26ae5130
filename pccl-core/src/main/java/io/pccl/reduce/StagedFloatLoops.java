package io.pccl.reduce;

import io.pccl.PcclException;
import io.pccl.ReduceOp;

/**
 * Float32 loops behind {@link ReduceKernels} on the raw path ({@link RawMemory}) that let C2 use SIMD: JDK 17's
 * superword pass vectorizes loops over primitive arrays but not raw {@code Unsafe} loads and stores, so each block of
 * {@link #BLOCK_BYTES} is staged through two per-thread {@code float[]} scratch arrays:
 *
 * <pre>
 *   for each block:  x[] &lt;- copy(a)   y[] &lt;- copy(b)   x[i] = op(x[i], y[i])   dst &lt;- copy(x[])
 * </pre>
 *
 * The copies are bulk {@code Unsafe.copyMemory} calls and a block stays in the L1 cache between them, so the extra
 * traffic never reaches memory. The arithmetic is the same Java expression per element as in {@link RawFloatLoops}:
 * IEEE addition and multiplication are exactly rounded and {@link Math#max}/{@link Math#min} are the same functions
 * vectorized, so results are bit-identical (a NaN stays a NaN; its payload is not specified). The whole block is read
 * before any of it is written, so the destination may be exactly the memory of either input. Calls below
 * {@link #MIN_STAGED_BYTES} use the scalar loops, where the per-thread lookup costs more than it saves.
 *
 * <p>Why only float32: the scalar float32 loop is bound by one element per iteration and runs at about 0.7 of a
 * memory copy at 64 MiB; staged, SUM is 1.5x faster in cache and close to copy speed at 64 MiB, MAX 2.5x faster.
 * The scalar float64 loop moves twice the bytes per iteration and is already at copy speed at 64 MiB, and staging
 * made float64 SUM and PROD slower in cache, so float64 stays scalar (measured with interleaved runs, see
 * {@code docs/benchmarks.md}).
 *
 * <p>Allocation: each thread allocates its scratch (two arrays of {@link #BLOCK_BYTES}) on its first staged call and
 * keeps it for the thread's lifetime; later calls allocate nothing.
 *
 * <p>Thread-safe: the scratch arrays are confined to their thread; bounds are validated by the caller, which also
 * keeps the buffers reachable.
 */
final class StagedFloatLoops {
    /**
     * Bytes per staged block. Measured (float32 SUM, interleaved runs, 1 KiB to 8 KiB blocks): 2-3 KiB is fastest at
     * 1 MiB and 64 MiB; 4 KiB is as fast in cache but 10-25 % slower at 64 MiB, 8 KiB slower still.
     */
    static final int BLOCK_BYTES = 2048;
    /** Calls with fewer bytes per operand run the scalar loops: below about 1 KiB staging does not pay. */
    static final int MIN_STAGED_BYTES = 1024;

    private static final int F32_BLOCK = BLOCK_BYTES >>> 2;
    private static final long F32_BASE = RawMemory.AVAILABLE ? RawMemory.UNSAFE.arrayBaseOffset(float[].class) : 0;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final int CACHE_LINE_BYTES = 64;

    /**
     * Keeps the destination pre-touch loads alive (a load whose value is unused may be removed by the JIT). Written
     * once per call by any thread, never read for its value: a benign race.
     */
    private static int touchSink;

    private StagedFloatLoops() {
    }

    static void combineF32(final ReduceOp op, final Object db, final long d,
            final Object ab, final long a, final Object bb, final long b, final int count) {
        if (count < (MIN_STAGED_BYTES >>> 2)) {
            RawFloatLoops.combineF32(op, db, d, ab, a, bb, b, count);
            return;
        }
        final sun.misc.Unsafe unsafe = RawMemory.UNSAFE;
        final Scratch scratch = SCRATCH.get();
        final float[] x = scratch.f32x;
        final float[] y = scratch.f32y;
        // An out-of-place destination is usually not in cache (the ring writes each byte of its result once): load one
        // byte per line of the block before the inputs, so its misses overlap theirs instead of stalling the bulk
        // store at the end. Measured at 64 MiB: 7.8 ms with the loads, 11.0 ms without (copy: 5.7 ms).
        final boolean touchDst = !(db == ab && d == a) && !(db == bb && d == b);
        int touched = 0;
        for (int start = 0; start < count; start += F32_BLOCK) {
            final int n = Math.min(F32_BLOCK, count - start);
            final long o = (long) start << 2;
            final long bytes = (long) n << 2;
            if (touchDst) {
                for (long k = 0; k < bytes; k += CACHE_LINE_BYTES) {
                    touched += unsafe.getByte(db, d + o + k);
                }
            }
            unsafe.copyMemory(ab, a + o, x, F32_BASE, bytes);
            unsafe.copyMemory(bb, b + o, y, F32_BASE, bytes);
            switch (op) {
                case SUM:
                case AVG:
                    sumF32(x, y, n);
                    break;
                case PROD:
                    prodF32(x, y, n);
                    break;
                case MAX:
                    maxF32(x, y, n);
                    break;
                case MIN:
                    minF32(x, y, n);
                    break;
                default:
                    throw new PcclException(PcclException.Code.INTERNAL, "no kernel for op " + op);
            }
            unsafe.copyMemory(x, F32_BASE, db, d + o, bytes);
        }
        if (touchDst) {
            touchSink = touched;
        }
    }

    private static void sumF32(final float[] x, final float[] y, final int n) {
        for (int i = 0; i < n; i++) {
            x[i] = x[i] + y[i];
        }
    }

    private static void prodF32(final float[] x, final float[] y, final int n) {
        for (int i = 0; i < n; i++) {
            x[i] = x[i] * y[i];
        }
    }

    private static void maxF32(final float[] x, final float[] y, final int n) {
        for (int i = 0; i < n; i++) {
            x[i] = Math.max(x[i], y[i]);
        }
    }

    private static void minF32(final float[] x, final float[] y, final int n) {
        for (int i = 0; i < n; i++) {
            x[i] = Math.min(x[i], y[i]);
        }
    }

    /** One thread's staging arrays. Confined to its thread. */
    private static final class Scratch {
        final float[] f32x = new float[F32_BLOCK];
        final float[] f32y = new float[F32_BLOCK];
    }
}
