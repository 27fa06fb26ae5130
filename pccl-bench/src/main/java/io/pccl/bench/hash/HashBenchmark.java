package io.pccl.bench.hash;

import io.pccl.hash.Crc32c;
import io.pccl.hash.SimpleHash;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-threaded throughput of simplehash and CRC-32C next to a memory-read baseline (summing the longs of the
 * same buffer). Throughput in GB/s = size / (score in ms) / 1e6.
 *
 * <p>Run: {@code java -jar pccl-bench/target/pccl-bench.jar ... } or, from the classpath,
 * {@code java -cp <cp> org.openjdk.jmh.Main HashBenchmark -f 1 -wi 2 -i 3}.
 *
 * <p>Not thread-safe (JMH state per benchmark thread).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xmx2g", "-XX:MaxDirectMemorySize=2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class HashBenchmark {
    private static final long SEED = 42;

    /** Buffer size in bytes (256 MiB by default). */
    @Param({"268435456"})
    public int sizeBytes;

    /** "direct" or "heap". */
    @Param({"direct", "heap"})
    public String memory;

    private ByteBuffer buf;
    private byte[] array;

    /** Fills the buffer from a fixed seed. */
    @Setup
    public void setup() {
        array = new byte[sizeBytes];
        new Random(SEED).nextBytes(array);
        if ("direct".equals(memory)) {
            buf = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
            buf.put(array).flip();
        } else {
            buf = ByteBuffer.wrap(array).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /**
     * simplehash over the whole buffer.
     *
     * @return the hash
     */
    @Benchmark
    public long simpleHash() {
        return SimpleHash.hash(buf, 0, sizeBytes);
    }

    /**
     * CRC-32C over the whole buffer.
     *
     * @return the CRC
     */
    @Benchmark
    public long crc32c() {
        return Crc32c.hash(buf, 0, sizeBytes);
    }

    /**
     * Baseline: read every long of the buffer once and sum them.
     *
     * @return the sum
     */
    @Benchmark
    public long readBaseline() {
        final ByteBuffer b = buf;
        long s0 = 0;
        long s1 = 0;
        final int n = sizeBytes - 15;
        for (int i = 0; i < n; i += 16) {
            s0 += b.getLong(i);
            s1 += b.getLong(i + 8);
        }
        return s0 + s1;
    }
}
