package io.pccl.bench.kernels;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.reduce.HalfFloats;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of {@link ReduceKernels#accumulate} and {@link ReduceKernels#combine} (beside the copy-then-accumulate
 * it replaces) per data type, op, size and buffer kind; compare with
 * {@link MemoryCopyBenchmark} at the same size (a reduce of N bytes should take no more than 1/0.8 of a copy of N
 * bytes once the data does not fit in cache). The input holds ones and the accumulator small values, so products
 * stay finite and normal.
 *
 * <p>Build, then run a short float32 SUM vs copy comparison with allocation profiling:
 * <pre>
 * mvn -q -pl pccl-bench -am package -DskipTests
 * java -cp pccl-bench/target/pccl-bench.jar org.openjdk.jmh.Main 'ReduceKernelBenchmark|MemoryCopyBenchmark' \
 *     -p type=FLOAT32 -p op=SUM -p sizeBytes=67108864 -p direct=true -f 1 -wi 2 -i 3 -prof gc
 * </pre>
 * A full run (all default parameters) takes about ten minutes; CI never runs benchmarks.
 *
 * <p>Confined to the JMH worker thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReduceKernelBenchmark {
    /** Element type. */
    @Param({"FLOAT32", "FLOAT64", "BFLOAT16", "FLOAT16", "INT32", "UINT8"})
    public DataType type;

    /** Reduction. */
    @Param({"SUM", "MAX"})
    public ReduceOp op;

    /** Bytes per operand. */
    @Param({"4096", "1048576", "67108864"})
    public int sizeBytes;

    /** Direct or heap buffers (both operands). */
    @Param({"true", "false"})
    public boolean direct;

    private ByteBuffer acc;
    private ByteBuffer in;
    private ByteBuffer dst;
    private int count;

    /** Allocates and fills the buffers. */
    @Setup(Level.Trial)
    public void setUp() {
        count = sizeBytes / type.sizeBytes();
        acc = allocate();
        in = allocate();
        dst = allocate();
        for (int i = 0; i < count; i++) {
            final int index = i * type.sizeBytes();
            fill(acc, index, i & 0xF);
            fill(in, index, 1);
        }
    }

    private ByteBuffer allocate() {
        return (direct ? ByteBuffer.allocateDirect(sizeBytes) : ByteBuffer.allocate(sizeBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    private void fill(final ByteBuffer buf, final int index, final int value) {
        switch (type) {
            case FLOAT32: buf.putFloat(index, value); break;
            case FLOAT64: buf.putDouble(index, value); break;
            case FLOAT16: buf.putShort(index, HalfFloats.floatToFloat16(value)); break;
            case BFLOAT16: buf.putShort(index, HalfFloats.floatToBfloat16(value)); break;
            default:
                switch (type.sizeBytes()) {
                    case 1: buf.put(index, (byte) value); break;
                    case 2: buf.putShort(index, (short) value); break;
                    case 4: buf.putInt(index, value); break;
                    default: buf.putLong(index, value);
                }
        }
    }

    /** One accumulate over the whole buffer. */
    @Benchmark
    public void accumulate() {
        ReduceKernels.accumulate(type, op, acc, 0, in, 0, count);
    }

    /** One out-of-place combine over the whole buffer: {@code dst = op(acc, in)}. */
    @Benchmark
    public void combine() {
        ReduceKernels.combine(type, op, dst, 0, acc, 0, in, 0, count);
    }

    /**
     * What {@link #combine} replaces in the ring engine: a bulk copy of {@code acc} into {@code dst}, then an
     * accumulate of {@code in} into {@code dst}.
     */
    @Benchmark
    public void copyThenAccumulate() {
        dst.put(0, acc, 0, sizeBytes);
        ReduceKernels.accumulate(type, op, dst, 0, in, 0, count);
    }
}
