package io.pccl.bench.kernels;

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
import java.util.concurrent.TimeUnit;

/**
 * Memory-bandwidth baseline for {@link ReduceKernelBenchmark}: copies one direct buffer into another of the same
 * size with the absolute bulk {@code ByteBuffer.put(int, ByteBuffer, int, int)} (no position changes, no
 * allocation). A reduce reads two streams and writes one; a copy reads one and writes one (plus the
 * read-for-ownership of the destination), so at sizes beyond the caches the two move about the same bytes.
 *
 * <p>Run (after {@code mvn -q -pl pccl-bench -am package -DskipTests}):
 * {@code java -cp pccl-bench/target/pccl-bench.jar org.openjdk.jmh.Main 'MemoryCopyBenchmark' -p sizeBytes=67108864
 * -f 1 -wi 2 -i 3 -prof gc}.
 *
 * <p>Confined to the JMH worker thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MemoryCopyBenchmark {
    /** Bytes copied per operation; the same sizes as {@link ReduceKernelBenchmark}. */
    @Param({"4096", "1048576", "67108864"})
    public int sizeBytes;

    private ByteBuffer src;
    private ByteBuffer dst;

    /** Allocates and fills the buffers. */
    @Setup(Level.Trial)
    public void setUp() {
        src = ByteBuffer.allocateDirect(sizeBytes);
        dst = ByteBuffer.allocateDirect(sizeBytes);
        for (int i = 0; i < sizeBytes; i++) {
            src.put(i, (byte) i);
        }
    }

    /**
     * Copies {@code sizeBytes} from {@code src} to {@code dst}.
     *
     * @return the destination, so the copy cannot be eliminated
     */
    @Benchmark
    public ByteBuffer copy() {
        return dst.put(0, src, 0, sizeBytes);
    }
}
