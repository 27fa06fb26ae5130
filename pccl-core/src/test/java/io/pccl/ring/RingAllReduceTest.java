package io.pccl.ring;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pccl.ring.internal.RingSchedule;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Ring all-reduce over the in-memory transport: the full dtype x op x W x count matrix against the ring-order
 * reference, concurrency, peer kill mid-operation with retry, stalled/dropping links, abort.
 *
 * <p>Runs on the test thread; engines are shared by the class.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RingAllReduceTest {
    private static final long SEED = 0x5eedL;
    private static final long BIG_COUNT = 203_530;
    private static RingAllReduce smallSlices;
    private static RingAllReduce bigSlices;
    private static long nextSeq = 1;

    @BeforeAll
    static void startEngines() {
        System.out.println("seed " + SEED);
        smallSlices = RingAllReduce.builder().sliceBytes(4096).threads(2).build();
        bigSlices = RingAllReduce.builder().sliceBytes(64 * 1024).threads(2).build();
    }

    @AfterAll
    static void stopEngines() {
        smallSlices.close();
        bigSlices.close();
    }

    static Stream<Arguments> typesAndOps() {
        final List<Arguments> args = new ArrayList<>();
        for (final DataType t : DataType.values()) {
            for (final ReduceOp op : ReduceOp.values()) {
                args.add(Arguments.of(t, op));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndOps")
    void shouldMatchRingOrderReferenceForEveryWorldSizeAndCount(final DataType type, final ReduceOp op)
            throws Exception {
        for (int w = 2; w <= 4; w++) {
            for (final long count : new long[] {0, 1, w - 1, 1025}) {
                runAndVerify(smallSlices, type, op, count, w, true);
                runAndVerify(smallSlices, type, op, count, w, false);
            }
            runAndVerify(bigSlices, type, op, BIG_COUNT, w, w % 2 == 0);
        }
    }

    @Test
    void shouldRunTwoAndSixteenConcurrentOperations() throws Exception {
        for (final int n : new int[] {2, 16}) {
            final int w = 3;
            final LocalRingNetwork net = new LocalRingNetwork(w, 4);
            final ByteBuffer[][] inputs = new ByteBuffer[n][];
            final ByteBuffer[][] recv = new ByteBuffer[n][w];
            final RingOperation[][] ops = new RingOperation[n][w];
            for (int k = 0; k < n; k++) {
                inputs[k] = RingReference.inputs(DataType.FLOAT32, 10_000 + k, w, SEED + k);
                final long seq = nextSeq++;
                for (int r = 0; r < w; r++) {
                    recv[k][r] = ByteBuffer.allocateDirect(inputs[k][r].capacity()).order(ByteOrder.LITTLE_ENDIAN);
                    ops[k][r] = smallSlices.start(new RingOpContext(ring(w), r, seq,
                            ReduceDescriptor.of(10_000 + k, DataType.FLOAT32, ReduceOp.SUM).tag(k),
                            inputs[k][r], recv[k][r], net.transport(r)));
                }
            }
            for (int k = 0; k < n; k++) {
                final ByteBuffer expected = RingReference.expected(DataType.FLOAT32, ReduceOp.SUM, inputs[k],
                        10_000 + k);
                for (int r = 0; r < w; r++) {
                    ops[k][r].future().get(30, TimeUnit.SECONDS);
                    assertEquals(expected, recv[k][r].duplicate().clear(), "op " + k + " rank " + r);
                }
            }
            assertClean(net, w);
        }
    }

    @Test
    void shouldFailEverySurvivorQuicklyRestoreInputAndSucceedOnRetryWhenPeerKilled() throws Exception {
        final int w = 4;
        final DataType type = DataType.FLOAT32;
        final ByteBuffer[] inputs = RingReference.inputs(type, BIG_COUNT, w, SEED);
        final ByteBuffer[] bufs = new ByteBuffer[w];
        final LocalRingNetwork net = new LocalRingNetwork(w, 2);
        final RingOperation[] ops = new RingOperation[w];
        // Stall rank 0's link so that the operation cannot finish before the kill.
        net.stall(0, true);
        final long seq = nextSeq++;
        for (int r = 0; r < w; r++) {
            bufs[r] = copyOf(inputs[r]);
            ops[r] = bigSlices.start(new RingOpContext(ring(w), r, seq,
                    ReduceDescriptor.of(BIG_COUNT, type, ReduceOp.SUM).tag(3), bufs[r], bufs[r], net.transport(r)));
        }
        awaitUntil(() -> ops[2].rxBytes() > 0 && ops[3].rxBytes() > 0, "ranks 2 and 3 received data");
        final long killNs = System.nanoTime();
        net.kill(2);
        for (final int r : new int[] {0, 1, 3}) {
            final Throwable cause = failureOf(ops[r], 1000);
            assertInstanceOf(PeerLostException.class, cause, "rank " + r);
            assertTrue(((PcclException) cause).isRetryable());
            assertEquals(inputs[r], bufs[r].duplicate().clear(), "rank " + r + " input restored");
        }
        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killNs);
        assertTrue(elapsedMs < 1000, "survivors failed after " + elapsedMs + " ms");
        net.close();

        // Retry on the survivors 0, 1, 3 with the restored buffers.
        final LocalRingNetwork retryNet = new LocalRingNetwork(3, 2);
        final ByteBuffer[] survivors = {bufs[0], bufs[1], bufs[3]};
        final ByteBuffer[] survivorInputs = {inputs[0], inputs[1], inputs[3]};
        final long retrySeq = nextSeq++;
        final RingOperation[] retry = new RingOperation[3];
        for (int r = 0; r < 3; r++) {
            retry[r] = bigSlices.start(new RingOpContext(new long[] {100, 101, 103}, r, retrySeq,
                    ReduceDescriptor.of(BIG_COUNT, type, ReduceOp.SUM).tag(3), survivors[r], survivors[r],
                    retryNet.transport(r)));
        }
        final ByteBuffer expected = RingReference.expected(type, ReduceOp.SUM, survivorInputs, BIG_COUNT);
        for (int r = 0; r < 3; r++) {
            assertEquals(3, retry[r].future().get(30, TimeUnit.SECONDS).worldSize());
            assertEquals(expected, survivors[r].duplicate().clear(), "retry rank " + r);
        }
        assertClean(retryNet, 3);
    }

    @Test
    void shouldFailWithProgressTimeoutWhenLinkStalledOrDropping() throws Exception {
        try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(4096)
                .progressTimeout(Duration.ofMillis(300)).build()) {
            for (final boolean dropInsteadOfStall : new boolean[] {false, true}) {
                final int w = 3;
                final LocalRingNetwork net = new LocalRingNetwork(w, 1);
                if (dropInsteadOfStall) {
                    net.drop(1, true);
                } else {
                    net.stall(0, true);
                }
                final ByteBuffer[] inputs = RingReference.inputs(DataType.INT32, 50_000, w, SEED);
                final ByteBuffer[] bufs = new ByteBuffer[w];
                final RingOperation[] ops = new RingOperation[w];
                final long seq = nextSeq++;
                for (int r = 0; r < w; r++) {
                    bufs[r] = copyOf(inputs[r]);
                    ops[r] = engine.start(new RingOpContext(ring(w), r, seq,
                            ReduceDescriptor.of(50_000, DataType.INT32, ReduceOp.SUM), bufs[r], bufs[r],
                            net.transport(r)));
                }
                boolean sawTimeout = false;
                for (int r = 0; r < w; r++) {
                    final Throwable cause = failureOf(ops[r], 5000);
                    assertInstanceOf(PeerLostException.class, cause, "rank " + r);
                    sawTimeout |= cause.getMessage().contains("made no progress");
                    assertEquals(inputs[r], bufs[r].duplicate().clear(), "rank " + r + " input restored");
                }
                assertTrue(sawTimeout, "at least one rank reports the progress timeout");
                if (dropInsteadOfStall) {
                    assertTrue(net.droppedFrames() > 0);
                } else {
                    net.stall(0, false);
                }
                assertClean(net, w);
            }
        }
    }

    @Test
    void shouldAbortOnRequestAndRestoreInput() throws Exception {
        final int w = 2;
        final LocalRingNetwork net = new LocalRingNetwork(w, 1);
        final ByteBuffer[] inputs = RingReference.inputs(DataType.FLOAT64, 1000, w, SEED);
        final ByteBuffer buf = copyOf(inputs[0]);
        // Only rank 0 starts: it waits for its predecessor forever unless aborted.
        final RingOperation op = smallSlices.start(new RingOpContext(ring(w), 0, nextSeq++,
                ReduceDescriptor.of(1000, DataType.FLOAT64, ReduceOp.MAX), buf, buf, net.transport(0)));
        op.abort(new PeerLostException("master aborted the collective"));
        final Throwable cause = failureOf(op, 5000);
        assertEquals("master aborted the collective", cause.getMessage());
        assertEquals(inputs[0], buf.duplicate().clear());
        net.close();
    }

    @Test
    void shouldFailRunningOperationsWithClosedAndRestoreInputWhenEngineCloses() throws Exception {
        final LocalRingNetwork net = new LocalRingNetwork(2, 1);
        final ByteBuffer[] inputs = RingReference.inputs(DataType.UINT16, 5000, 2, SEED);
        final ByteBuffer buf = copyOf(inputs[0]);
        final RingOperation op;
        try (RingAllReduce engine = RingAllReduce.builder().build()) {
            op = engine.start(new RingOpContext(ring(2), 0, nextSeq++,
                    ReduceDescriptor.of(5000, DataType.UINT16, ReduceOp.MIN), buf, buf, net.transport(0)));
            assertEquals(1, engine.runningOperations());
        }
        final Throwable cause = failureOf(op, 5000);
        assertEquals(PcclException.Code.CLOSED, ((PcclException) cause).code());
        assertEquals(inputs[0], buf.duplicate().clear());
        net.close();
    }

    @Test
    void shouldInteroperateWhenPeersUseDifferentSliceSizes() throws Exception {
        try (RingAllReduce odd = RingAllReduce.builder().sliceBytes(1000).build()) {
            final RingAllReduce[] engines = {smallSlices, odd, bigSlices};
            final int w = 3;
            final long count = 100_003;
            final ByteBuffer[] inputs = RingReference.inputs(DataType.FLOAT64, count, w, SEED);
            final LocalRingNetwork net = new LocalRingNetwork(w, 1);
            final ByteBuffer[] bufs = new ByteBuffer[w];
            final RingOperation[] ops = new RingOperation[w];
            final long seq = nextSeq++;
            for (int r = 0; r < w; r++) {
                bufs[r] = copyOf(inputs[r]);
                ops[r] = engines[r].start(new RingOpContext(ring(w), r, seq,
                        ReduceDescriptor.of(count, DataType.FLOAT64, ReduceOp.AVG), bufs[r], bufs[r],
                        net.transport(r)));
            }
            final ByteBuffer expected = RingReference.expected(DataType.FLOAT64, ReduceOp.AVG, inputs, count);
            for (int r = 0; r < w; r++) {
                ops[r].future().get(30, TimeUnit.SECONDS);
                assertEquals(expected, bufs[r].duplicate().clear(), "rank " + r);
            }
            assertClean(net, w);
        }
    }

    @Test
    void shouldFailWithProtocolViolationOnFrameOffTheSchedule() throws Exception {
        final LocalRingNetwork net = new LocalRingNetwork(2, 1);
        final ByteBuffer[] inputs = RingReference.inputs(DataType.INT32, 100, 2, SEED);
        final long seq = nextSeq++;
        final RingOperation op = smallSlices.start(new RingOpContext(ring(2), 0, seq,
                ReduceDescriptor.of(100, DataType.INT32, ReduceOp.SUM).tag(9), inputs[0], copyOf(inputs[0]),
                net.transport(0)));
        // Rank 0 expects step 0, chunk 1, offset 0 first; send offset 8 instead.
        final ByteBuf frame = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(frame, seq, 9, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 1, 8, 8);
        frame.writeLongLE(0);
        net.transport(0).inbound().onFrame(frame);
        final Throwable cause = failureOf(op, 5000);
        assertEquals(PcclException.Code.PROTOCOL_VIOLATION, ((PcclException) cause).code());
        assertTrue(cause.getMessage().contains("offset 8") && cause.getMessage().contains("offset 0"),
                cause.getMessage());
        net.close();
    }

    /**
     * A second connection claiming the predecessor (buggy or hostile) sends the frame another connection is reading
     * straight into {@code recv}. That frame matches the receive position (the placed one has not arrived), so without
     * a check it would be folded into memory the other connection is still writing. The operation must fail instead,
     * and complete only once the placing connection acknowledged that it stopped writing.
     */
    @Test
    void shouldFailWhenASecondConnectionSendsTheFrameBeingPlaced() throws Exception {
        final LocalRingNetwork net = new LocalRingNetwork(2, 1);
        final ByteBuffer[] inputs = RingReference.inputs(DataType.INT32, 100, 2, SEED);
        final ByteBuffer recv = ByteBuffer.allocateDirect(400).order(ByteOrder.LITTLE_ENDIAN);
        final long seq = nextSeq++;
        final RingOperation op = smallSlices.start(new RingOpContext(ring(2), 0, seq,
                ReduceDescriptor.of(100, DataType.INT32, ReduceOp.SUM).tag(9), inputs[0], recv, net.transport(0)));
        final InboundRouter router = net.transport(0).inbound();
        // Connection A: the next frame of the schedule (step 0, chunk 1, offset 0) is granted a place in recv.
        final ByteBuf header = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(header, seq, 9, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 1, 0, 8);
        final Queue<Runnable> writerA = new ConcurrentLinkedQueue<>();
        final Placement grant = awaitPlacement(router, header, writerA);
        header.release();
        // Connection B: the same frame, buffered.
        final ByteBuf frame = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(frame, seq, 9, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, 1, 0, 8);
        frame.writeLongLE(0);
        router.onFrame(frame);
        awaitUntil(() -> !writerA.isEmpty(), "the operation failed and cancelled connection A's grant");
        assertTrue(grant.isCancelled());
        assertFalse(op.future().isDone(), "completed while connection A may still write into recv");
        writerA.poll().run();
        final Throwable cause = failureOf(op, 5000);
        assertEquals(PcclException.Code.PROTOCOL_VIOLATION, ((PcclException) cause).code());
        assertTrue(cause.getMessage().contains("more than one connection"), cause.getMessage());
        grant.target().release();
        net.close();
    }

    /** The engine registers the operation with the router on its own thread: retry the grant until it is there. */
    private static Placement awaitPlacement(final InboundRouter router, final ByteBuf header,
                                            final Queue<Runnable> writer) {
        final Placement[] grant = new Placement[1];
        awaitUntil(() -> (grant[0] = router.place(header, writer::add)) != null, "a placement for the operation");
        return grant[0];
    }

    // ---------------------------------------------------------------------------------------------------------

    private static void runAndVerify(final RingAllReduce engine, final DataType type, final ReduceOp op,
                                     final long count, final int w, final boolean inPlace) throws Exception {
        final long seed = SEED ^ (type.ordinal() * 31L + op.ordinal()) ^ (count << 8) ^ w;
        final ByteBuffer[] inputs = RingReference.inputs(type, count, w, seed);
        final LocalRingNetwork net = new LocalRingNetwork(w, 2);
        final ByteBuffer[] send = new ByteBuffer[w];
        final ByteBuffer[] recv = new ByteBuffer[w];
        final RingOperation[] ops = new RingOperation[w];
        final int bytes = (int) (count * type.sizeBytes());
        final long seq = nextSeq++;
        for (int r = 0; r < w; r++) {
            send[r] = copyOf(inputs[r]);
            if (inPlace) {
                recv[r] = send[r];
            } else {
                // Operand at a nonzero position, in a buffer of the other kind.
                final ByteBuffer b = send[r].isDirect() ? ByteBuffer.allocate(bytes + 24)
                        : ByteBuffer.allocateDirect(bytes + 24);
                recv[r] = b.order(ByteOrder.LITTLE_ENDIAN).position(24);
            }
            ops[r] = engine.start(new RingOpContext(ring(w), r, seq,
                    ReduceDescriptor.of(count, type, op).tag(type.ordinal()), send[r], recv[r], net.transport(r)));
        }
        final ByteBuffer expected = RingReference.expected(type, op, inputs, count);
        final String what = type + " " + op + " W=" + w + " count=" + count + (inPlace ? " in-place" : "");
        ByteBuffer first = null;
        for (int r = 0; r < w; r++) {
            final ReduceInfo info = ops[r].future().get(30, TimeUnit.SECONDS);
            assertEquals(w, info.worldSize(), what);
            final long expectedTx = expectedTxBytes(count, type.sizeBytes(), w, r);
            assertEquals(expectedTx, info.txBytes(), what + " tx rank " + r);
            final ByteBuffer out = recv[r].duplicate().order(ByteOrder.LITTLE_ENDIAN);
            out.position(inPlace ? 0 : 24).limit(out.position() + bytes);
            if (first == null) {
                first = out;
            }
            assertEquals(first, out, what + ": rank " + r + " not bit-identical to rank 0");
            assertEquals(expected, out, what + ": rank " + r + " differs from the ring-order reference");
            if (!inPlace) {
                assertEquals(inputs[r], send[r].duplicate().clear(), what + ": send buffer modified");
            }
        }
        if (type == DataType.FLOAT32 && op == ReduceOp.SUM) {
            assertCloseToDoubleSum(inputs, first, count);
        }
        assertClean(net, w);
    }

    private static void assertCloseToDoubleSum(final ByteBuffer[] inputs, final ByteBuffer out, final long count) {
        for (int i = 0; i < count; i++) {
            double sum = 0;
            double abs = 0;
            for (final ByteBuffer in : inputs) {
                final float v = in.getFloat(i * 4);
                sum += v;
                abs += Math.abs(v);
            }
            final float got = out.getFloat(out.position() + i * 4);
            assertTrue(Math.abs(got - sum) <= 1e-5 * abs, "element " + i + ": " + got + " vs " + sum);
        }
    }

    private static long expectedTxBytes(final long count, final int size, final int w, final int rank) {
        long tx = 0;
        for (int t = 0; t < 2 * (w - 1); t++) {
            tx += RingSchedule.chunkElements(count, w, Math.floorMod(rank - t, w)) * size;
        }
        return tx;
    }

    static void assertClean(final LocalRingNetwork net, final int w) {
        for (int r = 0; r < w; r++) {
            assertEquals(0, net.transport(r).inbound().registeredOperations(), "rank " + r + " registrations");
        }
        net.close();
    }

    static long[] ring(final int w) {
        final long[] ids = new long[w];
        for (int i = 0; i < w; i++) {
            ids[i] = 100 + i;
        }
        return ids;
    }

    static ByteBuffer copyOf(final ByteBuffer src) {
        final ByteBuffer b = (src.isDirect() ? ByteBuffer.allocateDirect(src.capacity())
                : ByteBuffer.allocate(src.capacity())).order(ByteOrder.LITTLE_ENDIAN);
        b.put(src.duplicate().clear()).clear();
        return b;
    }

    static Throwable failureOf(final RingOperation op, final long timeoutMs) throws InterruptedException {
        try {
            op.future().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (final ExecutionException e) {
            return e.getCause();
        } catch (final TimeoutException e) {
            fail("operation seq " + op.seq() + " did not fail within " + timeoutMs + " ms");
        }
        fail("operation seq " + op.seq() + " succeeded, expected a failure");
        return null;
    }

    static void awaitUntil(final BooleanSupplier condition, final String what) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.onSpinWait();
        }
    }
}
