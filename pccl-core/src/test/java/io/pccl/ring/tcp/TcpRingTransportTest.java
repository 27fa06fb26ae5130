package io.pccl.ring.tcp;

import io.pccl.DataType;
import io.pccl.PeerLostException;
import io.pccl.Quantization;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.ring.RingAllReduce;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.ring.RingTestAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ring all-reduce over loopback TCP (port 0): correctness with W = 3 at 203530 floats, backpressure, concurrent
 * operations over the pool, and a closed peer. Runs on the test thread.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpRingTransportTest {
    private static final long SEED = 77L;
    private static final int COUNT = 203_530;

    @Test
    void shouldAllReduceOverLoopbackTcpWithThreePeers() throws Exception {
        System.out.println("seed " + SEED);
        for (final int sliceBytes : new int[] {1 << 20, 64 << 10}) {
            try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(sliceBytes).build();
                 TcpRing net = new TcpRing(3, 2, sliceBytes)) {
                for (final boolean inPlace : new boolean[] {false, true}) {
                    runAndVerify(engine, net, 3, 10 + (inPlace ? 1 : 0), inPlace);
                }
            }
        }
    }

    @Test
    void shouldStayCorrectUnderBackpressureWithTinyWaterMarks() throws Exception {
        // 16 KiB slices against a 32 KiB high-water mark: the producer pauses and resumes many times per op.
        try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(16 << 10).build();
             TcpRing net = new TcpRing(3, 1, 16 << 10, 32 << 10)) {
            runAndVerify(engine, net, 3, 20, false);
            runAndVerify(engine, net, 3, 21, true);
        }
    }

    @Test
    void shouldRunConcurrentOperationsOverThePool() throws Exception {
        try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(256 << 10).build();
             TcpRing net = new TcpRing(3, 4, 256 << 10)) {
            final int n = 8;
            final ByteBuffer[][] inputs = new ByteBuffer[n][];
            final ByteBuffer[][] recv = new ByteBuffer[n][3];
            final RingOperation[][] ops = new RingOperation[n][3];
            for (int k = 0; k < n; k++) {
                inputs[k] = RingTestAccess.inputs(DataType.FLOAT32, 50_000, 3, SEED + k);
                for (int r = 0; r < 3; r++) {
                    recv[k][r] = ByteBuffer.allocateDirect(50_000 * 4).order(ByteOrder.LITTLE_ENDIAN);
                    ops[k][r] = engine.start(new RingOpContext(ring(3), r, 100 + k,
                            ReduceDescriptor.of(50_000, DataType.FLOAT32, ReduceOp.SUM).tag(k), inputs[k][r],
                            recv[k][r], net.transports[r]));
                }
            }
            for (int k = 0; k < n; k++) {
                final ByteBuffer expected = RingTestAccess.expected(DataType.FLOAT32, ReduceOp.SUM, inputs[k], 50_000);
                for (int r = 0; r < 3; r++) {
                    ops[k][r].future().get(30, TimeUnit.SECONDS);
                    assertEquals(expected, recv[k][r].duplicate().clear(), "op " + k + " rank " + r);
                }
            }
        }
    }

    @Test
    void shouldStayExactWhenPlacedSlicesAreFoldedOnTheReadingEventLoop() throws Exception {
        // completeOnTransportThreads lets 4- and 8-byte types fold placed slices on the event loop that read them
        // (racing the engine threads for the mailbox); bfloat16 keeps folding on engine threads. Small slices,
        // two operations at once on a pool of two: many placed frames, both paths interleaved.
        final int w = 3;
        final int count = 203_530;
        System.out.println("seed " + SEED);
        try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(64 << 10).completeOnTransportThreads(true)
                .build();
             TcpRing net = new TcpRing(w, 2, 64 << 10)) {
            long seq = 300;
            for (final DataType type : new DataType[] {DataType.FLOAT32, DataType.INT64, DataType.BFLOAT16}) {
                for (final ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX}) {
                    final ByteBuffer[][] inputs = new ByteBuffer[2][];
                    final ByteBuffer[][] recv = new ByteBuffer[2][w];
                    final RingOperation[][] ops = new RingOperation[2][w];
                    for (int k = 0; k < 2; k++) {
                        inputs[k] = RingTestAccess.inputs(type, count, w, SEED + seq + k);
                        for (int r = 0; r < w; r++) {
                            recv[k][r] = ByteBuffer.allocateDirect(count * type.sizeBytes())
                                    .order(ByteOrder.LITTLE_ENDIAN);
                            ops[k][r] = engine.start(new RingOpContext(ring(w), r, seq + k,
                                    ReduceDescriptor.of(count, type, op).tag(k), inputs[k][r], recv[k][r],
                                    net.transports[r]));
                        }
                    }
                    for (int k = 0; k < 2; k++) {
                        final ByteBuffer expected = RingTestAccess.expected(type, op, inputs[k], count);
                        for (int r = 0; r < w; r++) {
                            ops[k][r].future().get(30, TimeUnit.SECONDS);
                            assertEquals(expected, recv[k][r].duplicate().clear(),
                                    type + " " + op + " op " + k + " rank " + r);
                        }
                    }
                    seq += 2;
                }
            }
        }
    }

    @Test
    void shouldAllReduceQuantizedOverLoopbackTcpBitIdenticalToTheModel() throws Exception {
        // Quantized payloads are buffered and decoded, never placed; all-gather payloads wait to be forwarded
        // verbatim. Tiny water marks make the producers pause often; two operations share a pool of two, and the
        // engine may complete on transport threads, as the communicator's does.
        System.out.println("seed " + SEED);
        final int slice = 16 << 10;
        for (int w = 2; w <= 4; w++) {
            try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(slice).completeOnTransportThreads(true)
                    .build();
                 TcpRing net = new TcpRing(w, 2, slice, 32 << 10)) {
                final DataType[] sources = {DataType.FLOAT32, DataType.FLOAT64};
                final DataType[] wires = {DataType.UINT8, DataType.UINT16};
                final ReduceOp[] ops = {ReduceOp.SUM, ReduceOp.AVG};
                final ByteBuffer[][] inputs = new ByteBuffer[2][];
                final ByteBuffer[][] recv = new ByteBuffer[2][w];
                final RingOperation[][] running = new RingOperation[2][w];
                for (int k = 0; k < 2; k++) {
                    inputs[k] = RingTestAccess.quantizedInputs(sources[k], COUNT, w, -2, 3, SEED + 31 * w + k);
                    for (int r = 0; r < w; r++) {
                        // Operation 0 out of place, operation 1 in place.
                        final ByteBuffer send = RingTestAccess.copyOf(inputs[k][r]);
                        recv[k][r] = k == 1 ? send : ByteBuffer.allocateDirect(COUNT * sources[k].sizeBytes())
                                .order(ByteOrder.LITTLE_ENDIAN);
                        running[k][r] = engine.start(new RingOpContext(ring(w), r, 400 + 10 * w + k,
                                ReduceDescriptor.of(COUNT, sources[k], ops[k]).tag(k)
                                        .quantization(Quantization.MIN_MAX, wires[k]), send, recv[k][r],
                                net.transports[r]));
                    }
                }
                for (int k = 0; k < 2; k++) {
                    final String what = "W " + w + " " + sources[k] + " as " + wires[k] + " " + ops[k];
                    final ByteBuffer expected = RingTestAccess.quantizedExpected(sources[k], wires[k], ops[k],
                            inputs[k], COUNT, slice);
                    for (int r = 0; r < w; r++) {
                        final ReduceInfo info = running[k][r].future().get(30, TimeUnit.SECONDS);
                        assertEquals(RingTestAccess.quantizedTxBytes(sources[k], wires[k], COUNT, w, r, slice),
                                info.txBytes(), what + ": bytes sent by rank " + r);
                        assertEquals(expected, recv[k][r].duplicate().clear(), what + " rank " + r);
                    }
                }
            }
        }
    }

    @Test
    void shouldFailNeighboursOfAClosedPeerAndRestoreInput() throws Exception {
        try (RingAllReduce engine = RingAllReduce.builder().build();
             TcpRing net = new TcpRing(3, 1, 1 << 20)) {
            final ByteBuffer[] inputs = RingTestAccess.inputs(DataType.INT64, COUNT, 3, SEED);
            final ByteBuffer[] bufs = {RingTestAccess.copyOf(inputs[0]), null, RingTestAccess.copyOf(inputs[2])};
            // Rank 1 never starts: 0 and 2 wait until rank 1's connections close.
            final RingOperation op0 = engine.start(new RingOpContext(ring(3), 0, 5,
                    ReduceDescriptor.of(COUNT, DataType.INT64, ReduceOp.SUM), bufs[0], bufs[0], net.transports[0]));
            final RingOperation op2 = engine.start(new RingOpContext(ring(3), 2, 5,
                    ReduceDescriptor.of(COUNT, DataType.INT64, ReduceOp.SUM), bufs[2], bufs[2], net.transports[2]));
            RingTestAccess.awaitUntil(() -> op0.txBytes() > 0 && op2.txBytes() > 0, "ranks 0 and 2 sent step 0");
            final long killNs = System.nanoTime();
            net.kill(1);
            for (final RingOperation op : new RingOperation[] {op0, op2}) {
                final ExecutionException e = assertThrows(ExecutionException.class,
                        () -> op.future().get(1, TimeUnit.SECONDS));
                assertInstanceOf(PeerLostException.class, e.getCause());
            }
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killNs) < 1000);
            assertEquals(inputs[0], bufs[0].duplicate().clear());
            assertEquals(inputs[2], bufs[2].duplicate().clear());
            assertEquals(0, net.routers[0].registeredOperations());
            assertEquals(0, net.routers[2].registeredOperations());
        }
    }

    private static void runAndVerify(final RingAllReduce engine, final TcpRing net, final int w, final long seq,
                                     final boolean inPlace) throws Exception {
        final ByteBuffer[] inputs = RingTestAccess.inputs(DataType.FLOAT32, COUNT, w, SEED + seq);
        final ByteBuffer[] send = new ByteBuffer[w];
        final ByteBuffer[] recv = new ByteBuffer[w];
        final RingOperation[] ops = new RingOperation[w];
        for (int r = 0; r < w; r++) {
            send[r] = RingTestAccess.copyOf(inputs[r]);
            recv[r] = inPlace ? send[r] : ByteBuffer.allocateDirect(COUNT * 4).order(ByteOrder.LITTLE_ENDIAN);
            ops[r] = engine.start(new RingOpContext(ring(w), r, seq,
                    ReduceDescriptor.of(COUNT, DataType.FLOAT32, ReduceOp.SUM).tag(1), send[r], recv[r],
                    net.transports[r]));
        }
        final ByteBuffer expected = RingTestAccess.expected(DataType.FLOAT32, ReduceOp.SUM, inputs, COUNT);
        for (int r = 0; r < w; r++) {
            final ReduceInfo info = ops[r].future().get(30, TimeUnit.SECONDS);
            assertEquals(w, info.worldSize());
            assertTrue(info.txBytes() > 0 && info.rxBytes() > 0);
            assertEquals(expected, recv[r].duplicate().clear(), "rank " + r + (inPlace ? " in-place" : ""));
        }
    }

    private static long[] ring(final int w) {
        final long[] ids = new long[w];
        for (int i = 0; i < w; i++) {
            ids[i] = 1 + i;
        }
        return ids;
    }
}
