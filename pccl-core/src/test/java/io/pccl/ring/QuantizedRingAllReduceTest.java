package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.Quantization;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.quant.ZeroPointScaleMeta;
import io.pccl.ring.local.LocalRingNetwork;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * MinMax-quantized ring all-reduce over the in-memory transport: every source type, wire type and op at W = 2, 3,
 * 4 and the counts of the plain matrix, against the scalar model of the quantized ring
 * ({@link QuantizedRingReference}, bit for bit), bit identity across peers, the quantization error against the
 * exact sum, the bytes on the wire, and malformed quantized frames.
 *
 * <p>Runs on the test thread; the engines are shared by the class.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QuantizedRingAllReduceTest {
    private static final long SEED = 0x9a17L;
    private static final int SMALL_SLICE = 4096;
    private static final int BIG_SLICE = 64 * 1024;
    private static RingAllReduce smallSlices;
    private static RingAllReduce bigSlices;
    private static long nextSeq = 1;

    @BeforeAll
    static void startEngines() {
        System.out.println("seed " + SEED);
        smallSlices = RingAllReduce.builder().sliceBytes(SMALL_SLICE).threads(2).build();
        bigSlices = RingAllReduce.builder().sliceBytes(BIG_SLICE).threads(2).build();
    }

    @AfterAll
    static void stopEngines() {
        smallSlices.close();
        bigSlices.close();
    }

    static Stream<Arguments> typesAndOps() {
        final List<Arguments> args = new ArrayList<>();
        for (final DataType source : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            for (final DataType wire : new DataType[] {DataType.UINT8, DataType.UINT16, DataType.UINT32,
                DataType.UINT64}) {
                for (final ReduceOp op : ReduceOp.values()) {
                    args.add(Arguments.of(source, wire, op));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} as {1} {2}")
    @MethodSource("typesAndOps")
    void shouldMatchTheQuantizedRingModelBitForBitOnEveryPeer(final DataType source, final DataType wire,
                                                              final ReduceOp op) throws Exception {
        matrix(Quantization.MIN_MAX, source, wire, op);
    }

    static Stream<Arguments> zeroPointScaleCases() {
        final List<Arguments> args = new ArrayList<>();
        for (final DataType source : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            for (final DataType wire : new DataType[] {DataType.UINT8, DataType.INT8, DataType.UINT16, DataType.INT16,
                DataType.UINT32, DataType.INT32, DataType.UINT64, DataType.INT64}) {
                for (final ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.AVG}) {
                    args.add(Arguments.of(source, wire, op));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "ZPS {0} as {1} {2}")
    @MethodSource("zeroPointScaleCases")
    void shouldMatchTheZeroPointScaleRingModelBitForBitOnEveryPeer(final DataType source, final DataType wire,
                                                                   final ReduceOp op) throws Exception {
        matrix(Quantization.ZERO_POINT_SCALE, source, wire, op);
    }

    private static void matrix(final Quantization algorithm, final DataType source, final DataType wire,
                               final ReduceOp op) throws Exception {
        for (int w = 2; w <= 4; w++) {
            for (final long count : new long[] {0, 1, w - 1, 1025}) {
                runAndVerify(smallSlices, SMALL_SLICE, algorithm, source, wire, op, count, w, count % 2 == 0);
            }
            runAndVerify(bigSlices, BIG_SLICE, algorithm, source, wire, op, 203_530, w, w % 2 == 1);
        }
    }

    @Test
    void shouldFailEverySurvivorRestoreItsInputAndMatchTheModelOnRetryWhenAPeerIsKilled() throws Exception {
        final int w = 4;
        final int count = 203_530;
        final ByteBuffer[] in = QuantizedRingReference.inputs(DataType.FLOAT32, count, w, -1, 1, SEED + 77);
        final ByteBuffer[] bufs = new ByteBuffer[w];
        final LocalRingNetwork net = new LocalRingNetwork(w, 2);
        final RingOperation[] ops = new RingOperation[w];
        final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM).tag(5)
                .quantization(Quantization.MIN_MAX, DataType.UINT8);
        // Rank 0's link stalls, so the operation cannot finish before the kill.
        net.stall(0, true);
        final long seq = nextSeq++;
        for (int r = 0; r < w; r++) {
            bufs[r] = RingAllReduceTest.copyOf(in[r]);
            ops[r] = bigSlices.start(new RingOpContext(RingAllReduceTest.ring(w), r, seq, d, bufs[r], bufs[r],
                    net.transport(r)));
        }
        RingAllReduceTest.awaitUntil(() -> ops[2].rxBytes() > 0 && ops[3].rxBytes() > 0,
                "ranks 2 and 3 received data");
        final long killNs = System.nanoTime();
        net.kill(2);
        for (final int r : new int[] {0, 1, 3}) {
            final Throwable cause = RingAllReduceTest.failureOf(ops[r], 1000);
            assertTrue(cause instanceof PcclException && ((PcclException) cause).isRetryable(), "rank " + r + ": "
                    + cause);
            assertEquals(in[r], bufs[r].duplicate().clear(), "rank " + r + " input restored");
        }
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killNs);
        assertTrue(elapsedMs < 1000, "survivors failed after " + elapsedMs + " ms");
        net.close();
        final ByteBuffer[] survivors = {bufs[0], bufs[1], bufs[3]};
        final ByteBuffer expected = QuantizedRingReference.expected(DataType.FLOAT32, DataType.UINT8, ReduceOp.SUM,
                new ByteBuffer[] {in[0], in[1], in[3]}, count, BIG_SLICE);
        final LocalRingNetwork retryNet = new LocalRingNetwork(3, 2);
        final RingOperation[] retry = new RingOperation[3];
        final long retrySeq = nextSeq++;
        for (int r = 0; r < 3; r++) {
            retry[r] = bigSlices.start(new RingOpContext(new long[] {100, 101, 103}, r, retrySeq, d, survivors[r],
                    survivors[r], retryNet.transport(r)));
        }
        for (int r = 0; r < 3; r++) {
            assertEquals(3, retry[r].future().get(30, TimeUnit.SECONDS).worldSize());
            assertEquals(expected, survivors[r].duplicate().clear(), "retry rank " + r);
        }
        RingAllReduceTest.assertClean(retryNet, 3);
    }

    @Test
    void shouldStayWithinTheQuantizationErrorOfTheExactSum() throws Exception {
        // Inputs in [-1, 1): a partial sum of k inputs spans at most 2k, so the k-th hop's rounding costs at most
        // k / Tmax, and the final one W / Tmax: W (W + 1) / (2 Tmax) in all.
        for (final DataType wire : new DataType[] {DataType.UINT8, DataType.UINT16}) {
            for (int w = 2; w <= 4; w++) {
                final int count = 50_000;
                final ByteBuffer[] in = QuantizedRingReference.inputs(DataType.FLOAT32, count, w, -1, 1, SEED + w);
                final ByteBuffer[] out = run(smallSlices, DataType.FLOAT32, wire, ReduceOp.SUM, count, in, false);
                final double tmax = wire == DataType.UINT8 ? 255 : 65535;
                final double bound = w * (w + 1) / (2 * tmax) * 1.01 + 1e-5;
                double worst = 0;
                for (int i = 0; i < count; i++) {
                    double exact = 0;
                    for (int r = 0; r < w; r++) {
                        exact += in[r].getFloat(i * 4);
                    }
                    worst = Math.max(worst, Math.abs(out[0].getFloat(i * 4) - exact));
                }
                System.out.printf("W %d %s: largest error %.3g, bound %.3g%n", w, wire, worst, bound);
                assertTrue(worst <= bound, "W " + w + " " + wire + ": error " + worst + " above " + bound);
                assertTrue(worst > 0, "W " + w + " " + wire + ": no quantization error at all: not quantized?");
            }
        }
    }

    @Test
    void shouldRejectTypePairsAndAlgorithmsItCannotQuantize() {
        final LocalRingNetwork net = new LocalRingNetwork(2, 1);
        final ByteBuffer buf = ByteBuffer.allocate(400);
        final PcclException integer = assertThrows(PcclException.class, () -> smallSlices.start(new RingOpContext(
                RingAllReduceTest.ring(2), 0, nextSeq++, ReduceDescriptor.of(100, DataType.INT32, ReduceOp.SUM)
                .quantization(Quantization.MIN_MAX, DataType.UINT8), buf, buf, net.transport(0))));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, integer.code());
        assertTrue(integer.getMessage().contains("INT32"), integer.getMessage());
        final PcclException sameType = assertThrows(PcclException.class, () -> smallSlices.start(new RingOpContext(
                RingAllReduceTest.ring(2), 0, nextSeq++, ReduceDescriptor.of(100, DataType.FLOAT32, ReduceOp.SUM)
                .quantization(Quantization.MIN_MAX, DataType.INT8), buf, buf, net.transport(0))));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, sameType.code());
        assertTrue(sameType.getMessage().contains("INT8") && sameType.getMessage().contains("UINT8"),
                sameType.getMessage());
        final PcclException zps = assertThrows(PcclException.class, () -> smallSlices.start(new RingOpContext(
                RingAllReduceTest.ring(2), 0, nextSeq++, ReduceDescriptor.of(100, DataType.FLOAT32, ReduceOp.MAX)
                .quantization(Quantization.ZERO_POINT_SCALE, DataType.UINT8), buf, buf, net.transport(0))));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, zps.code());
        assertTrue(zps.getMessage().contains("MAX"), zps.getMessage());
        assertEquals(0, net.transport(0).inbound().registeredOperations());
        net.close();
    }

    @Test
    void shouldFailWithProtocolViolationOnMalformedQuantizedPayloads() throws Exception {
        // A range that is not finite; a payload that is not range + whole values; more values than the chunk has.
        final ByteBuf nanRange = Unpooled.buffer().writeFloatLE(Float.NaN).writeFloatLE(1f).writeShortLE(7);
        final ByteBuf ragged = Unpooled.buffer().writeFloatLE(0f).writeFloatLE(1f).writeShortLE(7).writeByte(1);
        final ByteBuf tooMany = Unpooled.buffer().writeFloatLE(0f).writeFloatLE(1f).writeZero(2 * 51);
        final String[] expected = {"not a finite range", "payload of 11 bytes", "(51 values)"};
        final ByteBuf[] payloads = {nanRange, ragged, tooMany};
        for (int k = 0; k < payloads.length; k++) {
            final LocalRingNetwork net = new LocalRingNetwork(2, 1);
            final ByteBuffer[] in = QuantizedRingReference.inputs(DataType.FLOAT32, 100, 2, -1, 1, SEED);
            final long seq = nextSeq++;
            final RingOperation op = smallSlices.start(new RingOpContext(RingAllReduceTest.ring(2), 0, seq,
                    ReduceDescriptor.of(100, DataType.FLOAT32, ReduceOp.SUM).tag(4)
                            .quantization(Quantization.MIN_MAX, DataType.UINT16), in[0], in[0], net.transport(0)));
            final ByteBuffer original = RingAllReduceTest.copyOf(in[0]);
            // Rank 0 expects step 0, chunk 1 (50 values) at offset 0 first.
            final ByteBuf frame = Unpooled.buffer();
            DataFrameFlyweight.writeHeader(frame, seq, 4, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 1, 0,
                    payloads[k].readableBytes());
            frame.writeBytes(payloads[k]);
            payloads[k].release();
            net.transport(0).inbound().onFrame(frame);
            final Throwable cause = RingAllReduceTest.failureOf(op, 5000);
            assertEquals(PcclException.Code.PROTOCOL_VIOLATION, ((PcclException) cause).code(), cause.toString());
            assertTrue(cause.getMessage().contains(expected[k]), cause.getMessage());
            assertEquals(original, in[0].duplicate().clear(), "in-place input restored");
            net.close();
        }
    }

    private static void runAndVerify(final RingAllReduce engine, final int sliceBytes, final Quantization algorithm,
                                     final DataType source, final DataType wire, final ReduceOp op, final long count,
                                     final int w, final boolean inPlace) throws Exception {
        final long seed = SEED ^ (source.ordinal() * 131L + wire.ordinal() * 31L + op.ordinal()) ^ (count << 8) ^ w;
        // PROD stays near 1 so that products neither vanish nor overflow; the others span both signs.
        final ByteBuffer[] in = op == ReduceOp.PROD
                ? QuantizedRingReference.inputs(source, count, w, 0.5, 1.5, seed)
                : QuantizedRingReference.inputs(source, count, w, -3, 2, seed);
        final ByteBuffer expected = QuantizedRingReference.expected(algorithm, source, wire, op, in, count,
                sliceBytes);
        final String what = algorithm + " " + source + " as " + wire + " " + op + " W=" + w + " count=" + count
                + (inPlace ? " in place" : "");
        final ByteBuffer[] out = run(engine, algorithm, source, wire, op, count, in, inPlace, sliceBytes, what);
        for (int r = 0; r < w; r++) {
            assertEquals(out[0], out[r], what + ": rank " + r + " not bit-identical to rank 0");
            if (!expected.equals(out[r])) {
                fail(what + ": rank " + r + " differs from the quantized ring model at element "
                        + firstDifference(expected, out[r], source.sizeBytes()));
            }
        }
    }

    private static ByteBuffer[] run(final RingAllReduce engine, final DataType source, final DataType wire,
                                    final ReduceOp op, final long count, final ByteBuffer[] in, final boolean inPlace)
            throws Exception {
        return run(engine, Quantization.MIN_MAX, source, wire, op, count, in, inPlace, SMALL_SLICE,
                source + " as " + wire);
    }

    /** Runs one operation on every rank; returns each rank's result (positioned on the operand). */
    private static ByteBuffer[] run(final RingAllReduce engine, final Quantization algorithm, final DataType source,
                                    final DataType wire, final ReduceOp op, final long count, final ByteBuffer[] in,
                                    final boolean inPlace, final int sliceBytes, final String what)
            throws Exception {
        final int w = in.length;
        final int bytes = (int) (count * source.sizeBytes());
        final LocalRingNetwork net = new LocalRingNetwork(w, 2);
        final ByteBuffer[] send = new ByteBuffer[w];
        final ByteBuffer[] recv = new ByteBuffer[w];
        final RingOperation[] ops = new RingOperation[w];
        final long seq = nextSeq++;
        for (int r = 0; r < w; r++) {
            send[r] = RingAllReduceTest.copyOf(in[r]);
            // Out of place: the operand at a nonzero position, in a buffer of the other kind.
            recv[r] = inPlace ? send[r] : (send[r].isDirect() ? ByteBuffer.allocate(bytes + 16)
                    : ByteBuffer.allocateDirect(bytes + 16)).order(ByteOrder.LITTLE_ENDIAN).position(16);
            ops[r] = engine.start(new RingOpContext(RingAllReduceTest.ring(w), r, seq,
                    ReduceDescriptor.of(count, source, op).tag(7).quantization(algorithm, wire),
                    send[r], recv[r], net.transport(r)));
        }
        final ByteBuffer[] out = new ByteBuffer[w];
        for (int r = 0; r < w; r++) {
            final ReduceInfo info = ops[r].future().get(30, TimeUnit.SECONDS);
            assertEquals(w, info.worldSize(), what);
            final int metaBytes = algorithm == Quantization.MIN_MAX ? 2 * source.sizeBytes()
                    : ZeroPointScaleMeta.SIZE_BYTES;
            assertEquals(QuantizedRingReference.txBytes(metaBytes, source, wire, count, w, r, sliceBytes),
                    info.txBytes(), what + ": bytes sent by rank " + r);
            out[r] = recv[r].duplicate().order(ByteOrder.LITTLE_ENDIAN);
            out[r].position(inPlace ? 0 : 16).limit(out[r].position() + bytes);
            out[r] = out[r].slice().order(ByteOrder.LITTLE_ENDIAN);
            if (!inPlace) {
                assertEquals(in[r], send[r].duplicate().clear(), what + ": send buffer of rank " + r + " modified");
            }
        }
        RingAllReduceTest.assertClean(net, w);
        return out;
    }

    private static int firstDifference(final ByteBuffer a, final ByteBuffer b, final int size) {
        for (int i = 0; i < Math.min(a.limit(), b.limit()); i++) {
            if (a.get(i) != b.get(i)) {
                return i / size;
            }
        }
        return Math.min(a.limit(), b.limit()) / size;
    }
}
