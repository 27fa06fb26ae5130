package io.pccl.bench.kernels;

import io.pccl.DataType;
import io.pccl.ReduceOp;
import io.pccl.quant.MinMaxMeta;
import io.pccl.quant.MinMaxQuantizer;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Cost of MinMax quantization per chunk, on direct buffers: the sender's min/max scan plus quantize, and the
 * receiver's dequantize-and-accumulate, and each loop on its own ({@code computeMeta}, {@code quantize},
 * {@code quantizeAndDecode}, {@code dequantizeInto}, {@code dequantizeAccumulate}). Divide a score in microseconds by
 * {@code count / 1000} (262.144 for 1 MiB of float32) for nanoseconds per value.
 *
 * <p>Run (after {@code mvn -q -pl pccl-bench -am package -DskipTests}):
 * {@code java -cp pccl-bench/target/pccl-bench.jar org.openjdk.jmh.Main MinMaxQuantizerBenchmark -f 1 -wi 3 -i 5
 * -prof gc}; {@code -p wire=UINT8} picks one wire type.
 *
 * <p>Confined to the JMH worker thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MinMaxQuantizerBenchmark {
    /** Source type. */
    @Param({"FLOAT32"})
    public DataType source;

    /** Wire type. */
    @Param({"UINT8", "UINT16", "UINT32", "UINT64"})
    public DataType wire;

    /** Bytes of source values per chunk. */
    @Param({"1048576"})
    public int sizeBytes;

    private MinMaxQuantizer quantizer;
    private MinMaxMeta meta;
    private ByteBuffer src;
    private ByteBuffer acc;
    private ByteBuffer q;
    private ByteBuffer decoded;
    private int count;

    /** Allocates and fills the buffers. */
    @Setup(Level.Trial)
    public void setUp() {
        quantizer = MinMaxQuantizer.of(source, wire);
        meta = new MinMaxMeta(source);
        count = sizeBytes / source.sizeBytes();
        src = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        acc = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        q = ByteBuffer.allocateDirect(count * wire.sizeBytes()).order(ByteOrder.LITTLE_ENDIAN);
        decoded = ByteBuffer.allocateDirect(sizeBytes).order(ByteOrder.LITTLE_ENDIAN);
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < count; i++) {
            if (source == DataType.FLOAT32) {
                src.putFloat(i * 4, (float) random.nextGaussian());
            } else {
                src.putDouble(i * 8, random.nextGaussian());
            }
        }
        quantizer.computeMeta(src, 0, count, meta);
        quantizer.quantize(src, 0, q, 0, count, meta);
    }

    /** Sender side: scan for the range, then quantize. */
    @Benchmark
    public void computeMetaAndQuantize() {
        quantizer.computeMeta(src, 0, count, meta);
        quantizer.quantize(src, 0, q, 0, count, meta);
    }

    /** Receiver side: dequantize and add into the accumulator. */
    @Benchmark
    public void dequantizeAccumulate() {
        quantizer.dequantizeAccumulate(ReduceOp.SUM, acc, 0, q, 0, count, meta);
    }

    /** The range scan alone. */
    @Benchmark
    public void computeMeta() {
        quantizer.computeMeta(src, 0, count, meta);
    }

    /** Quantization alone, with the range of the setup. */
    @Benchmark
    public void quantize() {
        quantizer.quantize(src, 0, q, 0, count, meta);
    }

    /** The owner's fused quantize and decode (out of place, so that every run sees the same input). */
    @Benchmark
    public void quantizeAndDecode() {
        quantizer.quantizeAndDecode(src, 0, q, 0, count, meta, decoded, 0);
    }

    /** Decoding into a buffer of the source type. */
    @Benchmark
    public void dequantizeInto() {
        quantizer.dequantizeInto(q, 0, decoded, 0, count, meta);
    }
}
