package io.pccl.bench.kernels;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.ReduceKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Evidence for how {@link ReduceKernels} is written: float32 SUM through different access paths (absolute
 * {@code ByteBuffer} get/put as shipped, {@code FloatBuffer} views made once, {@code sun.misc.Unsafe}, and a plain
 * {@code float[]} loop as the ceiling).
 *
 * <p>Run (after {@code mvn -q -pl pccl-bench -am package -DskipTests}):
 * {@code java -cp pccl-bench/target/pccl-bench.jar org.openjdk.jmh.Main KernelVariantsBenchmark -f 1 -wi 2 -i 3}.
 *
 * <p>Confined to the JMH worker thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelVariantsBenchmark {
    private static final sun.misc.Unsafe UNSAFE;
    private static final long ADDRESS_OFFSET;
    private static final int BLOCK = 2048;

    static {
        try {
            final Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            UNSAFE = (sun.misc.Unsafe) field.get(null);
            ADDRESS_OFFSET = UNSAFE.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Buffer size in bytes. */
    @Param({"4096", "67108864"})
    public int sizeBytes;

    /** Direct or heap buffers. */
    @Param({"true", "false"})
    public boolean direct;

    private ByteBuffer acc;
    private ByteBuffer in;
    private FloatBuffer accView;
    private FloatBuffer inView;
    private float[] accArray;
    private float[] inArray;
    private Object accBase;
    private long accAddress;
    private Object inBase;
    private long inAddress;
    private int count;
    private final float[] scratchA = new float[BLOCK];
    private final float[] scratchB = new float[BLOCK];

    /** Allocates and fills the buffers. */
    @Setup(Level.Trial)
    public void setUp() {
        count = sizeBytes / 4;
        acc = allocate();
        in = allocate();
        for (int i = 0; i < count; i++) {
            acc.putFloat(i * 4, i * 0.5f);
            in.putFloat(i * 4, 1.0f);
        }
        accView = acc.asFloatBuffer();
        inView = in.asFloatBuffer();
        accArray = new float[count];
        inArray = new float[count];
        java.util.Arrays.fill(inArray, 1.0f);
        accBase = direct ? null : acc.array();
        accAddress = direct ? UNSAFE.getLong(acc, ADDRESS_OFFSET) : UNSAFE.arrayBaseOffset(byte[].class);
        inBase = direct ? null : in.array();
        inAddress = direct ? UNSAFE.getLong(in, ADDRESS_OFFSET) : UNSAFE.arrayBaseOffset(byte[].class);
    }

    private ByteBuffer allocate() {
        return (direct ? ByteBuffer.allocateDirect(sizeBytes) : ByteBuffer.allocate(sizeBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The shipped kernel. */
    @Benchmark
    public void kernel() {
        ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, acc, 0, in, 0, count);
    }

    /** FloatBuffer views created once. */
    @Benchmark
    public void floatBufferView() {
        final FloatBuffer a = accView;
        final FloatBuffer b = inView;
        final int n = count;
        for (int i = 0; i < n; i++) {
            a.put(i, a.get(i) + b.get(i));
        }
    }

    /** Unsafe raw access (heap: byte[] base, direct: address). */
    @Benchmark
    public void unsafe() {
        final Object ab = accBase;
        final Object bb = inBase;
        final long a = accAddress;
        final long b = inAddress;
        final long n = (long) count << 2;
        for (long o = 0; o < n; o += 4) {
            UNSAFE.putFloat(ab, a + o, UNSAFE.getFloat(ab, a + o) + UNSAFE.getFloat(bb, b + o));
        }
    }

    /** Unsafe raw access with an int induction variable (a counted loop for C2). */
    @Benchmark
    public void unsafeIntLoop() {
        final Object ab = accBase;
        final Object bb = inBase;
        final long a = accAddress;
        final long b = inAddress;
        final int n = count;
        for (int i = 0; i < n; i++) {
            final long o = (long) i << 2;
            UNSAFE.putFloat(ab, a + o, UNSAFE.getFloat(ab, a + o) + UNSAFE.getFloat(bb, b + o));
        }
    }

    /** Copies blocks into float[] scratch with Unsafe.copyMemory, adds the arrays, copies back. */
    @Benchmark
    public void unsafeBlocks() {
        final Object ab = accBase;
        final Object bb = inBase;
        final long a = accAddress;
        final long b = inAddress;
        final float[] x = scratchA;
        final float[] y = scratchB;
        final long floatBase = UNSAFE.arrayBaseOffset(float[].class);
        final int n = count;
        for (int start = 0; start < n; start += BLOCK) {
            final int len = Math.min(BLOCK, n - start);
            final long bytes = (long) len << 2;
            final long o = (long) start << 2;
            UNSAFE.copyMemory(ab, a + o, x, floatBase, bytes);
            UNSAFE.copyMemory(bb, b + o, y, floatBase, bytes);
            for (int i = 0; i < len; i++) {
                x[i] += y[i];
            }
            UNSAFE.copyMemory(x, floatBase, ab, a + o, bytes);
        }
    }

    /** The ceiling: plain float arrays (ignores {@code direct}). */
    @Benchmark
    public void floatArray() {
        final float[] a = accArray;
        final float[] b = inArray;
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
    }
}
